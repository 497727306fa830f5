package jit_test

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/dropmon/dropmon/internal/benchprog"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// The programs are internal/benchprog's, shared with userspacevm's
// BenchmarkInterp and BenchmarkNative. BenchmarkEngine runs all three
// engines in one process so that the ratios compare like with like.

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
		for _, c := range benchprog.Cases {
			b.Run(c.Name, func(b *testing.B) { benchNative(b, c) })
		}
	})
	for _, e := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
		b.Run(e.Name(), func(b *testing.B) {
			for _, c := range benchprog.Cases {
				b.Run(c.Name, func(b *testing.B) { benchEngine(b, e, c) })
			}
		})
	}
}

func benchNative(b *testing.B, c benchprog.Case) {
	recordNative(c.Name, benchprog.BenchNative(b, c))
}

func benchEngine(b *testing.B, e userspacevm.Engine, c benchprog.Case) {
	r, closeAll := loadBench(b, e, c.Prog())
	defer closeAll()
	ctx := benchprog.Context()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.LittleEndian.PutUint64(ctx, uint64(i%benchprog.Keys))
		if _, err := r.Run(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
	if native, ok := nativeMedian(c.Name); ok {
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(ns/native, "x-native")
	}
}

// loadBench verifies prog as a tracepoint with the benchmark's context
// size and loads it into e. It skips when the engine cannot run here (the
// JIT off amd64).
func loadBench(tb testing.TB, e userspacevm.Engine, prog *program.Program) (userspacevm.Runner, func()) {
	tb.Helper()
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: benchprog.CtxSize})
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
