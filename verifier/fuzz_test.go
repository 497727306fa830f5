package verifier

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

var fuzzTypes = []program.Type{program.SocketFilter, program.Kprobe, program.SchedCLS, program.Tracepoint,
	program.XDP, program.PerfEvent, program.CgroupSKB, program.RawTracepoint}

// fuzzMaps are the maps a fuzzed program may load, by index.
var fuzzMaps = []*program.MapSpec{
	{Name: "hash", Type: 1, KeySize: 4, ValueSize: 8, MaxEntries: 16},
	{Name: "array", Type: 2, KeySize: 4, ValueSize: 16, MaxEntries: 4},
	{Name: "progs", Type: 3, KeySize: 4, ValueSize: 4, MaxEntries: 4},
	{Name: "events", Type: 4, KeySize: 4, ValueSize: 4},
	{Name: "ring", Type: 27, MaxEntries: 4096},
	{Name: "outer", Type: 12, KeySize: 4, ValueSize: 4, MaxEntries: 2,
		InnerMap: &program.MapSpec{Name: "inner", Type: 2, KeySize: 4, ValueSize: 8, MaxEntries: 2}},
}

func encode(tb testing.TB, insns asm.Instructions) []byte {
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzVerify feeds random instruction streams to the verifier: it must
// neither panic (an Internal error) nor run long, whatever it decides.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), encode(f, boundedLoop(100).Insns))
	f.Add(uint8(4), encode(f, cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 14), asm.JGT.Reg(asm.R4, asm.R3, "out"),
		asm.LoadMem(asm.R0, asm.R2, 12, asm.Half), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())))
	f.Add(uint8(1), encode(f, cat(lookupMap, asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R1, asm.R0, 4, asm.Word),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.Word), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())))
	f.Add(uint8(2), encode(f, cat(asm.Mov.Imm(asm.R1, 3), asm.Call.Label("f"), asm.Return(),
		asm.Mov.Reg(asm.R0, asm.R1).WithSymbol("f"), asm.Return())))
	f.Fuzz(func(t *testing.T, typ uint8, code []byte) {
		raw, err := program.FromBytes(code)
		if err != nil {
			return
		}
		p := &program.Program{Type: fuzzTypes[int(typ)%len(fuzzTypes)], Insns: raw, Maps: fuzzMaps, License: "GPL"}
		start := time.Now()
		_, err = Verify(p, &Options{MaxProcessed: 20_000, Unprivileged: typ&0x80 != 0})
		var verr *Error
		if errors.As(err, &verr) && verr.Internal {
			t.Fatalf("internal error: %+v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("verification took %v", d)
		}
	})
}
