package userspacevm

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/userspacevm/program"
)

// The benchmark programs, each with a native Go function over the same
// context bytes, called through a func value as a runner would be.
type benchCase struct {
	name   string
	prog   *program.Program
	native func(ctx []byte) uint64
}

const benchKeys = 1024

func benchCases() []benchCase {
	return []benchCase{
		{"ctx-read", ctxReadProg(), nativeCtxRead},
		{"loop1000", loop1000Prog(), nativeLoop1000},
		{"map-count", mapCountProg(), newNativeMapCount()},
	}
}

// ctx-read: r0 = *(u64 *)(r1 + 16); exit
func ctxReadProg() *program.Program {
	return &program.Program{Name: "ctx_read", Type: program.Tracepoint, Insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord),
		asm.Return(),
	}}
}

//go:noinline
func nativeCtxRead(ctx []byte) uint64 { return binary.LittleEndian.Uint64(ctx[16:]) }

// loop1000: r0 += r2; r0 ^= r3; r2 += 1 while r2 < 1000, r3 from the
// context: 4004 instructions.
func loop1000Prog() *program.Program {
	return &program.Program{Name: "loop1000", Type: program.Tracepoint, Insns: asm.Instructions{
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

// map-count: count the context's first u64 in a hash map, adding through
// the looked-up pointer when the key is there.
func mapCountProg() *program.Program {
	return &program.Program{
		Name: "map_count", Type: program.Tracepoint,
		Maps: []*program.MapSpec{{Name: "counts", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 2 * benchKeys}},
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

// nativeNsPerOp holds BenchmarkNative's results (it runs first), so that
// BenchmarkInterp can report its ratio to the baseline of the same run.
var nativeNsPerOp sync.Map

func runNative(b *testing.B, c benchCase) {
	ctx := make([]byte, 64)
	fn := c.native
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(ctx, uint64(i%benchKeys))
		fn(ctx)
	}
}

func BenchmarkNative(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			runNative(b, c)
			nativeNsPerOp.Store(c.name, float64(b.Elapsed().Nanoseconds())/float64(b.N))
		})
	}
}

func BenchmarkInterp(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			p, err := Prepare(c.prog, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			it, err := NewInterpreter(p, &InterpOptions{RunUnverified: true})
			if err != nil {
				b.Fatal(err)
			}
			defer it.Close()
			ctx := make([]byte, 64)
			binary.LittleEndian.PutUint64(ctx[16:], 0x5a5a)
			var insns uint64
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				binary.LittleEndian.PutUint64(ctx, uint64(i%benchKeys))
				if _, err := it.Run(ctx, nil); err != nil {
					b.Fatal(err)
				}
				insns += it.Executed()
			}
			ns := float64(b.Elapsed().Nanoseconds())
			b.ReportMetric(ns/float64(insns), "ns/insn")
			if native, ok := nativeNsPerOp.Load(c.name); ok {
				b.ReportMetric(ns/float64(b.N)/native.(float64), "x-native")
			}
		})
	}
}
