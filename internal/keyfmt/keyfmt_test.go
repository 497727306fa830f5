package keyfmt

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"

	"github.com/cilium/ebpf/btf"
)

func TestRender(t *testing.T) {
	u64 := &btf.Int{Name: "u64", Size: 8}
	u32 := &btf.Int{Name: "u32", Size: 4}
	s16 := &btf.Int{Name: "s16", Size: 2, Encoding: btf.Signed}
	proto := &btf.Enum{Name: "proto", Size: 4, Values: []btf.EnumValue{{Name: "TCP", Value: 6}, {Name: "UDP", Value: 17}}}
	dropKey := &btf.Struct{Name: "key", Size: 16, Members: []btf.Member{
		{Name: "location", Type: u64, Offset: 0},
		{Name: "reason", Type: &btf.Typedef{Name: "reason_t", Type: u32}, Offset: 64},
		{Name: "pad", Type: u32, Offset: 96},
	}}
	mixed := &btf.Struct{Name: "mixed", Size: 24, Members: []btf.Member{
		{Name: "skb", Type: &btf.Pointer{Target: &btf.Void{}}, Offset: 0},
		{Name: "proto", Type: proto, Offset: 64},
		{Name: "delta", Type: s16, Offset: 96},
		{Name: "mac", Type: &btf.Array{Type: &btf.Int{Name: "u8", Size: 1}, Index: u32, Nelems: 6}, Offset: 128},
	}}
	names := Names{
		Symbol: func(a uint64) string { return fmt.Sprintf("sym@%#x", a) },
		Reason: func(r uint32) string { return fmt.Sprintf("REASON_%d", r) },
	}
	le := binary.LittleEndian
	dropBytes := le.AppendUint32(le.AppendUint32(le.AppendUint64(nil, 0xffffffff81000010), 3), 0)
	mixedBytes := le.AppendUint64(nil, 0xffff888000001000)
	mixedBytes = le.AppendUint32(mixedBytes, 17)
	mixedBytes = le.AppendUint16(le.AppendUint16(mixedBytes, 0xfffe), 0)
	mixedBytes = append(mixedBytes, 0x02, 0, 0, 0, 0, 0x01, 0, 0)
	tests := []struct {
		name      string
		typ       btf.Type
		size      int
		key       []byte
		names     Names
		wantCols  []string
		wantCells []string
	}{
		{"drop key", dropKey, 16, dropBytes, names, []string{"LOCATION", "REASON", "PAD"}, []string{"sym@0xffffffff81000010", "REASON_3", "0"}},
		{"drop key without names", dropKey, 16, dropBytes, Names{}, []string{"LOCATION", "REASON", "PAD"}, []string{"0xffffffff81000010", "3", "0"}},
		{"pointer enum signed array", mixed, 24, mixedBytes, names, []string{"SKB", "PROTO", "DELTA", "MAC"}, []string{"sym@0xffff888000001000", "UDP", "-2", "020000000001"}},
		{"plain int", u32, 4, le.AppendUint32(nil, 42), names, []string{"KEY"}, []string{"42"}},
		{"no BTF", nil, 4, []byte{1, 2, 3, 4}, names, []string{"KEY"}, []string{"01020304"}},
		{"BTF of another size", u64, 4, []byte{1, 2, 3, 4}, names, []string{"KEY"}, []string{"01020304"}},
		{"short key", dropKey, 16, dropBytes[:8], names, []string{"LOCATION", "REASON", "PAD"}, []string{"sym@0xffffffff81000010", "?", "?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLayout(tt.typ, tt.size)
			if !slices.Equal(l.Columns, tt.wantCols) {
				t.Errorf("columns %q, want %q", l.Columns, tt.wantCols)
			}
			if got := l.Render(tt.key, tt.names); !slices.Equal(got, tt.wantCells) {
				t.Errorf("cells %q, want %q", got, tt.wantCells)
			}
		})
	}
}
