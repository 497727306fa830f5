package perfdata

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestOpenPerfRecordCapture reads testdata/kfree_skb.data, made by
// scripts/perfdata-testdata.sh: perf record -e skb:kfree_skb -a while 3
// datagrams went to a closed UDP port.
func TestOpenPerfRecordCapture(t *testing.T) {
	f := openBytes(t, readTestdata(t, "kfree_skb.data"))
	if len(f.Attrs) != 2 || f.Attrs[0].Name != "skb:kfree_skb" || f.Attrs[1].Name != "dummy:HG" {
		t.Fatalf("attrs %+v, want skb:kfree_skb and perf's dummy:HG", f.Attrs)
	}
	if len(f.Meta.KernelBuildID) != 20 || f.Meta.Hostname == "" || f.Meta.Arch == "" || len(f.Meta.Cmdline) == 0 {
		t.Errorf("meta incomplete: %+v", f.Meta)
	}
	format := kfreeSkbFormat(t, f)
	counts := map[uint32]int{}
	for _, r := range collect(t, f, false) {
		counts[r.Type]++
		if r.Type != RecordSample {
			continue
		}
		if r.Attr != 0 {
			t.Errorf("sample at %d mapped to attr %d, want 0 (id %d)", r.Offset, r.Attr, r.Sample.ID)
		}
		d := parseDrop(t, format, r.Sample.Raw)
		if d.reason != "NO_SOCKET" || d.protocol != 0x0800 || d.skbaddr == 0 || d.location == 0 {
			t.Errorf("sample at %d: %+v, want an IPv4 NO_SOCKET drop", r.Offset, d)
		}
	}
	if counts[RecordSample] != 3 {
		t.Errorf("%d samples, want 3 (records by type: %v)", counts[RecordSample], counts)
	}
}

func TestOpenRejects(t *testing.T) {
	real := readTestdata(t, "kfree_skb.data")
	// Offsets within real: the data section and its first record.
	f := openBytes(t, real)
	dataOff := int(f.data.Offset)
	patch := func(b []byte, off int, v []byte) []byte {
		c := bytes.Clone(b)
		copy(c[off:], v)
		return c
	}
	u16 := func(v uint16) []byte { return le.AppendUint16(nil, v) }
	u64 := func(v uint64) []byte { return le.AppendUint64(nil, v) }
	// A writer that was never closed: its buffer overflowed once.
	var unclosed memFile
	w, err := Create(&unclosed, []Attr{kfreeSkbAttr(1, tracepointSampleType)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for len(unclosed.b) < 1000 {
		if err := w.WriteSample(0, &Sample{Raw: rawRecord(1)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		data      []byte
		wantIs    error
		wantInErr string
		records   bool // the error comes from Records, not Open
	}{
		{name: "empty", data: nil, wantIs: ErrFormat, wantInErr: "too short"},
		{name: "garbage", data: bytes.Repeat([]byte("x"), 200), wantIs: ErrFormat, wantInErr: "not a perf.data file"},
		{name: "big-endian", data: patch(real, 0, []byte("2ELIFREP")), wantIs: ErrNotSupported, wantInErr: "big-endian"},
		{name: "version 1", data: patch(real, 0, []byte("PERFFILE")), wantIs: ErrNotSupported, wantInErr: "version 1"},
		{name: "pipe mode", data: readTestdata(t, "kfree_skb.pipe.data"), wantIs: ErrNotSupported, wantInErr: "-o FILE instead of a pipe"},
		{name: "compressed", data: readTestdata(t, "kfree_skb.z.data"), wantIs: ErrNotSupported, wantInErr: "without -z"},
		{name: "truncated header", data: real[:60], wantIs: ErrFormat, wantInErr: "header size"},
		{name: "truncated data", data: real[:dataOff+100], wantIs: ErrFormat, wantInErr: "outside the file"},
		{name: "header size", data: patch(real, 8, u64(200)), wantIs: ErrFormat, wantInErr: "header size 200"},
		{name: "attr size huge", data: patch(real, 16, u64(1<<40)), wantIs: ErrFormat, wantInErr: "attr size"},
		{name: "attrs outside file", data: patch(real, 24, u64(1<<62)), wantIs: ErrFormat, wantInErr: "attr section"},
		{name: "data size huge", data: patch(real, 48, u64(1<<62)), wantIs: ErrFormat, wantInErr: "data section"},
		{name: "feature bits garbage", data: patch(real, 72, u64(^uint64(0))), wantIs: ErrFormat, wantInErr: "feature 1"},
		{name: "data offset past end", data: patch(real, 40, u64(uint64(len(real))+8)), wantIs: ErrFormat, wantInErr: "data section"},
		{name: "never closed", data: unclosed.b, wantIs: ErrFormat, wantInErr: "recording was not finished"},
		{name: "record size 0", data: patch(real, dataOff+6, u16(0)), wantIs: ErrFormat, wantInErr: "size 0", records: true},
		{name: "record size past data", data: patch(real, dataOff+6, u16(0xfff8)), wantIs: ErrFormat, wantInErr: "overruns the data section", records: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err == nil && tt.records {
				err = f.Records(func(*Record) error { return nil })
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not match %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) || !strings.Contains(err.Error(), "offset") {
				t.Errorf("error %q does not name the offset and %q", err, tt.wantInErr)
			}
		})
	}
}

// TestOpenTruncatedEverywhere cuts a real capture at every 97th byte: each
// cut gives an error or fewer records, never a panic or a hang.
func TestOpenTruncatedEverywhere(t *testing.T) {
	real := readTestdata(t, "kfree_skb.data")
	for n := 0; n < len(real); n += 97 {
		b := real[:n]
		f, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue
		}
		_ = f.Records(func(*Record) error { return nil })
	}
}
