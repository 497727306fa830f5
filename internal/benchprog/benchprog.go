// Package benchprog holds the programs of the engine benchmarks
// (userspacevm's BenchmarkInterp and BenchmarkNative, jit's
// BenchmarkEngine), each beside a native Go function doing the same work,
// called through a func value as a runner is, so that every engine is
// measured against one baseline.
package benchprog

import (
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

const (
	Keys    = 1024 // map-count cycles over this many keys: the caller writes i%Keys at ctx[0]
	CtxSize = 64   // the context every case reads
)

// Case is one benchmark: a program and a native Go function doing the
// same work over the same context bytes.
type Case struct {
	Name string
	// Prog builds the program (verify it with ContextSize: CtxSize).
	Prog func() *program.Program
	// Native returns a fresh native function (map-count keeps its map).
	Native func() func(ctx []byte) uint64
}

// Cases are ctx-read, loop1000 and map-count.
var Cases = []Case{
	{"ctx-read", ctxReadProg, func() func([]byte) uint64 { return nativeCtxRead }},
	{"loop1000", loop1000Prog, func() func([]byte) uint64 { return nativeLoop1000 }},
	{"map-count", mapCountProg, newNativeMapCount},
}

// ctx-read: r0 = *(u64 *)(r1 + 16); exit
func ctxReadProg() *program.Program {
	return &program.Program{Name: "ctx_read", Type: program.Tracepoint, License: "GPL", Insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord),
		asm.Return(),
	}}
}

//go:noinline
func nativeCtxRead(ctx []byte) uint64 { return binary.LittleEndian.Uint64(ctx[16:]) }

// loop1000: r0 += r2; r0 ^= r3; r2 += 1 while r2 < 1000, r3 = ctx[16].
func loop1000Prog() *program.Program {
	return &program.Program{Name: "loop1000", Type: program.Tracepoint, License: "GPL", Insns: asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Imm(asm.R2, 0),
		asm.LoadMem(asm.R3, asm.R1, 16, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R2).WithSymbol("loop"),
		asm.Xor.Reg(asm.R0, asm.R3),
		asm.Add.Imm(asm.R2, 1),
		asm.JLT.Imm(asm.R2, 1000, "loop"),
		asm.Return(),
	}}
}

//go:noinline
func nativeLoop1000(ctx []byte) uint64 {
	r0, r3 := uint64(0), binary.LittleEndian.Uint64(ctx[16:])
	for r2 := uint64(0); r2 < 1000; r2++ {
		r0 += r2
		r0 ^= r3
	}
	return r0
}

// map-count: count ctx[0] (a u64) in a hash map, adding 1 through the
// looked-up pointer when the key is there and inserting 1 when not. It is
// a raw tracepoint, not a tracepoint as in userspacevm's benchmarks: the
// verifier keeps tracepoints out of their first 8 bytes (the record's
// common fields), while a raw tracepoint's context is its u64 arguments.
func mapCountProg() *program.Program {
	return &program.Program{
		Name: "map_count", Type: program.RawTracepoint, License: "GPL",
		Maps: []*program.MapSpec{{Name: "counts", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 2 * Keys}},
		Insns: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.DWord),
			asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
			asm.LoadMapPtr(asm.R1, 0),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "update"),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
			asm.StoreImm(asm.RFP, -16, 1, asm.Word).WithSymbol("update"),
			asm.StoreImm(asm.RFP, -12, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, 0),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, -16),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	}
}

func newNativeMapCount() func(ctx []byte) uint64 {
	counts := make(map[uint64]*uint64)
	return func(ctx []byte) uint64 { return nativeMapCount(counts, ctx) }
}

//go:noinline
func nativeMapCount(counts map[uint64]*uint64, ctx []byte) uint64 {
	key := binary.LittleEndian.Uint64(ctx)
	if p := counts[key]; p != nil {
		atomic.AddUint64(p, 1)
		return 0
	}
	v := uint64(1)
	counts[key] = &v
	return 0
}

// BenchNative runs c's native function as a benchmark (through a func
// value, with the key written at ctx[0] each run, as engines are run) and
// returns its ns/op: the baseline the engines' ratios use.
func BenchNative(b *testing.B, c Case) float64 {
	ctx := Context()
	fn := c.Native()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(ctx, uint64(i%Keys))
		fn(ctx)
	}
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// Context is the record every case reads: 0x5a5a at offset 16; the caller
// writes the key at offset 0 before each run.
func Context() []byte {
	ctx := make([]byte, CtxSize)
	binary.LittleEndian.PutUint64(ctx[16:], 0x5a5a)
	return ctx
}
