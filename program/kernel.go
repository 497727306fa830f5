package program

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// KernelSpec returns p as a cilium/ebpf collection spec, to load into the
// kernel: its maps by name (with the key's BTF where p has it) and p itself,
// of the kernel's program type of the same number. Maps of maps are not
// supported yet.
func (p *Program) KernelSpec() (*ebpf.CollectionSpec, error) {
	spec := &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}}
	for _, m := range p.Maps {
		if m.InnerMap != nil {
			return nil, fmt.Errorf("program %s: map %s: maps of maps are not supported in the kernel yet", p.Name, m.Name)
		}
		ms := &ebpf.MapSpec{Name: m.Name, Type: m.Type, KeySize: m.KeySize,
			ValueSize: m.ValueSize, MaxEntries: m.MaxEntries, Flags: m.Flags}
		if m.Data != nil {
			ms.Contents = []ebpf.MapKV{{Key: uint32(0), Value: m.Data}}
		}
		spec.Maps[m.Name] = ms
	}
	spec.Programs[p.Name] = &ebpf.ProgramSpec{Name: p.Name, Type: ebpf.ProgramType(p.Type),
		Instructions: p.Insns, License: p.License}
	return spec, nil
}
