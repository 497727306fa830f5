package jit_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/program"
	"github.com/dropmon/dropmon/verifier"
)

// The programs of userspacevm's BenchmarkInterp and BenchmarkNative, each
// with a native Go function over the same context bytes called through a
// func value, as a runner is called. BenchmarkEngine runs all three engines
// in one process so that the ratios compare like with like.

const (
	benchKeys    = 1024 // map-count cycles over this many keys
	benchCtxSize = 64
)

type benchCase struct {
	name   string
	prog   func() *program.Program
	native func() func(ctx []byte) uint64
}

var benchCases = []benchCase{
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

// nativeNs keeps every native ns/op measured in this process, by case, so
// that the engines' ratios use the median of the baseline runs before them
// (with -count N, N of them).
var nativeNs struct {
	sync.Mutex
	byCase map[string][]float64
}

func recordNative(name string, ns float64) {
	nativeNs.Lock()
	defer nativeNs.Unlock()
	if nativeNs.byCase == nil {
		nativeNs.byCase = make(map[string][]float64)
	}
	nativeNs.byCase[name] = append(nativeNs.byCase[name], ns)
}

func nativeMedian(name string) (float64, bool) {
	nativeNs.Lock()
	defer nativeNs.Unlock()
	s := slices.Clone(nativeNs.byCase[name])
	if len(s) == 0 {
		return 0, false
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// BenchmarkEngine measures each case natively, on the interpreter and on
// the JIT. The engines report x-native, their ns/op over the native median
// of the same process; go test -bench Engine -count 5 | benchstat gives
// the spread.
func BenchmarkEngine(b *testing.B) {
	b.Run("native", func(b *testing.B) {
		for _, c := range benchCases {
			b.Run(c.name, func(b *testing.B) { benchNative(b, c) })
		}
	})
	for _, e := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
		b.Run(e.Name(), func(b *testing.B) {
			for _, c := range benchCases {
				b.Run(c.name, func(b *testing.B) { benchEngine(b, e, c) })
			}
		})
	}
}

func benchNative(b *testing.B, c benchCase) {
	ctx := benchContext()
	fn := c.native()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(ctx, uint64(i%benchKeys))
		fn(ctx)
	}
	recordNative(c.name, float64(b.Elapsed().Nanoseconds())/float64(b.N))
}

func benchEngine(b *testing.B, e userspacevm.Engine, c benchCase) {
	r, closeAll := loadBench(b, e, c.prog())
	defer closeAll()
	ctx := benchContext()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(ctx, uint64(i%benchKeys))
		if _, err := r.Run(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	if native, ok := nativeMedian(c.name); ok {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns/native, "x-native")
	}
}

// benchContext is the record every case reads: 0x5a5a at offset 16, the
// key at offset 0 (set per iteration).
func benchContext() []byte {
	ctx := make([]byte, benchCtxSize)
	binary.LittleEndian.PutUint64(ctx[16:], 0x5a5a)
	return ctx
}

// loadBench verifies prog as a tracepoint with the benchmark's context
// size and loads it into e. It skips when the engine cannot run here (the
// JIT off amd64).
func loadBench(tb testing.TB, e userspacevm.Engine, prog *program.Program) (userspacevm.Runner, func()) {
	tb.Helper()
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: benchCtxSize})
	if err != nil {
		tb.Fatalf("verify %s: %+v", prog.Name, err)
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		tb.Fatalf("prepare %s: %v", prog.Name, err)
	}
	r, err := e.Load(p)
	if errors.Is(err, jit.ErrNotSupported) {
		p.Close()
		tb.Skipf("%s: %v", e.Name(), err)
	}
	if err != nil {
		p.Close()
		tb.Fatalf("load %s on %s: %v", prog.Name, e.Name(), err)
	}
	return r, func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	}
}
