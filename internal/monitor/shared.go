package monitor

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// sharedMaps makes each map the programs name once, by name, as the kernel
// makes a collection's maps once for all its programs. Two programs that
// declare one name differently are refused.
func sharedMaps(progs []built) (byName map[string]*maps.Map, all []*maps.Map, err error) {
	byName = map[string]*maps.Map{}
	specs := map[string]*program.MapSpec{}
	defer func() {
		if err != nil {
			closeMaps(all)
		}
	}()
	for _, b := range progs {
		for _, spec := range b.prog.Maps {
			if prev := specs[spec.Name]; prev != nil {
				if !sameMap(prev, spec) {
					return nil, nil, fmt.Errorf("programs declare map %s differently (%s against %s)", spec.Name, describe(prev), describe(spec))
				}
				continue
			}
			m, err := maps.New(spec, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("map %s of %s: %w", spec.Name, b.prog.Name, err)
			}
			all = append(all, m)
			specs[spec.Name], byName[spec.Name] = spec, m
		}
	}
	return byName, all, nil
}

// mapsFor lists a program's maps from the shared ones, in its order.
func mapsFor(prog *program.Program, byName map[string]*maps.Map) []*maps.Map {
	out := make([]*maps.Map, len(prog.Maps))
	for i, spec := range prog.Maps {
		out[i] = byName[spec.Name]
	}
	return out
}

func sameMap(a, b *program.MapSpec) bool {
	return a.Type == b.Type && a.KeySize == b.KeySize && a.ValueSize == b.ValueSize &&
		a.MaxEntries == b.MaxEntries && a.Flags == b.Flags && (a.InnerMap == nil) == (b.InnerMap == nil)
}

func describe(m *program.MapSpec) string {
	return fmt.Sprintf("%v, key %d, value %d, %d entries", m.Type, m.KeySize, m.ValueSize, m.MaxEntries)
}

func closeMaps(ms []*maps.Map) error {
	var errs []error
	for _, m := range ms {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// kernelSpec merges the programs' collection specs: maps by name, once.
func kernelSpec(progs []built) (*ebpf.CollectionSpec, error) {
	merged := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}}
	for _, b := range progs {
		if b.prog.Type != program.Tracepoint {
			return nil, fmt.Errorf("program %s is of type %s, want tracepoint", b.prog.Name, b.prog.Type)
		}
		spec, err := b.prog.KernelSpec()
		if err != nil {
			return nil, err
		}
		for name, ms := range spec.Maps {
			if prev := merged.Maps[name]; prev != nil && (prev.Type != ms.Type || prev.KeySize != ms.KeySize ||
				prev.ValueSize != ms.ValueSize || prev.MaxEntries != ms.MaxEntries || prev.Flags != ms.Flags) {
				return nil, fmt.Errorf("programs declare map %s differently", name)
			}
			merged.Maps[name] = ms
		}
		for name, ps := range spec.Programs {
			merged.Programs[name] = ps
		}
	}
	return merged, nil
}
