package maps

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestArrayUpdateErrors(t *testing.T) {
	m := mustNew(t, ebpf.Array, 4, 8, 4)
	for _, tc := range []struct {
		name  string
		key   uint32
		flags uint64
		want  int64
	}{
		{"any", 0, 0, 0},
		{"exist", 3, 2, 0},
		{"noexist: every element exists", 1, 1, -int64(unix.EEXIST)},
		{"bad flags", 1, 3, -int64(unix.EINVAL)},
		{"BPF_F_LOCK is not supported", 1, 4, -int64(unix.EINVAL)},
		{"index = max_entries", 4, 0, -int64(unix.E2BIG)},
		{"index far out", 1 << 31, 0, -int64(unix.E2BIG)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.UpdateFromProgram(u32(tc.key), u64(7), tc.flags, 0); got != tc.want {
				t.Errorf("program update: %d, want %d", got, tc.want)
			}
			err := m.Update(u32(tc.key), u64(7), UpdateFlags(tc.flags))
			if got := errnoOf(err); got != tc.want {
				t.Errorf("Update: %v (errno %d), want errno %d", err, got, tc.want)
			}
		})
	}
}

func TestArrayLookupDelete(t *testing.T) {
	m := mustNew(t, ebpf.Array, 4, 12, 4)
	if v, err := m.Lookup(u32(2)); err != nil || !bytes.Equal(v, make([]byte, 12)) {
		t.Errorf("fresh element: %v, %v; want zeros", v, err)
	}
	want := []byte("hello world!")
	if err := m.Update(u32(2), want, UpdateAny); err != nil {
		t.Fatal(err)
	}
	if v, err := m.Lookup(u32(2)); err != nil || !bytes.Equal(v, want) {
		t.Errorf("Lookup: %q, %v", v, err)
	}
	if _, err := m.Lookup(u32(4)); !errors.Is(err, ErrKeyNotExist) || !errors.Is(err, unix.ENOENT) {
		t.Errorf("Lookup past the end: %v, want ErrKeyNotExist", err)
	}
	if a := m.LookupAddr(u32(4), 0); a != 0 {
		t.Errorf("LookupAddr past the end: %#x", a)
	}
	if a := m.LookupAddr(u32(2), 0); a != m.Pointer()+HeaderSize+2*16 {
		t.Errorf("LookupAddr(2) = block+%d, want block+%d", a-m.Pointer(), HeaderSize+2*16)
	}
	err := m.Delete(u32(2))
	if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), `delete map "test": array elements cannot be deleted`) {
		t.Errorf("Delete: %v, want EINVAL", err)
	}
	if got := m.DeleteFromProgram(u32(2)); got != -int64(unix.EINVAL) {
		t.Errorf("DeleteFromProgram: %d, want -EINVAL", got)
	}
	if m.Len() != 4 {
		t.Errorf("Len %d, want 4", m.Len())
	}
}

func TestArrayProgramWrites(t *testing.T) {
	m := mustNew(t, ebpf.Array, 4, 8, 2)
	a := m.LookupAddr(u32(1), 0)
	*word(m, a) = 0x1122334455667788
	if v, _ := m.Lookup(u32(1)); !bytes.Equal(v, u64(0x1122334455667788)) {
		t.Errorf("Lookup after a write through the address: %x", v)
	}
}

func TestGoAPIArgumentErrors(t *testing.T) {
	m := mustNew(t, ebpf.Hash, 4, 8, 4)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"short key", m.Update([]byte{1}, u64(1), UpdateAny), `update map "test": key is 1 bytes, want 4`},
		{"long value", m.Update(u32(1), u32(1), UpdateAny), `update map "test": value is 4 bytes, want 8`},
		{"lookup key", func() error { _, err := m.Lookup(nil); return err }(), `lookup map "test": key is 0 bytes`},
		{"delete key", m.Delete(u64(1)), `delete map "test": key is 8 bytes`},
		{"per-CPU values on a hash", m.UpdatePerCPU(u32(1), [][]byte{u64(1)}, UpdateAny), "per-CPU values for a Hash map"},
	} {
		if tc.err == nil || !errors.Is(tc.err, unix.EINVAL) || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want EINVAL and %q", tc.name, tc.err, tc.want)
		}
	}
	if got := m.UpdateFromProgram([]byte{1}, u64(1), 0, 0); got != -int64(unix.EINVAL) {
		t.Errorf("short key from program: %d", got)
	}
	if got := m.LookupAddr([]byte{1}, 0); got != 0 {
		t.Errorf("short key lookup: %#x", got)
	}
}

func TestClose(t *testing.T) {
	m, err := New(&programSpecArray, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := m.Lookup(u32(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Lookup after Close: %v, want ErrClosed", err)
	}
	it := m.Iterate()
	var k, v []byte
	if it.Next(&k, &v) || !errors.Is(it.Err(), ErrClosed) {
		t.Errorf("Iterate after Close: err %v, want ErrClosed", it.Err())
	}
}
