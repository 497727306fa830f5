package program

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// CO-RE ("compile once, run everywhere"): clang records each access to a
// type marked preserve_access_index, and each __builtin_preserve_field_info
// (bpf_core_field_exists, ...), as a relocation that names the local type
// and the member path. cilium/ebpf's ELF loader keeps them as instruction
// metadata; btf.CORERelocate finds the same type by name in the target's
// BTF and computes one fixup per relocation (an offset, a size, 0 or 1 for
// existence), which COREFixup.Apply writes into the instruction. This is
// what ebpf.NewProgramWithOptions does before it loads a program into the
// kernel; the user-space engines need the same instructions.
//
// A relocation the target cannot satisfy (no such field or type) is
// "poisoned": libbpf and cilium replace the instruction with a call to the
// bogus helper 0xbad2310, which the kernel's verifier rejects if, and only
// if, a path reaches it; a guard such as bpf_core_field_exists makes it dead
// code, which the kernel then removes. dropmon's verifier rewrites nothing
// and the engines refuse unknown helpers even in dead code, so relocate
// decides here: a poisoned instruction that constant propagation (reach.go)
// proves unreachable becomes a no-op (ja +0, twice for a 64-bit load); one
// that may run is an error naming the type and field.

// loadKernelSpec is btf.LoadKernelSpec; tests replace it.
var loadKernelSpec = btf.LoadKernelSpec

// ELFOptions tune FromELFWithOptions.
type ELFOptions struct {
	// KernelTypes is the BTF that CO-RE relocations are applied against:
	// that of the kernel whose records the program will see. Nil means the
	// running kernel's (/sys/kernel/btf/vmlinux), read only when the program
	// has relocations. Module BTF is not searched.
	KernelTypes *btf.Spec
}

// relocation is one CO-RE relocation of a program, located by its index in
// the instructions.
type relocation struct {
	index int
	relo  *btf.CORERelocation
}

// relocate applies the CO-RE relocations of insns against the target BTF,
// rewriting insns in place; it returns them, or a copy when poisoned dead
// instructions had to become no-ops. local is the object's own BTF, which
// names what a relocation refers to in errors. The CO-RE metadata is removed from relocated
// instructions, so that a loader that relocates again (cilium/ebpf, for the
// kernel) finds nothing left to do.
func relocate(insns asm.Instructions, bo binary.ByteOrder, local *btf.Spec, opts *ELFOptions) (asm.Instructions, error) {
	var relos []relocation
	for i := range insns {
		if r := btf.CORERelocationMetadata(&insns[i]); r != nil {
			relos = append(relos, relocation{i, r})
		}
	}
	if len(relos) == 0 {
		return insns, nil
	}
	target, err := targetSpec(opts)
	if err != nil {
		return nil, err
	}
	if bo == nil {
		bo = binary.NativeEndian
	}
	list := make([]*btf.CORERelocation, len(relos))
	for i, r := range relos {
		list[i] = r.relo
	}
	// Local type IDs (bpf_core_type_id_local) only matter to a kernel that
	// loads the object's BTF along with it; number them afresh.
	var ids btf.Builder
	fixups, err := btf.CORERelocate(list, []*btf.Spec{target}, bo, ids.Add)
	if err != nil {
		return nil, fmt.Errorf("CO-RE: %w", err)
	}
	poisoned := make(map[int]string) // by index: what could not be relocated
	for i, r := range relos {
		ins := &insns[r.index]
		fixed := *ins
		if err := fixups[i].Apply(&fixed); err != nil {
			return nil, fmt.Errorf("CO-RE: %s: %w", describe(r.relo, local), err)
		}
		if isPoison(&fixed) {
			poisoned[r.index] = describe(r.relo, local) + sourceNote(ins)
			continue
		}
		*ins = btf.WithCORERelocationMetadata(fixed, nil)
	}
	if len(poisoned) == 0 {
		return insns, nil
	}
	return dropDeadPoison(insns, poisoned)
}

func targetSpec(opts *ELFOptions) (*btf.Spec, error) {
	if opts != nil && opts.KernelTypes != nil {
		return opts.KernelTypes, nil
	}
	spec, err := loadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("CO-RE: the program has relocations, but the running kernel's BTF "+
			"cannot be read (it needs CONFIG_DEBUG_INFO_BTF, or pass the kernel's BTF in "+
			"ELFOptions.KernelTypes): %w: %w", ErrNotSupported, err)
	}
	return spec, nil
}

// isPoison reports an instruction that COREFixup.Apply poisoned.
func isPoison(ins *asm.Instruction) bool {
	if ins.Constant != btf.COREBadRelocationSentinel {
		return false
	}
	return ins.IsBuiltinCall() || (ins.OpCode.IsDWordLoad() && ins.Dst == asm.R10)
}

// dropDeadPoison replaces poisoned instructions (by index in insns) with
// no-ops when no path reaches them, and fails otherwise.
func dropDeadPoison(insns asm.Instructions, poisoned map[int]string) (asm.Instructions, error) {
	out := make(asm.Instructions, 0, len(insns)+len(poisoned))
	at := make(map[int]string, len(poisoned)) // by raw slot
	slot := 0
	for i, ins := range insns {
		why, ok := poisoned[i]
		if !ok {
			out = append(out, ins)
			slot += int(ins.Size() / asm.InstructionSize)
			continue
		}
		at[slot] = why
		nop := asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)} // ja +0
		out = append(out, nop.WithSymbol(ins.Symbol()).WithSource(ins.Source()))
		slot++
		if ins.OpCode.IsDWordLoad() { // keep the raw offsets of what follows
			out = append(out, asm.Instruction{OpCode: nop.OpCode})
			slot++
		}
	}
	decoded, err := Decode(out)
	if err != nil {
		return nil, fmt.Errorf("CO-RE: after relocation: %w", err)
	}
	live := reachable(decoded)
	first, n := -1, 0
	for pc := range at {
		if live[pc] {
			n++
			if first < 0 || pc < first {
				first = pc
			}
		}
	}
	if n > 0 {
		more := ""
		if n > 1 {
			more = fmt.Sprintf(" (and %d more)", n-1)
		}
		return nil, insnErr(first, unsupportedf("CO-RE: cannot relocate %s: the target's BTF "+
			"has no such type or field, and the instruction may run%s", at[first], more))
	}
	return out, nil
}

// sourceNote quotes the instruction's source line, when the object has
// line information (clang -g).
func sourceNote(ins *asm.Instruction) string {
	if ins.Source() == nil {
		return ""
	}
	return fmt.Sprintf(" at %q", strings.TrimSpace(fmt.Sprint(ins.Source())))
}

// reloString parses CORERelocation.String(): "CORERelocation(byte_off,
// Struct:\"name\"[0:4], local_id=17)". cilium/ebpf exports no accessors for
// the kind, the accessor path or the local type ID; when the format
// changes, describe falls back to the whole string.
var reloString = regexp.MustCompile(`^CORERelocation\((\w+), .*\[([0-9:]+)\], local_id=(\d+)\)$`)

// describe names what a relocation refers to: "field
// trace_event_raw_kfree_skb.reason (byte_off)".
func describe(r *btf.CORERelocation, local *btf.Spec) string {
	s := r.String()
	m := reloString.FindStringSubmatch(s)
	if m == nil || local == nil {
		return s
	}
	id, err := strconv.ParseUint(m[3], 10, 32)
	if err != nil {
		return s
	}
	typ, err := local.TypeByID(btf.TypeID(id))
	if err != nil {
		return s
	}
	kind, acc := m[1], strings.Split(m[2], ":")
	switch {
	case strings.HasPrefix(kind, "enumval"):
		if e, ok := btf.UnderlyingType(typ).(*btf.Enum); ok && len(acc) == 1 {
			if i, err := strconv.Atoi(acc[0]); err == nil && i < len(e.Values) {
				return fmt.Sprintf("enum value %s.%s (%s)", e.Name, e.Values[i].Name, kind)
			}
		}
		return fmt.Sprintf("enum %s (%s)", typ.TypeName(), kind)
	case len(acc) == 1:
		return fmt.Sprintf("type %s (%s)", typ.TypeName(), kind)
	}
	return fmt.Sprintf("field %s (%s)", memberPath(typ, acc[1:]), kind)
}

// memberPath follows a CO-RE accessor (member indices of structs and
// unions, element indices of arrays) from typ and spells it in C.
func memberPath(typ btf.Type, acc []string) string {
	var b strings.Builder
	b.WriteString(typ.TypeName())
	t := btf.UnderlyingType(typ)
	for _, a := range acc {
		i, err := strconv.Atoi(a)
		if err != nil {
			return b.String()
		}
		switch v := t.(type) {
		case *btf.Struct:
			t = member(&b, v.Members, i)
		case *btf.Union:
			t = member(&b, v.Members, i)
		case *btf.Array:
			fmt.Fprintf(&b, "[%d]", i)
			t = btf.UnderlyingType(v.Type)
		default:
			return b.String()
		}
		if t == nil {
			return b.String()
		}
	}
	return b.String()
}

func member(b *strings.Builder, ms []btf.Member, i int) btf.Type {
	if i < 0 || i >= len(ms) {
		return nil
	}
	name := ms[i].Name
	if name == "" {
		name = "(anon)"
	}
	b.WriteString("." + name)
	return btf.UnderlyingType(ms[i].Type)
}
