package userspacevm

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/dropmon/dropmon/internal/benchprog"
	"github.com/dropmon/dropmon/verifier"
)

// nativeNsPerOp holds BenchmarkNative's results (it runs first), so that
// BenchmarkInterp can report its ratio to the baseline of the same run.
var nativeNsPerOp sync.Map

// BenchmarkNative runs the plain Go versions of the benchmark programs
// (internal/benchprog), through a func value as a runner is called.
func BenchmarkNative(b *testing.B) {
	for _, c := range benchprog.Cases {
		b.Run(c.Name, func(b *testing.B) {
			nativeNsPerOp.Store(c.Name, benchprog.BenchNative(b, c))
		})
	}
}

// BenchmarkInterp runs the same programs, verified, on the interpreter and
// reports ns per executed instruction and the ratio to BenchmarkNative.
func BenchmarkInterp(b *testing.B) {
	for _, c := range benchprog.Cases {
		b.Run(c.Name, func(b *testing.B) {
			v, err := verifier.Verify(c.Prog(), &verifier.Options{ContextSize: benchprog.CtxSize})
			if err != nil {
				b.Fatalf("verify: %+v", err)
			}
			p, err := PrepareVerified(v, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			it, err := NewInterpreter(p, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer it.Close()
			ctx := benchprog.Context()
			var insns uint64
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				binary.LittleEndian.PutUint64(ctx, uint64(i%benchprog.Keys))
				if _, err := it.Run(ctx, nil); err != nil {
					b.Fatal(err)
				}
				insns += it.Executed()
			}
			ns := float64(b.Elapsed().Nanoseconds())
			b.ReportMetric(ns/float64(insns), "ns/insn")
			if native, ok := nativeNsPerOp.Load(c.Name); ok {
				b.ReportMetric(ns/float64(b.N)/native.(float64), "x-native")
			}
		})
	}
}
