package tracepoint

import (
	"encoding/binary"
	"testing"
)

// record builds a raw record of n bytes with put writing into it.
func record(n int, put func(b []byte)) []byte {
	b := make([]byte, n)
	if put != nil {
		put(b)
	}
	return b
}

func TestFieldUintInt(t *testing.T) {
	ne := binary.NativeEndian
	raw := record(24, func(b []byte) {
		b[0] = 0xfe                           // u8 at 0
		ne.PutUint16(b[2:], 0xfffe)           // u16 at 2
		ne.PutUint32(b[4:], 0xfffffffe)       // u32 at 4
		ne.PutUint64(b[8:], 0xfffffffffffffe) // u64 at 8
		ne.PutUint32(b[16:], 7)               // u32 at 16
	})
	for _, tt := range []struct {
		name     string
		field    Field
		raw      []byte
		wantUint uint64
		wantInt  int64
		ok       bool
	}{
		{name: "u8", field: Field{Offset: 0, Size: 1}, raw: raw, wantUint: 0xfe, wantInt: -2, ok: true},
		{name: "u16", field: Field{Offset: 2, Size: 2}, raw: raw, wantUint: 0xfffe, wantInt: -2, ok: true},
		{name: "u32", field: Field{Offset: 4, Size: 4}, raw: raw, wantUint: 0xfffffffe, wantInt: -2, ok: true},
		{name: "u64", field: Field{Offset: 8, Size: 8}, raw: raw, wantUint: 0xfffffffffffffe, wantInt: 0xfffffffffffffe, ok: true},
		{name: "small positive", field: Field{Offset: 16, Size: 4}, raw: raw, wantUint: 7, wantInt: 7, ok: true},
		{name: "last byte", field: Field{Offset: 23, Size: 1}, raw: raw, ok: true},
		{name: "ends at record end", field: Field{Offset: 16, Size: 8}, raw: raw, wantUint: 7, wantInt: 7, ok: true},
		{name: "one byte short", field: Field{Offset: 17, Size: 8}, raw: raw},
		{name: "offset past end", field: Field{Offset: 25, Size: 1}, raw: raw},
		{name: "offset at end", field: Field{Offset: 24, Size: 1}, raw: raw},
		{name: "empty record", field: Field{Offset: 0, Size: 4}, raw: nil},
		{name: "size 3", field: Field{Offset: 0, Size: 3}, raw: raw},
		{name: "size 16 array", field: Field{Offset: 0, Size: 16, ArrayLen: 16}, raw: raw},
		{name: "size 0", field: Field{Offset: 0, Size: 0}, raw: raw},
		{name: "negative offset", field: Field{Offset: -1, Size: 1}, raw: raw},
		{name: "huge offset", field: Field{Offset: int(^uint(0) >> 1), Size: 8}, raw: raw},
		{name: "huge size", field: Field{Offset: 8, Size: int(^uint(0) >> 1)}, raw: raw},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, ok := tt.field.Uint(tt.raw)
			if ok != tt.ok || u != tt.wantUint {
				t.Errorf("Uint = %#x, %v; want %#x, %v", u, ok, tt.wantUint, tt.ok)
			}
			i, ok := tt.field.Int(tt.raw)
			if ok != tt.ok || i != tt.wantInt {
				t.Errorf("Int = %d, %v; want %d, %v", i, ok, tt.wantInt, tt.ok)
			}
		})
	}
}

func TestFieldBytesString(t *testing.T) {
	ne := binary.NativeEndian
	// A sched_process_exec-like record: a __data_loc descriptor at 8 that
	// points at "/bin/true\0" (10 bytes) at 20, and a char[8] comm at 12.
	exec := record(30, func(b []byte) {
		ne.PutUint32(b[8:], 10<<16|20)
		copy(b[12:], "bash\x00\x00zz")
		copy(b[20:], "/bin/true\x00")
	})
	filename := Field{Name: "filename", Offset: 8, Size: 4, DataLoc: true}
	comm := Field{Name: "comm", Offset: 12, Size: 8, ArrayLen: 8}
	// __rel_loc at 8: offset 4 counts from the end of the field (12), so the
	// data starts at 16.
	rel := record(24, func(b []byte) {
		ne.PutUint32(b[8:], 3<<16|4)
		copy(b[16:], "abc")
	})
	relField := Field{Offset: 8, Size: 4, DataLoc: true, RelLoc: true}
	descriptor := func(v uint32) []byte { return record(12, func(b []byte) { ne.PutUint32(b[8:], v) }) }
	for _, tt := range []struct {
		name  string
		field Field
		raw   []byte
		bytes string
		str   string
		ok    bool
	}{
		{name: "data_loc string", field: filename, raw: exec, bytes: "/bin/true\x00", str: "/bin/true", ok: true},
		{name: "fixed array", field: comm, raw: exec, bytes: "bash\x00\x00zz", str: "bash", ok: true},
		{name: "array ending in NUL", field: Field{Offset: 26, Size: 4}, raw: exec, bytes: "rue\x00", str: "rue", ok: true},
		{name: "array without NUL", field: Field{Offset: 21, Size: 3}, raw: exec, bytes: "bin", str: "bin", ok: true},
		{name: "rel_loc", field: relField, raw: rel, bytes: "abc", str: "abc", ok: true},
		{name: "data_loc empty", field: filename, raw: descriptor(0<<16 | 12), bytes: "", str: "", ok: true},
		{name: "data_loc ends at record end", field: filename, raw: descriptor(1<<16 | 11), bytes: "\x00", str: "", ok: true},
		{name: "data_loc past end", field: filename, raw: descriptor(3<<16 | 10)},
		{name: "data_loc offset past end", field: filename, raw: descriptor(0<<16 | 13)},
		{name: "data_loc huge", field: filename, raw: descriptor(0xffffffff)},
		{name: "rel_loc past end", field: relField, raw: descriptor(1<<16 | 0)},
		{name: "descriptor cut", field: filename, raw: exec[:10]},
		{name: "data_loc of wrong size", field: Field{Offset: 8, Size: 8, DataLoc: true}, raw: exec},
		{name: "array cut", field: comm, raw: exec[:19]},
		{name: "nil record", field: comm, raw: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := tt.field.Bytes(tt.raw)
			if ok != tt.ok || string(b) != tt.bytes {
				t.Errorf("Bytes = %q, %v; want %q, %v", b, ok, tt.bytes, tt.ok)
			}
			if ok && cap(b) != len(b) {
				t.Errorf("Bytes has capacity %d for length %d: appending would clobber the record", cap(b), len(b))
			}
			s, ok := tt.field.String(tt.raw)
			if ok != tt.ok || s != tt.str {
				t.Errorf("String = %q, %v; want %q, %v", s, ok, tt.str, tt.ok)
			}
		})
	}
}

// TestFieldOnFixture reads a hand-built kfree_skb record through the fields
// of the 6.18 format, as the monitor will.
func TestFieldOnFixture(t *testing.T) {
	f, err := ParseFormat("skb", "kfree_skb", readFixture(t, "kfree_skb_6.18.format"))
	if err != nil {
		t.Fatal(err)
	}
	ne := binary.NativeEndian
	raw := record(40, func(b []byte) {
		ne.PutUint16(b[0:], 2310)
		ne.PutUint64(b[16:], 0xffffffff81234567)
		ne.PutUint16(b[32:], 0x0800)
		ne.PutUint32(b[36:], 3)
	})
	get := func(name string) uint64 {
		fd, err := f.Field(name)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := fd.Uint(raw)
		if !ok {
			t.Fatalf("%s: record too short", name)
		}
		return v
	}
	if got := get("common_type"); got != uint64(f.ID) {
		t.Errorf("common_type = %d, want the ID %d", got, f.ID)
	}
	if got := get("location"); got != 0xffffffff81234567 {
		t.Errorf("location = %#x", got)
	}
	if got := get("protocol"); got != 0x0800 {
		t.Errorf("protocol = %#x", got)
	}
	if name, ok := f.SymbolName("reason", get("reason")); name != "NO_SOCKET" || !ok {
		t.Errorf("reason = %q, %v; want NO_SOCKET", name, ok)
	}
	reason, _ := f.Field("reason")
	if _, ok := reason.Uint(raw[:39]); ok {
		t.Error("reason read from a 39-byte record")
	}
}

func TestFieldAccessorsDoNotAllocate(t *testing.T) {
	raw := make([]byte, 64)
	binary.NativeEndian.PutUint32(raw[8:], 4<<16|40)
	u := Field{Offset: 36, Size: 4}
	d := Field{Offset: 8, Size: 4, DataLoc: true}
	allocs := testing.AllocsPerRun(100, func() {
		u.Uint(raw)
		u.Int(raw)
		d.Bytes(raw)
	})
	if allocs != 0 {
		t.Errorf("Uint, Int and Bytes allocate %v times per run, want 0", allocs)
	}
}

func BenchmarkField(b *testing.B) {
	raw := make([]byte, 64)
	binary.NativeEndian.PutUint32(raw[8:], 4<<16|40)
	u := Field{Offset: 36, Size: 4}
	d := Field{Offset: 8, Size: 4, DataLoc: true}
	b.Run("Uint", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u.Uint(raw)
		}
	})
	b.Run("Bytes/data_loc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d.Bytes(raw)
		}
	})
}
