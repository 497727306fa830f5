package userspacevm

import (
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/dropmon/dropmon/internal/benchprog"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

func TestPrepareRefuses(t *testing.T) {
	array := &program.MapSpec{Name: "cfg", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1}
	hash := &program.MapSpec{Name: "h", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 4}
	tests := []struct {
		name    string
		prog    *program.Program
		wantErr string
		wantIs  error
	}{
		{"helper not implemented", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0), asm.FnGetCurrentTaskBtf.Call(), asm.Return()}},
			"insn 1: helper 158 (bpf_get_current_task_btf) is not implemented by the user-space engines", ErrNotSupported},
		{"unknown helper", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{
			asm.BuiltinFunc(5000).Call(), asm.Return()}},
			"insn 0: helper 5000 (unknown) is not implemented", ErrNotSupported},
		{"map index out of range", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{
			asm.LoadMapPtr(asm.R1, 1), asm.Return()}, Maps: []*program.MapSpec{array}},
			"insn 0: map index 1 out of range", ErrInvalid},
		{"value load of a hash map", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{
			asm.LoadMapValue(asm.R1, 0, 0), asm.Return()}, Maps: []*program.MapSpec{hash}},
			"insn 0: direct value access (BPF_PSEUDO_MAP_VALUE) to map \"h\"", ErrNotSupported},
		{"value load past the value", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{
			asm.LoadMapValue(asm.R1, 0, 16), asm.Return()}, Maps: []*program.MapSpec{array}},
			"insn 0: invalid access to map value pointer: offset 16, value_size 16", ErrInvalid},
		{"map type", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{asm.Return()},
			Maps: []*program.MapSpec{{Name: "rb", Type: ebpf.RingBuf, MaxEntries: 4096}}},
			"map 0", ErrNotSupported},
		{"invalid instruction", &program.Program{Type: program.Tracepoint, Insns: asm.Instructions{asm.Mov.Imm(asm.R10, 0), asm.Return()}},
			"insn 0: mov64_imm writes to the read-only frame pointer r10", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Prepare(tt.prog, nil)
			if err == nil {
				p.Close()
				t.Fatalf("Prepare succeeded, want %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q, want %q matching %v", err, tt.wantErr, tt.wantIs)
			}
		})
	}
}

// A BPF_PSEUDO_MAP_VALUE load gives the address of element 0's value plus
// the offset; stores through it land in the map.
func TestMapValueLoad(t *testing.T) {
	prog := &program.Program{
		Type: program.Tracepoint,
		Maps: []*program.MapSpec{{Name: "cfg", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 2}},
		Insns: asm.Instructions{
			asm.LoadMapValue(asm.R1, 0, 8),
			stdw(asm.R1, 0, 77),
			asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
			asm.Return(),
		},
	}
	p, it := prepareUnverified(t, prog, nil)
	if r0, err := it.Run(nil, nil); err != nil || r0 != 77 {
		t.Fatalf("run: %d, %v", r0, err)
	}
	v, err := p.Maps[0].Lookup([]byte{0, 0, 0, 0})
	if err != nil || binary.LittleEndian.Uint64(v[8:]) != 77 {
		t.Errorf("element 0 = %x, %v; want 77 at offset 8", v, err)
	}

	// With 12-byte values (16-byte slots), 8 bytes at offset 8 reach past
	// the value into padding: the map region refuses them.
	prog.Maps[0].ValueSize = 12
	_, it2 := prepareUnverified(t, prog, nil)
	_, err = it2.Run(nil, nil)
	var ae *AccessError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), `insn 2: invalid write of 8 bytes`) ||
		!strings.Contains(err.Error(), `map value "cfg"`) {
		t.Errorf("store past the value: %v", err)
	}
}

// A helper's failure (here a key pointer outside the program's memory)
// ends the run with the helper's error, located.
func TestHelperFailure(t *testing.T) {
	prog := &program.Program{
		Type: program.Tracepoint,
		Maps: []*program.MapSpec{{Name: "h", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 4}},
		Insns: asm.Instructions{
			asm.LoadMapPtr(asm.R1, 0),
			asm.Mov.Imm(asm.R2, 8),
			asm.FnMapLookupElem.Call(),
			asm.Return(),
		},
	}
	_, it := prepareUnverified(t, prog, nil)
	_, err := it.Run(nil, nil)
	var re *RunError
	var ae *AccessError
	if !errors.As(err, &re) || re.PC != 3 || !errors.As(err, &ae) || !strings.Contains(err.Error(), "bpf_map_lookup_elem") {
		t.Fatalf("got %v, want a located helper access error", err)
	}
	// The next run fails the same way: the error was cleared, not kept.
	if _, err2 := it.Run(nil, nil); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second run: %v", err2)
	}
}

// Runners of several Prepared programs share maps passed in LoadOptions,
// and run concurrently.
func TestSharedMaps(t *testing.T) {
	prog := benchprog.Cases[2].Prog() // map-count
	m, err := maps.New(prog.Maps[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() }) // after the runners' cleanups, which run first
	// Every key exists, so every run adds through the looked-up pointer and
	// the count is exact. (A lookup miss followed by an update is not
	// atomic, in the kernel either: concurrent first counts could be lost.)
	for k := range uint64(8) {
		if err := m.Update(binary.LittleEndian.AppendUint64(nil, k), make([]byte, 8), maps.UpdateAny); err != nil {
			t.Fatal(err)
		}
	}
	const runners, runs = 4, 2000
	var wg sync.WaitGroup
	errs := make(chan error, runners)
	for w := range runners {
		_, it := prepareUnverified(t, prog, &LoadOptions{Maps: []*maps.Map{m}})
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := make([]byte, 8)
			for i := range runs {
				binary.LittleEndian.PutUint64(ctx, uint64((i+w)%8))
				if _, err := it.Run(ctx, &RunContext{CPU: w}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total uint64
	for k := range uint64(8) {
		key := binary.LittleEndian.AppendUint64(nil, k)
		v, err := m.Lookup(key)
		if err != nil {
			t.Fatalf("key %d: %v", k, err)
		}
		total += binary.LittleEndian.Uint64(v)
	}
	if total != runners*runs {
		t.Errorf("counted %d, want %d", total, runners*runs)
	}

	bad := *prog
	bad.Maps = []*program.MapSpec{{Name: "counts", Type: ebpf.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 2048}}
	if _, err := Prepare(&bad, &LoadOptions{Maps: []*maps.Map{m}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "key 8") {
		t.Errorf("mismatched spec: %v", err)
	}
	if _, err := Prepare(prog, &LoadOptions{Maps: []*maps.Map{}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("missing map: %v", err)
	}
}

func TestRunAllocs(t *testing.T) {
	for _, c := range benchprog.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p, err := Prepare(c.Prog(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			it, err := NewInterpreter(p, &InterpOptions{RunUnverified: true})
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			ctx := make([]byte, 64)
			rc := &RunContext{}
			i := 0
			allocs := testing.AllocsPerRun(1000, func() {
				binary.LittleEndian.PutUint64(ctx, uint64(i%16))
				i++
				if _, err := it.Run(ctx, rc); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
		})
	}
}

// prepareUnverified prepares prog and makes an interpreter of it in checked
// mode without the verifier: these tests exercise checked mode itself.
// Both are closed when the test ends.
func prepareUnverified(t *testing.T, prog *program.Program, opts *LoadOptions) (*Prepared, *Interpreter) {
	t.Helper()
	p, err := Prepare(prog, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	it, err := NewInterpreter(p, &InterpOptions{RunUnverified: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { it.Close() })
	return p, it
}
