package monitor

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// ObjectCounter makes a Counter of a tracepoint program in a BPF ELF object
// (clang -O2 -g -target bpf), its CO-RE relocations applied against the
// running kernel's BTF. section picks the program when the object has
// several. The tracepoint is tp ("GROUP:NAME") when given, else the one the
// program's section names (tracepoint/GROUP/NAME or tp/GROUP/NAME). The map
// read is mapName, else the program's only hash or array map. It returns
// the map's spec too, whose KeyType names the key's fields for the report.
// Keys are kept whole (report.Key.Raw); values are summed as u64s, so a
// per-CPU map's values count together.
func ObjectCounter(path, section, tp, mapName string) (*Counter, *program.MapSpec, error) {
	prog, err := program.FromELFWithOptions(path, section, "", nil)
	if err != nil {
		return nil, nil, err
	}
	if prog.Type != program.Tracepoint {
		return nil, nil, fmt.Errorf("%s: program %s is of type %s; dropmon attaches tracepoint programs (SEC(\"tracepoint/GROUP/NAME\"))", path, prog.Name, prog.Type)
	}
	group, name, err := attachPoint(prog, tp)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	spec, err := countedMap(prog, mapName)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if spec.ValueSize == 0 || spec.ValueSize%8 != 0 {
		return nil, nil, fmt.Errorf("%s: map %s has %d-byte values; dropmon sums u64 counts", path, spec.Name, spec.ValueSize)
	}
	c := &Counter{
		Group: group,
		Name:  name,
		Map:   spec.Name,
		Build: func(*tracepoint.Format, uint32) (*program.Program, error) { return prog.Clone(), nil },
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
