package dropcount_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// dropCountObject is the C drop counter, built by scripts/build-samples.sh.
var dropCountObject = filepath.Join("..", "samples", "bpf", "dropcount.bpf.o")

var engines = []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}}

// testKeys are the drops each test counts, before the reason is dropped on
// kernels that have none.
var testKeys = []dropcount.Key{
	{Location: 0xffffffff81a3c5f1, Reason: 2},
	{Location: 0xffffffff81a3c5f1, Reason: 5},
	{Location: 0xffffffffc0a00042, Reason: 2},
	{Location: 0xffffffffc0a00042, Reason: 0xffffffff},
}

func readFixture(t *testing.T, name string) *tracepoint.Format {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "tracepoint", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := tracepoint.ParseFormat("skb", "kfree_skb", data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// formatBTF describes a kernel whose struct trace_event_raw_kfree_skb has
// the layout of format f: the common fields in struct trace_entry ent, then
// every other field at its offset, with a type of its kind (pointers to
// void, an enum for an enum, integers of the field's size otherwise).
func formatBTF(t *testing.T, f *tracepoint.Format) *btf.Spec {
	t.Helper()
	ent := &btf.Struct{Name: "trace_entry"}
	raw := &btf.Struct{Name: "trace_event_raw_" + f.Name, Size: uint32(f.Size()+7) &^ 7}
	raw.Members = append(raw.Members, btf.Member{Name: "ent", Type: ent})
	for _, fl := range f.Fields {
		m := btf.Member{Name: fl.Name, Offset: btf.Bits(8 * fl.Offset), Type: fieldType(fl)}
		if fl.Common {
			m.Name = strings.TrimPrefix(fl.Name, "common_")
			ent.Members = append(ent.Members, m)
			ent.Size = max(ent.Size, uint32(fl.Offset+fl.Size))
			continue
		}
		raw.Members = append(raw.Members, m)
	}
	b, err := btf.NewBuilder([]btf.Type{raw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func fieldType(fl tracepoint.Field) btf.Type {
	switch {
	case strings.HasSuffix(fl.Type, "*"):
		return &btf.Pointer{Target: &btf.Void{}}
	case strings.HasPrefix(fl.Type, "enum "):
		return &btf.Enum{Name: strings.TrimPrefix(fl.Type, "enum "), Size: uint32(fl.Size)}
	}
	enc := btf.Unsigned
	if fl.Signed {
		enc = btf.Signed
	}
	return &btf.Int{Name: fl.Type, Size: uint32(fl.Size), Encoding: enc}
}

// loadC loads the C drop counter relocated against target (the running
// kernel's BTF when nil).
func loadC(t *testing.T, target *btf.Spec) *program.Program {
	t.Helper()
	p, err := program.FromELFWithOptions(dropCountObject, "tracepoint/skb/kfree_skb", "count_drops",
		&program.ELFOptions{KernelTypes: target})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Each test runs its records this many times on each of this many workers.
const workers, perKey = 4, 200

// count runs prog on engine over records of format f, one goroutine and
// runner per worker (so that inserts race), each record perKey times per
// worker, and returns the map's contents by raw key.
func count(t *testing.T, prog *program.Program, f *tracepoint.Format, engine userspacevm.Engine, records [][]byte) map[string]uint64 {
	t.Helper()
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: f.Size()})
	if err != nil {
		t.Fatalf("verify %s: %+v", prog.Name, err)
	}
	prep, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Close()
	var wg sync.WaitGroup
	for w := range workers {
		runner, err := engine.Load(prep)
		if errors.Is(err, jit.ErrNotSupported) {
			t.Skipf("engine %s: %v", engine.Name(), err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer runner.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := &userspacevm.RunContext{CPU: w}
			for range perKey {
				for _, raw := range records {
					if r0, err := runner.Run(raw, rc); err != nil || r0 != 0 {
						t.Errorf("run: r0=%d err=%v", r0, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	got := make(map[string]uint64)
	var key, value []byte
	it := prep.Maps[0].Iterate()
	for it.Next(&key, &value) {
		got[string(key)] = binary.NativeEndian.Uint64(value)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// records makes one record of format f per test key.
func records(t *testing.T, f *tracepoint.Format) [][]byte {
	var out [][]byte
	for _, k := range testKeys {
		out = append(out, record(t, f, k.Location, k.Reason))
	}
	return out
}

// wantCounts returns the counts the counters must make from testKeys: the
// reason is 0 where the format has none, which merges some keys.
func wantCounts(f *tracepoint.Format) map[dropcount.Key]uint64 {
	_, noReason := f.Field("reason")
	want := make(map[dropcount.Key]uint64)
	for _, k := range testKeys {
		if noReason != nil {
			k.Reason = 0
		}
		want[k] += workers * perKey
	}
	return want
}

func TestCDropCounterObject(t *testing.T) {
	p := loadC(t, formatBTF(t, readFixture(t, "kfree_skb_6.18.format")))
	if p.Type != program.Tracepoint || p.License != "GPL" {
		t.Errorf("type %v, licence %q: want tracepoint, GPL", p.Type, p.License)
	}
	if len(p.Maps) != 1 {
		t.Fatalf("%d maps, want 1", len(p.Maps))
	}
	m := p.Maps[0]
	if m.Name != dropcount.MapName || m.Type != ebpf.Hash || m.KeySize != dropcount.KeySize || m.ValueSize != 8 {
		t.Errorf("map %+v: want hash %s, key %d, value 8", *m, dropcount.MapName, dropcount.KeySize)
	}
}

// TestCDropCounter relocates the C counter against the BTF of each
// generation of the kfree_skb record, feeds it records in that layout on
// each engine, and checks its counts, and that the asm counter built for
// the same format makes the same map, key bytes (padding included) and
// counts alike.
func TestCDropCounter(t *testing.T) {
	for _, fixture := range []string{"kfree_skb_5.10.format", "kfree_skb_6.1.format", "kfree_skb_6.18.format"} {
		f := readFixture(t, fixture)
		cProg := loadC(t, formatBTF(t, f))
		asmProg, err := dropcount.Program(f, 16384)
		if err != nil {
			t.Fatal(err)
		}
		for _, engine := range engines {
			t.Run(fixture+"/"+engine.Name(), func(t *testing.T) {
				recs := records(t, f)
				got := count(t, cProg, f, engine, recs)
				checkCounts(t, got, wantCounts(f))
				same(t, got, count(t, asmProg, f, engine, recs))
			})
		}
	}
}

// TestCDropCounterKernelBTF relocates the C counter against the running
// kernel's BTF, the default, and compares it with the asm counter built
// for the running kernel's format.
func TestCDropCounterKernelBTF(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("the running kernel has no BTF (CONFIG_DEBUG_INFO_BTF): %v", err)
	}
	f, err := tracepoint.ReadFormat("skb", "kfree_skb")
	if err != nil {
		t.Skipf("the running kernel's kfree_skb format (tracefs; run as root): %v", err)
	}
	cProg := loadC(t, nil)
	asmProg, err := dropcount.Program(f, 16384)
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range engines {
		t.Run(engine.Name(), func(t *testing.T) {
			recs := records(t, f)
			got := count(t, cProg, f, engine, recs)
			checkCounts(t, got, wantCounts(f))
			same(t, got, count(t, asmProg, f, engine, recs))
		})
	}
}

// checkCounts checks the counts by decoded key, and that the padding of
// every key is zero.
func checkCounts(t *testing.T, got map[string]uint64, want map[dropcount.Key]uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d keys, want %d", len(got), len(want))
	}
	for k, n := range got {
		dk, err := dropcount.DecodeKey([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if n != want[dk] || binary.NativeEndian.Uint32([]byte(k[12:])) != 0 {
			t.Errorf("key %x (%+v) counted %d, want %d", k, dk, n, want[dk])
		}
	}
}

// same checks that the C and the asm counter made the same map.
func same(t *testing.T, c, asm map[string]uint64) {
	t.Helper()
	for k, n := range c {
		if asm[k] != n {
			t.Errorf("key %x: C counted %d, asm %d", k, n, asm[k])
		}
	}
	for k, n := range asm {
		if _, ok := c[k]; !ok {
			t.Errorf("key %x: asm counted %d, C nothing", k, n)
		}
	}
}
