package perfdata

import (
	"io"
	"testing"
)

// discardSeeker is an io.WriteSeeker that keeps nothing.
type discardSeeker struct{}

func (discardSeeker) Write(p []byte) (int, error)    { return len(p), nil }
func (discardSeeker) Seek(int64, int) (int64, error) { return 0, nil }

var _ io.WriteSeeker = discardSeeker{}

func benchSample() *Sample {
	return &Sample{ID: 100, IP: 0xffffffff81e95010, Pid: 1, Tid: 1, Time: 1, CPU: 1, Period: 1,
		Callchain: []uint64{perfContextMax + 128, 0xffffffff81a00000}, Raw: rawRecord(1)}
}

func TestWriteSampleDoesNotAllocate(t *testing.T) {
	w, err := Create(discardSeeker{}, []Attr{kfreeSkbAttr(1, tracepointSampleType|sampleCallchain)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := benchSample()
	if n := testing.AllocsPerRun(1000, func() { _ = w.WriteSample(0, s) }); n != 0 {
		t.Errorf("WriteSample allocates %v times per call, want 0", n)
	}
}

func BenchmarkWriteSample(b *testing.B) {
	w, err := Create(discardSeeker{}, []Attr{kfreeSkbAttr(1, tracepointSampleType|sampleCallchain)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := benchSample()
	b.ReportAllocs()
	for b.Loop() {
		s.Time++
		if err := w.WriteSample(0, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecords(b *testing.B) {
	var mf memFile
	w, err := Create(&mf, []Attr{kfreeSkbAttr(1, tracepointSampleType|sampleCallchain)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s := benchSample()
	for i := 0; i < 10000; i++ {
		_ = w.WriteSample(0, s)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	f := openBytes(b, mf.b)
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Records(func(*Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
