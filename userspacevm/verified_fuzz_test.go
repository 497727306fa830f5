package userspacevm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/verifier"
)

// validOpcodes lists the opcode bytes program.Decode accepts in some
// simple form, so that shaped fuzz input is mostly valid.
var validOpcodes = sync.OnceValue(func() []uint8 {
	var ops []uint8
	for op := 0; op < 256; op++ {
		if op == 0x18 || op == 0x85 {
			continue // LDDW and calls are shaped on their own
		}
	try:
		for _, src := range []uint8{0, 2} {
			for _, imm := range []int32{0, 1, 16} {
				for _, off := range []int16{0, -8} {
					slot := make([]byte, 16)
					slot[0], slot[1] = uint8(op), 1|src<<4
					binary.LittleEndian.PutUint16(slot[2:], uint16(off))
					binary.LittleEndian.PutUint32(slot[4:], uint32(imm))
					slot[8] = 0x95
					if raw, err := program.FromBytes(slot); err == nil {
						if _, err := program.Decode(raw); err == nil {
							ops = append(ops, uint8(op))
							break try
						}
					}
				}
			}
		}
	}
	return ops
})

// prologue gives every register a value and the stack some initialised
// bytes, so that shaped programs get past "!read_ok".
var prologue = func() []byte {
	var buf bytes.Buffer
	err := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -16),
		asm.Mov.Imm(asm.R3, 8), asm.Mov.Imm(asm.R4, 0), asm.Mov.Imm(asm.R5, 1), asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Reg(asm.R7, asm.RFP), asm.Add.Imm(asm.R7, -8), asm.Mov.Imm(asm.R8, 100), asm.Mov.Imm(asm.R9, -1),
		stDW(asm.RFP, -8), stDW(asm.RFP, -16)}.Marshal(&buf, binary.LittleEndian)
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}()

var fuzzHelpers = []int32{1, 2, 3, 5, 6, 7, 8, 12, 14, 16, 25, 131, 132, 133}

// shape turns fuzz bytes into a mostly valid program: 8 bytes per
// instruction, opcodes from validOpcodes, registers in range, jumps kept
// inside the program, helpers and maps from short lists.
func shape(data []byte) []byte {
	ops := validOpcodes()
	n := min(len(data)/8, 48)
	out := append(make([]byte, 0, 8*(n+20)), prologue...)
	for i := 0; i < n; i++ {
		c := data[8*i : 8*i+8]
		op := ops[int(c[0])%len(ops)]
		dst, src := (c[1]&0xf)%11, (c[1]>>4)%11
		off := int16(int8(c[2]))
		imm := int32(int8(c[3]))
		if c[4]&1 != 0 {
			imm = int32(binary.LittleEndian.Uint32(c[4:]))
		}
		switch {
		case c[0] >= 250: // a map load: two slots
			out = append(out, 0x18, dst%10|(1+c[2]%2)<<4, 0, 0, c[3]%uint8(len(soundMaps)), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
			if c[2]%2 == 1 {
				out[len(out)-12] = 0 // map index 0 (the hash) has no direct value access: use the array
				out[len(out)-12] = 1
			}
			continue
		case c[0] >= 240:
			op, src, dst, off, imm = 0x85, 0, 0, 0, fuzzHelpers[int(c[3])%len(fuzzHelpers)]
		case op&7 == 5 || op&7 == 6: // jumps: mostly forward, inside the program
			if op != 0x95 {
				rest := int16(n - i)
				off = int16(c[2]) % (rest + 1)
				if c[5]&7 == 0 {
					off = -int16(c[2] % 4)
				}
				if op == 0x06 { // ja32 takes its target from imm
					imm, off = int32(off), 0
				}
			}
		}
		dst, src, off, imm = fixFields(op, dst, src, off, imm, c)
		slot := []byte{op, dst | src<<4, 0, 0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint16(slot[2:], uint16(off))
		binary.LittleEndian.PutUint32(slot[4:], uint32(imm))
		out = append(out, slot...)
	}
	return append(out, 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0)
}

// soundMaps are the maps of FuzzVerifySound's programs.
var soundMaps = []*program.MapSpec{
	{Name: "hash", Type: 1, KeySize: 4, ValueSize: 8, MaxEntries: 16},
	{Name: "array", Type: 2, KeySize: 4, ValueSize: 16, MaxEntries: 4},
}

// Seeds: a bounded loop, and a lookup with a key on the stack.
var (
	soundSeedLoop = asm.Instructions{
		asm.Mov.Imm(asm.R1, 0),
		asm.Add.Imm(asm.R1, 1).WithSymbol("loop"),
		asm.JLT.Imm(asm.R1, 4, "loop"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	soundSeedLookup = asm.Instructions{
		asm.StoreImm(asm.RFP, -8, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
)

// stDW stores an immediate 0 as a double word (cilium's StoreImm cannot
// encode the DWord size).
func stDW(dst asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.StClass).SetMode(asm.MemMode).SetSize(asm.DWord), Dst: dst, Offset: off}
}

func encode(tb testing.TB, insns asm.Instructions) []byte {
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzVerifySound runs what the verifier accepts on the checked
// interpreter: a program proven safe must never make a memory access the
// interpreter refuses. It lives here, not in verifier, because engines
// import the verifier.
func FuzzVerifySound(f *testing.F) {
	f.Add([]byte{0xb7, 0x00, 0, 0, 0x2a, 0, 0, 0})
	f.Add([]byte("\x61\x21\x08\x00\x00\x00\x00\x00\x07\x02\x00\x00\x01\x00\x00\x00"))
	for _, seed := range [][]byte{encode(f, soundSeedLoop), encode(f, soundSeedLookup)} {
		f.Add(seed)
	}
	helpers := DefaultHelpers()
	delete(helpers, asm.FnTracePrintk)
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := program.FromBytes(shape(data))
		if err != nil {
			return
		}
		p := &program.Program{Type: program.Tracepoint, Insns: raw, Maps: soundMaps, License: "GPL"}
		const ctxSize = 64
		v, err := verifier.Verify(p, &verifier.Options{MaxProcessed: 50_000, ContextSize: ctxSize})
		var verr *verifier.Error
		if errors.As(err, &verr) && verr.Internal {
			t.Fatalf("internal error: %+v", err)
		}
		if err != nil {
			return
		}
		prep, err := PrepareVerified(v, &LoadOptions{Helpers: helpers})
		if err != nil {
			return
		}
		defer prep.Close()
		it, err := NewInterpreter(prep, &InterpOptions{MaxInsns: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		defer it.Close()
		ctx := make([]byte, ctxSize)
		for i := range ctx {
			ctx[i] = byte(i * 37)
		}
		_, err = it.Run(ctx, nil)
		var aerr *AccessError
		if errors.As(err, &aerr) || errors.Is(err, ErrMisaligned) {
			v, _ := verifier.Verify(p, &verifier.Options{ContextSize: ctxSize, LogLevel: 2})
			t.Fatalf("verified program faults: %v\nlog:\n%s", err, v.Log())
		}
	})
}

// fixFields zeroes what an opcode does not use, as Decode requires.
func fixFields(op, dst, src uint8, off int16, imm int32, c []byte) (uint8, uint8, int16, int32) {
	reg := op&8 != 0
	switch op & 7 {
	case 4, 7: // ALU, ALU64
		dst %= 10
		switch code := op & 0xf0; {
		case code == 0xd0:
			return dst, 0, 0, []int32{16, 32, 64}[c[3]%3]
		case code == 0x80:
			return dst, 0, 0, 0
		case code == 0xb0 && reg:
			if c[5]&3 == 0 && op&7 == 7 {
				return dst, src, []int16{8, 16, 32}[c[6]%3], 0
			}
			return dst, src, 0, 0
		case reg:
			return dst, src, 0, 0
		case code == 0x60 || code == 0x70 || code == 0xc0:
			return dst, 0, 0, imm & 31
		}
		return dst, 0, 0, imm
	case 5, 6:
		switch op {
		case 0x95:
			return 0, 0, 0, 0
		case 0x05:
			return 0, 0, off, 0
		case 0x06:
			return 0, 0, 0, imm
		}
		if reg {
			return dst, src, off, 0
		}
		return dst, 0, off, imm
	case 1:
		return dst % 10, src, off, 0
	case 2:
		return dst, 0, off, imm
	case 3:
		if op&0xe0 == 0xc0 {
			return dst, src, off, []int32{0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1}[c[3]%10]
		}
		return dst, src, off, 0
	case 0:
		if op&0xe0 == 0x20 {
			return 0, 0, 0, imm
		}
		return 0, src, 0, imm
	}
	return dst, src, off, imm
}
