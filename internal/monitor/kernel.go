package monitor

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// kernelCounter is a set of programs running inside the kernel: loaded
// with cilium/ebpf as one collection (the kernel's verifier checks each
// again; their maps are made once and shared by name), each attached to its
// tracepoint with a perf-event link, the counted map read with batch
// lookups.
type kernelCounter struct {
	coll   *ebpf.Collection
	counts *ebpf.Map
	links  []link.Link
	ids    []ebpf.ProgramID
	batch  bool // the kernel has BPF_MAP_LOOKUP_BATCH for this map
	// cpus is how many values each key has: the possible CPUs for a
	// per-CPU map, else 1. Per-CPU values are handed on end to end, as the
	// user-space maps hand them.
	cpus int
}

// loadKernel loads the programs (which dropmon's verifier accepted) and
// their maps into the kernel and attaches each to its tracepoint. countsMap
// names the map Counts reads.
func loadKernel(progs []built, countsMap string) (_ *kernelCounter, err error) {
	spec, err := kernelSpec(progs)
	if err != nil {
		return nil, fmt.Errorf("kernel engine: %w", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		return nil, kernelLoadError(progs[0].prog.Name, err)
	}
	k := &kernelCounter{coll: coll, counts: coll.Maps[countsMap], batch: true}
	defer func() {
		if err != nil {
			k.close()
		}
	}()
	if k.counts == nil {
		return nil, fmt.Errorf("kernel engine: the programs have no map %s", countsMap)
	}
	k.cpus = 1
	switch k.counts.Type() {
	case ebpf.PerCPUHash, ebpf.PerCPUArray, ebpf.LRUCPUHash:
		if k.counts.ValueSize()%8 != 0 {
			// The kernel pads each CPU's value to 8 bytes; the user-space
			// maps do not, so such values would read differently.
			return nil, fmt.Errorf("kernel engine: per-CPU map %s has %d-byte values, not a multiple of 8", countsMap, k.counts.ValueSize())
		}
		if k.cpus, err = ebpf.PossibleCPU(); err != nil {
			return nil, fmt.Errorf("kernel engine: %w", err)
		}
	}
	for _, b := range progs {
		prog := coll.Programs[b.prog.Name]
		if info, err := prog.Info(); err == nil {
			if id, ok := info.ID(); ok && !slices.Contains(k.ids, id) {
				k.ids = append(k.ids, id)
			}
		}
		l, err := link.Tracepoint(b.Group, b.Name, prog, nil)
		if err != nil {
			return nil, fmt.Errorf("kernel engine: attach %s to tracepoint %s:%s: %w", b.prog.Name, b.Group, b.Name, err)
		}
		k.links = append(k.links, l)
	}
	return k, nil
}

// kernelLoadError says why the kernel refused the program or its maps.
func kernelLoadError(name string, err error) error {
	var verr *ebpf.VerifierError
	switch {
	case errors.As(err, &verr):
		// Ours accepted it: say both verdicts, and the kernel's reason.
		return fmt.Errorf("kernel engine: dropmon's verifier accepted %s but the kernel's verifier rejected it: %v "+
			"(the user-space engines, --engine jit or interp, do not need the kernel's verdict)", name, err)
	case errors.Is(err, ebpf.ErrNotSupported):
		return fmt.Errorf("kernel engine: load %s: %w (this kernel lacks what the program needs; use --engine jit)", name, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("kernel engine: load %s: %w (loading BPF into the kernel needs root, or CAP_BPF and CAP_PERFMON; "+
			"in containers and under lockdown use --engine jit, which needs neither)", name, err)
	}
	return fmt.Errorf("kernel engine: load %s: %w", name, err)
}

// forEach calls fn with each key and value of the counts map, in batches
// where the kernel has batch lookups (Linux 5.6+), else one by one. A
// per-CPU map's value is every possible CPU's value end to end.
func (k *kernelCounter) forEach(fn func(key, value []byte) error) error {
	return k.forEachIn(k.counts, k.cpus, fn)
}

// forEachIn is forEach over any map of the collection whose keys have cpus
// values each.
func (k *kernelCounter) forEachIn(m *ebpf.Map, cpus int, fn func(key, value []byte) error) error {
	keySize, valueSize := int(m.KeySize()), int(m.ValueSize())
	flat := make([]byte, valueSize*cpus)
	// values holds the values of n keys as cpus arrays each; join
	// gives key i's as one slice.
	join := func(values reflect.Value, i int) []byte {
		if cpus == 1 {
			return values.Index(i).Bytes()
		}
		for c := range cpus {
			copy(flat[c*valueSize:], values.Index(i*cpus+c).Bytes())
		}
		return flat
	}
	if k.batch {
		err := k.forEachBatch(m, cpus, keySize, valueSize, join, fn)
		if !errors.Is(err, ebpf.ErrNotSupported) {
			return err
		}
		k.batch = false
	}
	key := make([]byte, keySize)
	// One key's values: cpus arrays, which the iterator fills as a
	// per-CPU slice, or through a pointer to the one array.
	values := byteArrays(valueSize, cpus)
	out := values.Interface()
	if cpus == 1 {
		out = values.Index(0).Addr().Interface()
	}
	it := m.Iterate()
	for it.Next(&key, out) {
		if err := fn(key, join(values, 0)); err != nil {
			return err
		}
	}
	return it.Err()
}

// batchEntries is how many entries one batch lookup asks for.
const batchEntries = 256

func (k *kernelCounter) forEachBatch(m *ebpf.Map, cpus, keySize, valueSize int, join func(reflect.Value, int) []byte, fn func(key, value []byte) error) error {
	// Batch lookups count elements, so keys and values are slices of
	// byte arrays of the map's sizes (cpus values a key).
	keys := byteArrays(keySize, batchEntries)
	values := byteArrays(valueSize, batchEntries*cpus)
	var cursor ebpf.MapBatchCursor
	for {
		n, err := m.BatchLookup(&cursor, keys.Interface(), values.Interface(), nil)
		for i := range n {
			if err := fn(keys.Index(i).Bytes(), join(values, i)); err != nil {
				return err
			}
		}
		switch {
		case errors.Is(err, ebpf.ErrKeyNotExist):
			return nil
		case err != nil:
			return err
		}
	}
}

// byteArrays makes a slice of n arrays of size bytes: [n][size]byte.
func byteArrays(size, n int) reflect.Value {
	return reflect.MakeSlice(reflect.SliceOf(reflect.ArrayOf(size, reflect.TypeFor[byte]())), n, n)
}

// detach stops the programs from running; their maps stay readable.
func (k *kernelCounter) detach() error {
	var errs []error
	for _, l := range k.links {
		errs = append(errs, l.Close())
	}
	k.links = nil
	return errors.Join(errs...)
}

// close detaches the program and releases it and its maps.
func (k *kernelCounter) close() error {
	err := k.detach()
	k.coll.Close()
	return err
}

// pidFilter returns insns behind a prologue that ends the run (r0 = 0)
// unless the current process (bpf_get_current_pid_tgid's tgid) is pid: the
// kernel engine's --pid filter, since tracepoint filters do not apply to
// BPF programs.
func pidFilter(insns asm.Instructions, pid uint32) asm.Instructions {
	return prepend(asm.Instructions{
		asm.Mov.Reg(asm.R9, asm.R1),
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.JEq.Imm(asm.R0, int32(pid), "pid_ok"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Reg(asm.R1, asm.R9).WithSymbol("pid_ok"),
	}, insns)
}

// prepend returns insns behind prologue, which must go on to them with the
// context in r1.
func prepend(prologue, insns asm.Instructions) asm.Instructions {
	if len(prologue) == 0 {
		return insns
	}
	prologue = slices.Clone(prologue)
	// The prologue is now the function's start: the symbol and the BTF
	// function info of the first instruction (a C program's) move to it,
	// and its line info is copied, or the kernel refuses func and line
	// info that do not start at insn 0.
	insns = slices.Clone(insns)
	if len(insns) > 0 {
		first := &insns[0]
		prologue[0] = btf.WithFuncMetadata(prologue[0].WithSymbol(first.Symbol()), btf.FuncMetadata(first))
		if src := first.Source(); src != nil {
			prologue[0] = prologue[0].WithSource(src)
		}
		*first = btf.WithFuncMetadata(first.WithSymbol(""), nil)
	}
	return append(prologue, insns...)
}
