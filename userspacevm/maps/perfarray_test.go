package maps

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

func TestPerfOutput(t *testing.T) {
	m := mustNew(t, ebpf.PerfEventArray, 4, 4, testCPUs) // Events buffer of 4
	for _, tc := range []struct {
		name  string
		cpu   int
		flags uint64
		want  int64
	}{
		{"current cpu", 1, flagCurrentCPU, 0},
		{"explicit index", 2, 2, 0},
		{"index 0 from cpu 3", 3, 0, 0},
		{"index past max_entries", 0, testCPUs, -int64(unix.E2BIG)},
		{"current cpu past max_entries", testCPUs, flagCurrentCPU, -int64(unix.E2BIG)},
		{"ctxlen bits", 0, 1 << 32, -int64(unix.EINVAL)},
	} {
		data := []byte(tc.name)
		if got := m.Output(tc.cpu, tc.flags, data); got != tc.want {
			t.Errorf("%s: Output = %d, want %d", tc.name, got, tc.want)
			continue
		}
		if tc.want != 0 {
			continue
		}
		data[0] = '!' // the record is a copy
		rec := <-m.Events()
		if rec.CPU != tc.cpu || string(rec.Data) != tc.name {
			t.Errorf("%s: record %+v", tc.name, rec)
		}
	}
}

func TestPerfOutputLost(t *testing.T) {
	m := mustNew(t, ebpf.PerfEventArray, 4, 4, testCPUs)
	for i := range 10 {
		want := int64(0)
		if i >= 4 {
			want = -int64(unix.ENOSPC)
		}
		if got := m.Output(0, flagCurrentCPU, []byte{byte(i)}); got != want {
			t.Errorf("record %d: %d, want %d", i, got, want)
		}
	}
	if m.Lost() != 6 {
		t.Errorf("Lost %d, want 6", m.Lost())
	}
	for i := range 4 {
		if rec := <-m.Events(); !bytes.Equal(rec.Data, []byte{byte(i)}) {
			t.Errorf("record %d: %v", i, rec.Data)
		}
	}
	if got := m.Output(0, flagCurrentCPU, nil); got != 0 {
		t.Errorf("after draining: %d", got)
	}
}

func TestPerfEventArrayGoAPI(t *testing.T) {
	m, err := New(&programSpecPerf, &Options{NumCPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lookup(u32(0)); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Lookup: %v, want ErrNotSupported", err)
	}
	if err := m.Update(u32(0), u32(0), UpdateAny); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Update: %v, want ErrNotSupported", err)
	}
	if m.Len() != 0 || m.LookupAddr(u32(0), 0) != 0 {
		t.Errorf("a perf event array has no entries to look at")
	}
	_ = m.Output(0, flagCurrentCPU, []byte{1})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, ok := <-m.Events(); !ok || rec.Data[0] != 1 {
		t.Errorf("record before Close: %v, %v", rec, ok)
	}
	if _, ok := <-m.Events(); ok {
		t.Errorf("Events not closed by Close")
	}
	hash := mustNew(t, ebpf.Hash, 4, 4, 4)
	if hash.Events() != nil || hash.Output(0, 0, nil) != -int64(unix.EINVAL) {
		t.Errorf("a hash map has no events")
	}
}
