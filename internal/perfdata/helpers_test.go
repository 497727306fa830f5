package perfdata

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/tracepoint"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if need := m.off + int64(len(p)); need > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, need-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	m.off = off
	return off, nil
}

// openBytes opens an in-memory perf.data file.
func openBytes(t testing.TB, b []byte) *File {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return f
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("%v (regenerate with scripts/perfdata-testdata.sh)", err)
	}
	return b
}

// kfreeSkbAttr is the tracepoint attr as perf record -e skb:kfree_skb -a
// sets it; markerAttr is dropmon's report-boundary marker.
func kfreeSkbAttr(config uint64, st uint64) Attr {
	return Attr{Name: "skb:kfree_skb", IDs: []uint64{100, 101}, Attr: unix.PerfEventAttr{
		Type: unix.PERF_TYPE_TRACEPOINT, Config: config, Sample: 1, Sample_type: st,
		Bits: unix.PerfBitDisabled | unix.PerfBitInherit | unix.PerfBitSampleIDAll | unix.PerfBitExcludeGuest,
	}}
}

func markerAttr(st uint64) Attr {
	return Attr{Name: "dropmon:report", IDs: []uint64{200}, Attr: unix.PerfEventAttr{
		Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_DUMMY, Sample: 1, Sample_type: st,
		Bits: unix.PerfBitSampleIDAll,
	}}
}

const tracepointSampleType = sampleIP | sampleTID | sampleTime | sampleCPU | samplePeriod | sampleRaw | sampleIdentifier

// collect reads all records of f, detached from the reader's buffers.
func collect(t testing.TB, f *File, sorted bool) []Record {
	t.Helper()
	var out []Record
	fn := func(r *Record) error {
		out = append(out, copyRecord(r))
		return nil
	}
	var err error
	if sorted {
		err = f.SortedRecords(fn)
	} else {
		err = f.Records(fn)
	}
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	return out
}

// dropFields holds what a test reads from a kfree_skb raw record.
type dropFields struct {
	skbaddr, location uint64
	protocol          uint64
	reason            string
}

// kfreeSkbFormat parses skb:kfree_skb's format from f's tracing data.
func kfreeSkbFormat(t testing.TB, f *File) *tracepoint.Format {
	t.Helper()
	if f.Meta.Tracing == nil {
		t.Fatal("file has no tracing data")
	}
	for _, e := range f.Meta.Tracing.Events {
		if e.System != "skb" || !bytes.HasPrefix(e.Format, []byte("name: kfree_skb\n")) {
			continue
		}
		format, err := tracepoint.ParseFormat("skb", "kfree_skb", e.Format)
		if err != nil {
			t.Fatal(err)
		}
		return format
	}
	t.Fatal("no skb/kfree_skb format in the tracing data")
	return nil
}

func parseDrop(t testing.TB, format *tracepoint.Format, raw []byte) dropFields {
	t.Helper()
	get := func(name string) uint64 {
		fl, err := format.Field(name)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := fl.Uint(raw)
		if !ok {
			t.Fatalf("field %s: raw record of %d bytes too short", name, len(raw))
		}
		return v
	}
	reason, _ := format.SymbolName("reason", get("reason"))
	return dropFields{skbaddr: get("skbaddr"), location: get("location"), protocol: get("protocol"), reason: reason}
}
