package program

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
)

// ErrNotFound is matched by FromELF's error when the object has no program
// of the requested name or section.
var ErrNotFound = errors.New("not found")

// FromELF reads one program of a BPF ELF object with cilium/ebpf's ELF
// reader (see ReadELF: at most MaxELFSize bytes are read). name picks the
// program by its function name and section by its ELF section; either may
// be empty, and with both empty the object must hold exactly one program. CO-RE relocations, if the program
// has any, are applied against the running kernel's BTF: FromELFWithOptions
// names another target.
//
// The program keeps cilium's instructions: bpf-to-bpf callees are appended
// after the entry function and calls reference them by symbol, map loads
// reference their map by name. Maps lists only the maps the program loads,
// in the order of their first load, each named by the reference the loads
// carry (".rodata" and the other data sections are single-entry array maps,
// loaded as values). Type is the one the section name implies, Unspec when
// it implies none ("test"): the caller must then choose one.
func FromELF(path, section, name string) (*Program, error) {
	return FromELFWithOptions(path, section, name, nil)
}

// FromELFWithOptions is FromELF with options; opts may be nil. The
// program's CO-RE relocations are applied against opts.KernelTypes (the
// running kernel's BTF when nil), as cilium/ebpf applies them when it loads
// a program into the kernel, so that every engine runs the instructions
// the target kernel would. An access to a type or field the target lacks
// is an error naming it, unless a guard (bpf_core_field_exists) keeps every
// path away from it; such dead accesses become no-ops.
func FromELFWithOptions(path, section, name string, opts *ELFOptions) (*Program, error) {
	cs, err := ReadELF(path)
	if err != nil {
		return nil, err
	}
	return fromCollection(path, cs, section, name, opts)
}

// FromELFBytes is FromELFWithOptions on an object in memory (one embedded
// with go:embed, say); name is what errors call it ("sockex.bpf.o").
func FromELFBytes(data []byte, objName, section, name string, opts *ELFOptions) (*Program, error) {
	if len(data) > MaxELFSize {
		return nil, fmt.Errorf("%s: %d bytes, larger than the %d MiB limit for ELF input: %w", objName, len(data), MaxELFSize>>20, ErrTooLarge)
	}
	cs, err := parseELF(objName, data)
	if err != nil {
		return nil, err
	}
	return fromCollection(objName, cs, section, name, opts)
}

// fromCollection is FromELFWithOptions on an object already read.
func fromCollection(path string, cs *ebpf.CollectionSpec, section, name string, opts *ELFOptions) (*Program, error) {
	ps, err := pickProgram(cs, section, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := fromProgramSpec(cs, ps)
	if err != nil {
		return nil, fmt.Errorf("%s: program %s: %w", path, ps.Name, err)
	}
	if p.Insns, err = relocate(p.Insns, cs.ByteOrder, cs.Types, opts); err != nil {
		return nil, fmt.Errorf("%s: program %s: %w", path, ps.Name, err)
	}
	return p, nil
}

func pickProgram(cs *ebpf.CollectionSpec, section, name string) (*ebpf.ProgramSpec, error) {
	if name != "" {
		ps := cs.Programs[name]
		if ps == nil {
			return nil, fmt.Errorf("program %q: %w (the object has %s)", name, ErrNotFound, programList(cs, ""))
		}
		if section != "" && ps.SectionName != section {
			return nil, fmt.Errorf("program %q is in section %q, not %q: %w", name, ps.SectionName, section, ErrNotFound)
		}
		return ps, nil
	}
	var found []*ebpf.ProgramSpec
	for _, ps := range cs.Programs {
		if section == "" || ps.SectionName == section {
			found = append(found, ps)
		}
	}
	where := "the object"
	if section != "" {
		where = fmt.Sprintf("section %q", section)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s has no program: %w (the object has %s)", where, ErrNotFound, programList(cs, ""))
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%s has %d programs (%s): name one", where, len(found), programList(cs, section))
}

// programList names the object's programs, sorted, as "name (section)".
func programList(cs *ebpf.CollectionSpec, section string) string {
	var names []string
	for n, ps := range cs.Programs {
		if section == "" || ps.SectionName == section {
			names = append(names, fmt.Sprintf("%s (%s)", n, ps.SectionName))
		}
	}
	if len(names) == 0 {
		return "no programs"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func fromProgramSpec(cs *ebpf.CollectionSpec, ps *ebpf.ProgramSpec) (*Program, error) {
	typ, err := typeFromELF(ps.Type)
	if err != nil {
		return nil, err
	}
	p := &Program{
		Name:    ps.Name,
		Section: ps.SectionName,
		Type:    typ,
		Insns:   slices.Clone(ps.Instructions),
		License: ps.License,
	}
	seen := make(map[string]bool)
	iter := p.Insns.Iterate()
	for iter.Next() {
		ins := iter.Ins
		switch {
		case ins.IsKfuncCall():
			return nil, insnErr(int(iter.Offset), unsupportedf("call to kfunc %q: kfuncs are not supported (they need kernel BTF)", ins.Reference()))
		case ins.IsLoadFromMap():
			ref := ins.Reference()
			if ref == "" {
				// cilium/ebpf leaves __kconfig loads without a reference.
				return nil, insnErr(int(iter.Offset), unsupportedf("map load without a map reference "+
					"(a __kconfig extern?): not supported"))
			}
			if seen[ref] {
				continue
			}
			ms := cs.Maps[ref]
			if ms == nil {
				return nil, insnErr(int(iter.Offset), invalidf("map %q is not in the object", ref))
			}
			seen[ref] = true
			p.Maps = append(p.Maps, mapFromELF(ref, ms))
		case ins.OpCode.IsDWordLoad() && ins.Src == 0 && ins.Reference() != "":
			// A __ksym or __kconfig extern that no map backs.
			return nil, insnErr(int(iter.Offset), unsupportedf("load of extern %q: ksyms and kconfig are not supported", ins.Reference()))
		}
	}
	return p, nil
}

// typeFromELF maps cilium's program type to ours; both keep the kernel's
// numbers (enum bpf_prog_type).
func typeFromELF(t ebpf.ProgramType) (Type, error) {
	if t == ebpf.UnspecifiedProgram {
		return Unspec, nil
	}
	if _, ok := typeNames[Type(t)]; !ok || Type(t) == Conformance {
		return Unspec, unsupportedf("program type %v is not supported", t)
	}
	return Type(t), nil
}

func mapFromELF(name string, ms *ebpf.MapSpec) *MapSpec {
	m := &MapSpec{
		Name:       name,
		Type:       ms.Type,
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
		KeyType:    ms.Key,
	}
	if ms.Type == ebpf.PerfEventArray {
		// cilium/ebpf fills these in when it creates the map; the kernel
		// sees 4-byte keys and values (CPU numbers and perf event fds).
		m.KeySize, m.ValueSize = max(m.KeySize, 4), max(m.ValueSize, 4)
	}
	if ms.InnerMap != nil {
		m.InnerMap = mapFromELF(ms.InnerMap.Name, ms.InnerMap)
	}
	// A data section's globals: one entry at key 0, its bytes.
	if ms.Type == ebpf.Array && ms.MaxEntries == 1 && len(ms.Contents) == 1 {
		if value, ok := ms.Contents[0].Value.([]byte); ok && len(value) == int(ms.ValueSize) {
			m.Data = slices.Clone(value)
		}
	}
	return m
}
