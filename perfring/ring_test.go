package perfring

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestNewRingRejects(t *testing.T) {
	tests := []struct {
		name       string
		dataPages  int
		sampleType uint64
		wantErr    string
		wantIs     error
	}{
		{name: "zero data pages", dataPages: 0, wantErr: "cpu 3: 0 data pages: must be a power of two"},
		{name: "three data pages", dataPages: 3, wantErr: "3 data pages: must be a power of two"},
		{name: "sample read", dataPages: 1, sampleType: unix.PERF_SAMPLE_READ, wantErr: "PERF_SAMPLE_READ", wantIs: ErrNotSupported},
		{name: "branch stack and regs", dataPages: 1,
			sampleType: unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_BRANCH_STACK | unix.PERF_SAMPLE_REGS_USER,
			wantErr:    "bits PERF_SAMPLE_BRANCH_STACK|PERF_SAMPLE_REGS_USER: perfring: not supported", wantIs: ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRing(-1, 3, tt.dataPages, tt.sampleType)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewRing: %v, want error containing %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("NewRing: %v is not %v", err, tt.wantIs)
			}
		})
	}
}

func TestRingFromMemoryRejects(t *testing.T) {
	page := os.Getpagesize()
	mem := make([]uint64, 4*page/8)
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&mem[0])), len(mem)*8)
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&buf[0]))
	tests := []struct {
		name      string
		mem       []byte
		off, size uint64
		wantErr   string
	}{
		{name: "no data page", mem: buf[:page], wantErr: "want a meta page and at least one data page"},
		{name: "three data pages by default", mem: buf, wantErr: "does not fit"},
		{name: "size not a power of two", mem: buf, off: uint64(page), size: 3 * uint64(page), wantErr: "does not fit"},
		{name: "data past mapping", mem: buf, off: 2 * uint64(page), size: 4 * uint64(page), wantErr: "does not fit"},
		{name: "data over meta", mem: buf, off: 8, size: uint64(page), wantErr: "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta.Data_offset, meta.Data_size = tt.off, tt.size
			_, err := NewRingFromMemory(tt.mem, -1, 1, 0)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("newRingFromMemory: %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestMmapPermissionError(t *testing.T) {
	err := mmapError(3, 257, 4096, unix.EPERM)
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("%v does not wrap os.ErrPermission", err)
	}
	for _, want := range []string{"perfring: cpu 3: mmap ring of 257 pages (1028 KiB)",
		"kernel.perf_event_mlock_kb", "RLIMIT_MEMLOCK", "CAP_IPC_LOCK"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if err := mmapError(0, 9, 4096, unix.ENODEV); strings.Contains(err.Error(), "RLIMIT") || !errors.Is(err, unix.ENODEV) {
		t.Errorf("ENODEV: %v", err)
	}
}

// TestWrapAround places records of several shapes so that the end of the
// data area splits them at every byte (kernel records are 8-byte aligned;
// the odd splits exercise the copy paths too) and checks every field.
func TestWrapAround(t *testing.T) {
	kernel := []uint64{0xffffffffffffff80, 0xffffffff81000010, 0xffffffff81000020}
	tests := []struct {
		name string
		st   uint64
		rec  Record
	}{
		{name: "kfree_skb raw 44", st: unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_TID,
			rec: Record{Type: RecordSample, Pid: 7, Tid: 8, Time: 99, SampleCPU: 1, Raw: pattern(44)}},
		{name: "empty raw", st: unix.PERF_SAMPLE_RAW, rec: Record{Type: RecordSample, Raw: []byte{}}},
		{name: "odd raw with callchain", st: unix.PERF_SAMPLE_IP | unix.PERF_SAMPLE_CALLCHAIN | unix.PERF_SAMPLE_RAW,
			rec: Record{Type: RecordSample, IP: 0x1234, Callchain: kernel, Raw: pattern(13)}},
		{name: "all bits", st: supportedSampleType, rec: Record{Type: RecordSample, IP: 1, Pid: 2, Tid: 3, Time: 4,
			Addr: 5, ID: 6, StreamID: 7, SampleCPU: 1, Period: 9, Callchain: pattern64(20), Raw: pattern(200)}},
		{name: "lost", rec: Record{Type: RecordLost, ID: 101, Lost: 5}},
		{name: "comm", rec: Record{Type: RecordComm, Pid: 17, Tid: 18, Comm: []byte("python3")}},
		{name: "comm of 15 bytes", rec: Record{Type: RecordComm, Pid: 1, Tid: 1, Comm: []byte("ksoftirqd/12345")}},
	}
	for _, base := range []uint64{0, 1 << 40, ^uint64(0) - 3*4096} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/base %#x", tt.name, base), func(t *testing.T) {
				s := newSynthRing(t, 1, 1, tt.st, 0, false)
				rd := newTestReader(t, s.Ring)
				b := encodeSample(tt.st, &tt.rec)
				switch tt.rec.Type {
				case RecordLost:
					b = lostRecord(tt.rec.ID, tt.rec.Lost)
				case RecordComm:
					b = commRecord(tt.rec.Pid, tt.rec.Tid, string(tt.rec.Comm))
				}
				size := uint64(len(s.w.Data))
				// Splits at every byte, then unaligned starts that do not wrap.
				var starts []uint64
				for split := 0; split <= len(b); split++ {
					starts = append(starts, base+2*size-uint64(split))
				}
				for shift := uint64(1); shift < 16; shift++ {
					starts = append(starts, base+shift)
				}
				for split, start := range starts {
					s.rewind(start)
					if !s.w.Write(b) {
						t.Fatal("write did not fit")
					}
					var got Record
					if ok, err := rd.ReadPending(&got); !ok || err != nil {
						t.Fatalf("split %d: ReadPending = %v, %v", split, ok, err)
					}
					want := tt.rec
					want.CPU = 1
					if d := diffRecord(&got, &want); d != "" {
						t.Fatalf("split %d: %s", split, d)
					}
					if ok, err := rd.ReadPending(&got); ok || err != nil {
						t.Fatalf("split %d: second ReadPending = %v, %v", split, ok, err)
					}
				}
				if tt.rec.Type == RecordLost && s.Lost() != uint64(len(starts))*tt.rec.Lost {
					t.Errorf("ring.Lost() = %d", s.Lost())
				}
			})
		}
	}
}

// TestCorrupt writes bad records and checks that each gives one located
// error, no panic, and that reading goes on afterwards.
func TestCorrupt(t *testing.T) {
	st := uint64(unix.PERF_SAMPLE_TID | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CALLCHAIN | unix.PERF_SAMPLE_RAW)
	u64 := func(v ...uint64) (b []byte) {
		for _, x := range v {
			b = append(b, byte(x), byte(x>>8), byte(x>>16), byte(x>>24), byte(x>>32), byte(x>>40), byte(x>>48), byte(x>>56))
		}
		return b
	}
	sample := func(size int, body ...uint64) []byte {
		return append(header(RecordSample, 0, size), u64(body...)...)
	}
	tests := []struct {
		name    string
		bytes   []byte
		head    int // data_head - data_tail, when not len(bytes)
		wantErr string
		resync  bool // the reader skips to data_head, not just the record
	}{
		{name: "header size 0", bytes: header(RecordSample, 0, 0)[:8], wantErr: "header size 0 is less than 8", resync: true},
		{name: "comm too short", bytes: header(RecordComm, 0, 8), wantErr: "PERF_RECORD_COMM of 8 bytes"},
		{name: "comm without NUL", bytes: append(header(RecordComm, 0, 24), u64(0x0000001200000011, 0x4142434445464748)...),
			wantErr: "without a NUL-terminated name"},
		{name: "header size 4", bytes: header(RecordSample, 0, 4)[:8], wantErr: "header size 4 is less than 8", resync: true},
		{name: "header size past data area", bytes: header(RecordSample, 0, 8192)[:8], wantErr: "header size 8192 exceeds the 4096-byte data area", resync: true},
		{name: "header size past head", bytes: sample(64, 1, 2), wantErr: "header size 64 runs past data_head (24 bytes available)", resync: true},
		{name: "less than a header", bytes: []byte{1, 2, 3, 4}, wantErr: "4 bytes before data_head, less than a header", resync: true},
		{name: "head beyond ring", bytes: sample(24, 1, 2), head: 8192, wantErr: "bytes past data_tail", resync: true},
		{name: "sample shorter than fixed fields", bytes: sample(16, 1), wantErr: "sample of 16 bytes, its sample type needs 24"},
		{name: "callchain nr missing", bytes: sample(24, 1, 2), wantErr: "callchain nr needs 8 bytes, 0 left"},
		{name: "callchain past record", bytes: sample(40, 1, 2, 1<<60, 0), wantErr: "callchain of 1152921504606846976 entries runs past the record"},
		{name: "callchain past record by one", bytes: sample(48, 1, 2, 3, 0xa, 0), wantErr: "callchain of 3 entries runs past the record (16 bytes left)"},
		{name: "raw size missing", bytes: sample(32, 1, 2, 0), wantErr: "raw size needs 4 bytes, 0 left"},
		{name: "raw past record", bytes: sample(40, 1, 2, 0, 1000), wantErr: "raw data of 1000 bytes runs past the record (4 bytes left)"},
		{name: "short lost record", bytes: append(header(RecordLost, 0, 16), u64(1)...), wantErr: "PERF_RECORD_LOST of 16 bytes, want at least 24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSynthRing(t, 2, 1, st, 0, false)
			rd := newTestReader(t, s.Ring)
			good := encodeSample(st, &Record{Pid: 1, Tid: 2, Time: 3, Raw: []byte("ok")})
			s.w.Put(tt.bytes)
			if tt.head != 0 {
				s.w.Head += uint64(tt.head - len(tt.bytes))
			}
			s.w.Commit()
			var rec Record
			rd.SetDeadline(time.Now().Add(time.Second))
			err := rd.ReadInto(&rec)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ReadInto: %v, want a *CorruptError", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "perfring: cpu 2: corrupt record at offset 0x0: ") {
				t.Fatalf("ReadInto: %q, want %q", err, tt.wantErr)
			}
			if tt.resync {
				// Everything up to data_head is gone; the error is not repeated.
				s.rewind(s.w.Head)
			}
			s.w.Write(good)
			if err := rd.ReadInto(&rec); err != nil || string(rec.Raw) != "ok" {
				t.Fatalf("after the error: ReadInto = %v, raw %q", err, rec.Raw)
			}
			rd.SetDeadline(time.Now())
			if err := rd.ReadInto(&rec); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("third ReadInto: %v, want the deadline", err)
			}
		})
	}
}

func TestLegacyDataOffset(t *testing.T) {
	s := newSynthRing(t, 0, 2, unix.PERF_SAMPLE_RAW, 0, true)
	if len(s.data) != 2*os.Getpagesize() {
		t.Fatalf("data area of %d bytes", len(s.data))
	}
	rd := newTestReader(t, s.Ring)
	s.w.Write(rawSample([]byte("legacy")))
	var rec Record
	if err := rd.ReadInto(&rec); err != nil || string(rec.Raw) != "legacy" {
		t.Fatalf("ReadInto = %v, %q", err, rec.Raw)
	}
}

// diffRecord compares all fields; slices by content, nil equal to empty.
func diffRecord(got, want *Record) string {
	g, w := *got, *want
	g.Callchain, g.Raw, w.Callchain, w.Raw = nil, nil, nil, nil
	g.Comm, w.Comm = nil, nil
	if !bytes.Equal(got.Comm, want.Comm) {
		return fmt.Sprintf("comm %q, want %q", got.Comm, want.Comm)
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("got %+v, want %+v", g, w)
	}
	if !slices.Equal(got.Callchain, want.Callchain) {
		return fmt.Sprintf("callchain %x, want %x", got.Callchain, want.Callchain)
	}
	if !bytes.Equal(got.Raw, want.Raw) {
		return fmt.Sprintf("raw %x, want %x", got.Raw, want.Raw)
	}
	return ""
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

func pattern64(n int) []uint64 {
	v := make([]uint64, n)
	for i := range v {
		v[i] = uint64(i+1) * 0x0101010101010101
	}
	return v
}
