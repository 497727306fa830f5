package jit_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// FuzzJITvsInterp is the differential test STYLE.md asks for: fuzz bytes
// are shaped into a program (shapeProgram), and whatever the verifier
// accepts in unprivileged mode, so that no pointer can reach R0 or a map,
// runs on the interpreter and on the JIT, each with its own maps, over the
// same context bytes. R0, the error and the final contents of both maps
// must be the same. The seed corpus is in testdata/fuzz/FuzzJITvsInterp.
func FuzzJITvsInterp(f *testing.F) {
	requireJIT(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := diffEngines(t, shapeProgram(data)); err != nil && !errors.Is(err, errRejected) {
			t.Fatal(err)
		}
	})
}

// TestJITvsInterpRandom runs the differential check on programs shaped
// from pseudo-random bytes, so that plain go test covers more than the
// seeds. It also says how many of them the verifier accepted.
func TestJITvsInterpRandom(t *testing.T) {
	requireJIT(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2000
	if testing.Short() {
		n = 200
	}
	ran := 0
	for i := range n {
		data := make([]byte, 8*(1+rng.IntN(maxChunks))+rng.IntN(8))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		err := diffEngines(t, shapeProgram(data))
		if errors.Is(err, errRejected) {
			continue
		}
		if err != nil {
			t.Fatalf("program %d (input %s): %v", i, hex.EncodeToString(data), err)
		}
		ran++
	}
	t.Logf("%d of %d shaped programs verified and ran on both engines", ran, n)
}

// errRejected is diffEngines saying the program was refused before it
// could run.
var errRejected = errors.New("rejected")

const fuzzCtxSize = 64

var fuzzMaps = []*program.MapSpec{
	{Name: "hash", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 16},
	{Name: "array", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 4},
}

// fuzzHelpers are the helpers shaped programs call: the map helpers, and
// the time, random and CPU helpers made deterministic so that both engines
// see the same values.
func fuzzHelpers() userspacevm.Helpers {
	h := userspacevm.DefaultHelpers()
	keep := []asm.BuiltinFunc{asm.FnMapLookupElem, asm.FnMapUpdateElem, asm.FnMapDeleteElem,
		asm.FnKtimeGetNs, asm.FnGetPrandomU32, asm.FnGetSmpProcessorId}
	for id := range h {
		if !slices.Contains(keep, id) {
			delete(h, id)
		}
	}
	h[asm.FnKtimeGetNs] = func(*userspacevm.Call, uint64, uint64, uint64, uint64, uint64) uint64 {
		return 0x1234_5678_9abc
	}
	h[asm.FnGetPrandomU32] = func(*userspacevm.Call, uint64, uint64, uint64, uint64, uint64) uint64 {
		return 0x8765_4321
	}
	return h
}

// diffEngines verifies prog and compares the two engines on it: nil if
// they agree, errRejected if the verifier refused it or Prepare refused
// it as not supported.
func diffEngines(t *testing.T, prog *program.Program) error {
	t.Helper()
	v, err := verifier.Verify(prog, &verifier.Options{Unprivileged: true, ContextSize: fuzzCtxSize, MaxProcessed: 100_000})
	var verr *verifier.Error
	if errors.As(err, &verr) && verr.Internal {
		return fmt.Errorf("verifier internal error: %+v", err)
	}
	if err != nil {
		return errRejected
	}
	// Twice: with the verifier's per-call maps, so that lookups are
	// specialised for their map, and without, so that they take the
	// generic lookup that finds the map's type at run time.
	for _, v := range []*verifier.Verified{v, v.WithoutCallMaps()} {
		if err := diffRuns(t, prog, v); err != nil {
			return err
		}
	}
	return nil
}

// diffRuns runs v on the interpreter and the JIT, each with maps of its
// own, over three records, and compares R0, errors and the maps.
func diffRuns(t *testing.T, prog *program.Program, v *verifier.Verified) error {
	interp, err := startEngine(userspacevm.Interp{}, v)
	if errors.Is(err, userspacevm.ErrNotSupported) {
		return errRejected // a verified program the engines cannot run
	}
	if err != nil {
		return err
	}
	defer interp.close(t)
	jitted, err := startEngine(jit.Engine{}, v)
	if err != nil {
		return err
	}
	defer jitted.close(t)
	batched, err := startEngine(jit.Engine{}, v)
	if err != nil {
		return err
	}
	defer batched.close(t)
	var items []userspacevm.BatchItem
	var r0s []uint64
	var firstErr error
	rc := userspacevm.RunContext{CPU: 1, Pid: 42, Tid: 43, Time: 1000, TimeIsMonotonic: true}
	for run := range 3 {
		ctx := fuzzContext(run)
		if interp.p.SkBuff {
			// The record is the packet; the context an __sk_buff.
			var skb skbuff.Context
			skb.Set(&skbuff.Fields{Len: uint32(len(ctx)), Protocol: 0x0800, Ifindex: 7, Hash: uint32(run)})
			rc.Packet, ctx = ctx, skb.Bytes()
		}
		jitCtx := slices.Clone(ctx) // before the interpreter writes cb[]
		items = append(items, userspacevm.BatchItem{Ctx: slices.Clone(ctx), Packet: rc.Packet})
		r0i, erri := interp.r.Run(ctx, &rc)
		r0j, errj := jitted.r.Run(jitCtx, &rc)
		r0s = append(r0s, r0i)
		if erri != nil && firstErr == nil {
			firstErr = erri
		}
		if r0i != r0j || fmt.Sprint(erri) != fmt.Sprint(errj) {
			return fmt.Errorf("run %d (call maps %v): interp r0 %#x err %v, jit r0 %#x err %v\n%v", run, v.CallMaps() != nil, r0i, erri, r0j, errj, prog.Insns)
		}
		if mi, mj := interp.mapContents(), jitted.mapContents(); mi != mj {
			return fmt.Errorf("run %d (call maps %v): maps differ\ninterp:\n%s\njit:\n%s\n%v", run, v.CallMaps() != nil, mi, mj, prog.Insns)
		}
	}
	return diffBatch(batched, items, r0s, firstErr, interp.mapContents(), &rc, prog)
}

// diffBatch runs the three records as one batch on the JIT (RunBatch) and
// compares with the interpreter's runs one by one: each R0, the first
// error and where it stopped, and the maps when every run succeeded.
func diffBatch(batched *loaded, items []userspacevm.BatchItem, r0s []uint64, firstErr error, interpMaps string, rc *userspacevm.RunContext, prog *program.Program) error {
	n, err := userspacevm.RunBatch(batched.r, items, rc)
	if fmt.Sprint(err) != fmt.Sprint(firstErr) {
		return fmt.Errorf("batch: error %v after %d runs, interp's first error %v\n%v", err, n, firstErr, prog.Insns)
	}
	for i := range n {
		if items[i].R0 != r0s[i] {
			return fmt.Errorf("batch item %d: r0 %#x, interp %#x\n%v", i, items[i].R0, r0s[i], prog.Insns)
		}
	}
	if err == nil {
		if n != len(items) {
			return fmt.Errorf("batch ran %d of %d items without an error", n, len(items))
		}
		if mb := batched.mapContents(); mb != interpMaps {
			return fmt.Errorf("batch: maps differ\ninterp:\n%s\nbatch:\n%s\n%v", interpMaps, mb, prog.Insns)
		}
	}
	return nil
}

type loaded struct {
	p *userspacevm.Prepared
	r userspacevm.Runner
}

// startEngine prepares v with maps of its own and loads it into e.
func startEngine(e userspacevm.Engine, v *verifier.Verified) (*loaded, error) {
	p, err := userspacevm.PrepareVerified(v, &userspacevm.LoadOptions{Helpers: fuzzHelpers()})
	if err != nil {
		return nil, fmt.Errorf("prepare for %s: %w", e.Name(), err)
	}
	r, err := e.Load(p)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("load on %s: %w\n%v", e.Name(), err, v.Program().Insns)
	}
	return &loaded{p, r}, nil
}

func (l *loaded) close(t *testing.T) {
	if err := l.r.Close(); err != nil {
		t.Error(err)
	}
	if err := l.p.Close(); err != nil {
		t.Error(err)
	}
}

// requireJIT skips where the JIT does not run: it compiles for amd64
// only, elsewhere every Load fails with ErrNotSupported.
func requireJIT(t testing.TB) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("the JIT compiles for amd64, not %s", runtime.GOARCH)
	}
}

// fuzzContext is a run's record: a different pattern per run.
func fuzzContext(run int) []byte {
	ctx := make([]byte, fuzzCtxSize)
	for i := range ctx {
		ctx[i] = byte(i*37 + run*101 + 1)
	}
	if run == 2 {
		binary.LittleEndian.PutUint64(ctx[8:], math.MaxUint64)
		binary.LittleEndian.PutUint64(ctx[16:], 1<<63)
	}
	return ctx
}

// mapContents prints every entry of the program's maps, sorted by key.
func (l *loaded) mapContents() string {
	var sb strings.Builder
	for _, m := range l.p.Maps {
		entries := map[string]string{}
		var key, value []byte
		it := m.Iterate()
		for it.Next(&key, &value) {
			entries[hex.EncodeToString(key)] = hex.EncodeToString(value)
		}
		fmt.Fprintf(&sb, "%s:", m.Spec().Name)
		if err := it.Err(); err != nil {
			fmt.Fprintf(&sb, " error %v", err)
		}
		for _, k := range slices.Sorted(maps.Keys(entries)) {
			fmt.Fprintf(&sb, " %s=%s", k, entries[k])
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
