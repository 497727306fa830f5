package perfdata

import (
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAttrSizeIsVer7(t *testing.T) {
	if got := binary.Size(unix.PerfEventAttr{}); got != attrSize {
		t.Fatalf("unix.PerfEventAttr encodes to %d bytes, the writer assumes %d (PERF_ATTR_SIZE_VER7)", got, attrSize)
	}
}

// op is one write in a round-trip case.
type op struct {
	attr   int
	sample *Sample
	lost   uint64 // LOST record when non-zero, of sample's ID and trailer
	round  bool
}

// rawRecord makes a raw payload whose size plus its u32 size is a multiple
// of 8, as the kernel pads it.
func rawRecord(seed byte) []byte {
	b := make([]byte, 44)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	chain := []uint64{perfContextMax + 128, 0xffffffff81a00000, 0xffffffff81b00010} // PERF_CONTEXT_KERNEL, 2 ips
	s := func(id, time uint64, cpu uint32, cc []uint64, raw []byte) *Sample {
		return &Sample{ID: id, IP: 0xffffffff81e95010, Pid: 42, Tid: 43, Time: time, CPU: cpu, Period: 1, Callchain: cc, Raw: raw}
	}
	tests := []struct {
		name  string
		attrs []Attr
		ops   []op
		// want, when set, is what reads back instead of the written samples.
		wantRawLen []int
	}{
		{
			name:  "one attr without callchain",
			attrs: []Attr{kfreeSkbAttr(2310, tracepointSampleType)},
			ops: []op{
				{attr: 0, sample: s(100, 10, 0, nil, rawRecord(1))},
				{attr: 0, sample: s(101, 11, 1, nil, rawRecord(2))},
				{round: true},
				{attr: 0, sample: s(100, 12, 0, nil, rawRecord(3))},
			},
		},
		{
			name:  "one attr with callchain",
			attrs: []Attr{kfreeSkbAttr(2310, tracepointSampleType|sampleCallchain)},
			ops: []op{
				{attr: 0, sample: s(100, 10, 0, chain, rawRecord(1))},
				{attr: 0, sample: s(100, 11, 0, nil, rawRecord(2))},
				{attr: 0, sample: s(101, 12, 1, chain[:1], rawRecord(3))},
			},
		},
		{
			name:  "tracepoint and marker with lost and rounds",
			attrs: []Attr{kfreeSkbAttr(2310, tracepointSampleType|sampleCallchain), markerAttr(tracepointSampleType)},
			ops: []op{
				{attr: 0, sample: s(100, 10, 0, chain, rawRecord(1))},
				{attr: 1, sample: s(200, 11, 0, nil, []byte("report 1"))},
				{attr: 0, sample: s(101, 12, 1, nil, rawRecord(4)), lost: 17},
				{round: true},
				{attr: 0, sample: s(101, 13, 1, chain, rawRecord(5))},
				{round: true},
			},
			wantRawLen: []int{44, 12, 44, 0, 0, 44}, // "report 1" padded to 12
		},
		{
			name:  "only ID, no IDENTIFIER",
			attrs: []Attr{kfreeSkbAttr(2310, sampleTID|sampleTime|sampleID|sampleCPU|sampleRaw)},
			ops: []op{
				{attr: 0, sample: &Sample{ID: 100, Pid: 1, Tid: 1, Time: 5, CPU: 1, Raw: rawRecord(9)}},
				{attr: 0, sample: &Sample{ID: 100, Pid: 1, Tid: 1, Time: 6, CPU: 1, Raw: rawRecord(9)}, lost: 3},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta := &Meta{Hostname: "host", OSRelease: "6.1.0", Version: "dropmon test", Arch: "x86_64",
				CPUsOnline: 2, CPUsAvail: 4, Cmdline: []string{"dropmon", "record", "-o", "x.data"},
				KernelBuildID: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
				Tracing: &TracingData{HeaderPage: []byte("page\n"), HeaderEvent: []byte("event\n"),
					Events:   []EventFormat{{"skb", []byte("name: kfree_skb\n")}, {"skb", []byte("name: y\n")}, {"net", []byte("name: x\n")}},
					Kallsyms: []byte("ffffffff81000000 T _text\n")},
				HasClockID: true, ClockID: unix.CLOCK_MONOTONIC, ClockData: &ClockData{WallNS: 1e18, ClockNS: 5},
				KernelText: 0xffffffff81000000,
			}
			var mf memFile
			w, err := Create(&mf, tt.attrs, meta)
			if err != nil {
				t.Fatal(err)
			}
			var want []Record
			for _, o := range tt.ops {
				switch {
				case o.round:
					if err := w.WriteFinishedRound(); err != nil {
						t.Fatal(err)
					}
					want = append(want, Record{Type: RecordFinishedRound, Attr: -1})
				default:
					if err := w.WriteSample(o.attr, o.sample); err != nil {
						t.Fatal(err)
					}
					want = append(want, Record{Type: RecordSample, Misc: miscKernel, Attr: o.attr, Sample: *o.sample})
					if o.lost != 0 {
						if err := w.WriteLost(o.attr, o.sample.ID, o.lost, o.sample); err != nil {
							t.Fatal(err)
						}
						want = append(want, Record{Type: RecordLost, Attr: o.attr, Lost: o.lost,
							Sample: Sample{ID: o.sample.ID, Pid: o.sample.Pid, Tid: o.sample.Tid, Time: o.sample.Time, CPU: o.sample.CPU}})
					}
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			f := openBytes(t, mf.b)
			compareAttrs(t, f.Attrs, tt.attrs)
			m := *meta
			m.KernelText = 0 // not a feature: it becomes the kernel MMAP record
			if !reflect.DeepEqual(f.Meta.Tracing, m.Tracing) {
				t.Errorf("tracing data:\n got %+v\nwant %+v", f.Meta.Tracing, m.Tracing)
			}
			if !reflect.DeepEqual(f.Meta.ClockData, m.ClockData) {
				t.Errorf("clock data: got %+v, want %+v", f.Meta.ClockData, m.ClockData)
			}
			f.Meta.Tracing, m.Tracing, f.Meta.ClockData, m.ClockData = nil, nil, nil, nil
			if !reflect.DeepEqual(f.Meta, m) {
				t.Errorf("meta:\n got %+v\nwant %+v", f.Meta, m)
			}
			got := collect(t, f, false)
			checkRecords(t, got, want, tt.wantRawLen)
		})
	}
}

func compareAttrs(t *testing.T, got, want []Attr) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d attrs, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		w.Attr.Size = attrSize
		if !reflect.DeepEqual(got[i], w) {
			t.Errorf("attr %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

// checkRecords compares records, ignoring offsets, with fields the attr
// does not record zeroed in want.
func checkRecords(t *testing.T, got, want []Record, rawLen []int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Offset = 0
		if len(rawLen) > i && rawLen[i] != 0 {
			if len(g.Sample.Raw) != rawLen[i] {
				t.Errorf("record %d: raw of %d bytes, want %d", i, len(g.Sample.Raw), rawLen[i])
			}
			g.Sample.Raw = g.Sample.Raw[:len(w.Sample.Raw)]
		}
		if len(w.Sample.Callchain) == 0 {
			w.Sample.Callchain = nil
		}
		if w.Type == RecordSample && w.Sample.IP == 0 { // sample_type without IP/PERIOD
			w.Sample.Period = 0
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}
