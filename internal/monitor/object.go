package monitor

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// ObjectCounter makes a Counter of the tracepoint programs in a BPF ELF
// object (clang -O2 -g -target bpf), their CO-RE relocations applied against
// the running kernel's BTF: every program of the object, or those in
// section, each attached to the tracepoint its section names
// (tracepoint/GROUP/NAME or tp/GROUP/NAME), or to every tracepoint of tps
// ("GROUP:NAME") when it is not empty: one program on several events, as
// the seed draws it. The programs share the object's maps by name. The
// map read is mapName, else the only hash or array map. It returns the
// map's spec too, whose KeyType names the key's fields for the report. Keys
// are kept whole (report.Key.Raw); values are summed as u64s, so a per-CPU
// map's values count together.
func ObjectCounter(path, section string, tps []string, mapName string) (*Counter, *program.MapSpec, error) {
	return ObjectCounterWithOptions(path, section, tps, mapName, nil)
}

// ObjectCounterWithOptions is ObjectCounter with the ELF loader's options:
// the kernel types to apply CO-RE relocations against (a recording's, for
// a replay) instead of the running kernel's.
func ObjectCounterWithOptions(path, section string, tps []string, mapName string, opts *program.ELFOptions) (*Counter, *program.MapSpec, error) {
	names, err := objectPrograms(path, section)
	if err != nil {
		return nil, nil, err
	}
	if len(tps) > 0 && len(names) > 1 {
		return nil, nil, fmt.Errorf("%s: --tracepoint attaches one program, and the object has %d (%s): pick one with --section", path, len(names), strings.Join(names, ", "))
	}
	if len(tps) == 0 {
		tps = []string{""} // each program's own, from its section
	}
	var atts []Attachment
	union := &program.Program{Name: strings.Join(names, ", ")}
	seen := map[string]bool{}
	for _, name := range names {
		prog, err := program.FromELFWithOptions(path, section, name, opts)
		if err != nil {
			return nil, nil, err
		}
		if prog.Type != program.Tracepoint {
			return nil, nil, fmt.Errorf("%s: program %s is of type %s; dropmon attaches tracepoint programs (SEC(\"tracepoint/GROUP/NAME\"))", path, prog.Name, prog.Type)
		}
		for _, tp := range tps {
			group, tpName, err := attachPoint(prog, tp)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			atts = append(atts, Attachment{Group: group, Name: tpName,
				Build: func(*tracepoint.Format, uint32) (*program.Program, error) { return prog.Clone(), nil }})
		}
		for _, m := range prog.Maps {
			if !seen[m.Name] {
				seen[m.Name] = true
				union.Maps = append(union.Maps, m)
			}
		}
	}
	spec, err := countedMap(union, mapName)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if spec.ValueSize == 0 || spec.ValueSize%8 != 0 {
		return nil, nil, fmt.Errorf("%s: map %s has %d-byte values; dropmon sums u64 counts", path, spec.Name, spec.ValueSize)
	}
	c := &Counter{
		Group: atts[0].Group,
		Name:  atts[0].Name,
		Build: atts[0].Build,
		More:  atts[1:],
		Map:   spec.Name,
		Decode: func(key, value []byte) (report.Key, uint64, error) {
			var sum uint64
			for len(value) >= 8 {
				sum += binary.NativeEndian.Uint64(value)
				value = value[8:]
			}
			return report.Key{Raw: string(key)}, sum, nil
		},
	}
	return c, spec, nil
}

// objectPrograms names the object's programs (those in section when it is
// set), sorted.
func objectPrograms(path, section string) ([]string, error) {
	cs, err := program.ReadELF(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for name, ps := range cs.Programs {
		if section == "" || ps.SectionName == section {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no program in %s", path, cmp.Or(section, "the object"))
	}
	slices.Sort(names)
	return names, nil
}

// attachPoint is tp, or the tracepoint the program's section names.
func attachPoint(prog *program.Program, tp string) (group, name string, err error) {
	if tp != "" {
		group, name, ok := strings.Cut(tp, ":")
		if !ok || group == "" || name == "" || strings.Contains(name, ":") {
			return "", "", fmt.Errorf("tracepoint %q: want GROUP:NAME, such as skb:kfree_skb", tp)
		}
		return group, name, nil
	}
	parts := strings.Split(prog.Section, "/")
	if len(parts) == 3 && (parts[0] == "tracepoint" || parts[0] == "tp") && parts[1] != "" && parts[2] != "" {
		return parts[1], parts[2], nil
	}
	return "", "", fmt.Errorf("program %s is in section %q, which names no tracepoint: give one with --tracepoint GROUP:NAME", prog.Name, prog.Section)
}

// countedMap is the map called mapName, else the only hash or array map.
func countedMap(prog *program.Program, mapName string) (*program.MapSpec, error) {
	var candidates []*program.MapSpec
	var names []string
	for _, m := range prog.Maps {
		names = append(names, m.Name)
		if mapName != "" && m.Name == mapName {
			return m, nil
		}
		switch m.Type {
		case ebpf.Hash, ebpf.LRUHash, ebpf.PerCPUHash, ebpf.LRUCPUHash, ebpf.Array, ebpf.PerCPUArray:
			candidates = append(candidates, m)
		}
	}
	list := strings.Join(names, ", ")
	if list == "" {
		list = "none"
	}
	switch {
	case mapName != "":
		return nil, fmt.Errorf("program %s has no map %s (its maps: %s)", prog.Name, mapName, list)
	case len(candidates) != 1:
		return nil, fmt.Errorf("program %s has %d hash or array maps (its maps: %s): name the one to read with --map", prog.Name, len(candidates), list)
	}
	return candidates[0], nil
}
