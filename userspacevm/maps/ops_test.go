package maps

import (
	"testing"

	"github.com/cilium/ebpf"
)

// TestOpsTable: every entry of the table is complete, and what engines ask
// of a map follows from it.
func TestOpsTable(t *testing.T) {
	for typ, ops := range mapTypes {
		if ops.kind == 0 || ops.check == nil || ops.layout == nil || ops.init == nil ||
			ops.length == nil || ops.lookupCopy == nil || ops.update == nil || ops.delete == nil ||
			ops.next == nil || ops.valueOffset == nil {
			t.Errorf("%v: incomplete operations %+v", typ, ops)
		}
	}
	for _, tc := range []struct {
		typ                        ebpf.MapType
		kind                       Kind
		guard, values, ref, direct bool
	}{
		{ebpf.Array, KindArray, false, true, false, true},
		{ebpf.PerCPUArray, KindArray, false, true, false, false},
		{ebpf.Hash, KindHash, true, true, false, false},
		{ebpf.PerCPUHash, KindHash, true, true, false, false},
		{ebpf.LRUHash, KindHash, true, true, true, false},
		{ebpf.StackTrace, KindStackTrace, false, false, false, false},
		{ebpf.PerfEventArray, KindPerfEventArray, false, false, false, false},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			valueSize := uint32(8)
			if tc.typ == ebpf.PerfEventArray {
				valueSize = 4
			}
			m := mustNew(t, tc.typ, 4, valueSize, 4)
			if m.Kind() != tc.kind || m.NeedsGuard() != tc.guard || m.HasValues() != tc.values ||
				m.MarksReferenced() != tc.ref || m.DirectValue() != tc.direct {
				t.Errorf("kind %d guard %v values %v ref %v direct %v, want %+v",
					m.Kind(), m.NeedsGuard(), m.HasValues(), m.MarksReferenced(), m.DirectValue(), tc)
			}
			if !m.Matches(m.Spec()) {
				t.Errorf("the map does not match its own spec")
			}
		})
	}
}
