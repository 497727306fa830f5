package recording

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/dropmon/dropmon/tracepoint"
)

// Types builds, from tracepoint formats, the kernel types a tracepoint
// program's CO-RE relocations look for: struct trace_event_raw_NAME with
// each field of the format at its offset (common fields as struct
// trace_entry ent, as the kernel declares them), and the enums the fields
// name, with the values of the format's __print_symbolic tables. A program
// of a recording is relocated against these, not against the replaying
// machine's kernel, whose records may be laid out differently (rx_sk moved
// the reason of skb:kfree_skb in Linux 6.10) or which may have no BTF.
func Types(formats []*tracepoint.Format) (*btf.Spec, error) {
	var b btf.Builder
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	u16 := &btf.Int{Name: "unsigned short", Size: 2}
	entry := &btf.Struct{Name: "trace_entry", Size: 8, Members: []btf.Member{
		{Name: "type", Type: u16, Offset: 0},
		{Name: "flags", Type: u8, Offset: 16},
		{Name: "preempt_count", Type: u8, Offset: 24},
		{Name: "pid", Type: &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}, Offset: 32},
	}}
	for _, f := range formats {
		s := &btf.Struct{Name: "trace_event_raw_" + f.Name, Size: uint32(f.Size())}
		s.Members = append(s.Members, btf.Member{Name: "ent", Type: entry})
		for _, field := range f.Fields {
			if field.Common {
				continue
			}
			typ, name, err := fieldType(f, field)
			if err != nil {
				return nil, fmt.Errorf("types of %s:%s: %w", f.Group, f.Name, err)
			}
			s.Members = append(s.Members, btf.Member{Name: name, Type: typ, Offset: btf.Bits(8 * field.Offset)})
		}
		if _, err := b.Add(s); err != nil {
			return nil, fmt.Errorf("types of %s:%s: %w", f.Group, f.Name, err)
		}
	}
	return b.Spec()
}

// fieldType is the BTF type of a format's field, and its member name.
func fieldType(f *tracepoint.Format, field tracepoint.Field) (btf.Type, string, error) {
	typ := strings.TrimSpace(field.Type)
	switch {
	case field.DataLoc:
		// The kernel declares the descriptor as u32 __data_loc_NAME.
		return &btf.Int{Name: "u32", Size: 4}, "__data_loc_" + field.Name, nil
	case strings.HasSuffix(typ, "*"):
		return &btf.Pointer{Target: &btf.Void{}}, field.Name, nil
	case field.ArrayLen > 0:
		if field.Size%field.ArrayLen != 0 {
			return nil, "", fmt.Errorf("field %s: %d bytes in %d elements", field.Name, field.Size, field.ArrayLen)
		}
		elem := intType(strings.TrimSpace(typ[:strings.IndexByte(typ+"[", '[')]), field.Size/field.ArrayLen, field.Signed)
		return &btf.Array{Index: &btf.Int{Name: "unsigned int", Size: 4}, Type: elem, Nelems: uint32(field.ArrayLen)}, field.Name, nil
	case strings.HasPrefix(typ, "enum "):
		e := &btf.Enum{Name: strings.TrimSpace(strings.TrimPrefix(typ, "enum ")), Size: uint32(field.Size), Signed: field.Signed}
		// A format's table names the values without the enum's prefix
		// (NO_SOCKET for SKB_DROP_REASON_NO_SOCKET): both names are given,
		// the prefix being the enum's name in capitals, as the kernel
		// spells its enumerators.
		prefix := strings.ToUpper(e.Name) + "_"
		table := f.Symbols[field.Name]
		for _, v := range slices.Sorted(maps.Keys(table)) {
			name := table[v]
			e.Values = append(e.Values, btf.EnumValue{Name: name, Value: v})
			if !strings.HasPrefix(name, prefix) {
				e.Values = append(e.Values, btf.EnumValue{Name: prefix + name, Value: v})
			}
		}
		return e, field.Name, nil
	}
	return intType(typ, field.Size, field.Signed), field.Name, nil
}

func intType(name string, size int, signed bool) *btf.Int {
	t := &btf.Int{Name: name, Size: uint32(size)}
	if signed {
		t.Encoding = btf.Signed
	}
	return t
}
