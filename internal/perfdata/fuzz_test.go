package perfdata

import (
	"bytes"
	"os"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to Open and the record walks: they must
// return, without panicking, looping or allocating beyond the input.
func FuzzOpen(f *testing.F) {
	if b, err := os.ReadFile("testdata/kfree_skb.data"); err == nil {
		f.Add(b)
	}
	var mf memFile
	w, err := Create(&mf, []Attr{kfreeSkbAttr(1, tracepointSampleType|sampleCallchain), markerAttr(tracepointSampleType)},
		&Meta{Hostname: "h", Tracing: &TracingData{Events: []EventFormat{{"skb", []byte("name: kfree_skb\n")}}}})
	if err != nil {
		f.Fatal(err)
	}
	_ = w.WriteSample(0, benchSample())
	_ = w.WriteLost(0, 100, 1, nil)
	_ = w.WriteFinishedRound()
	_ = w.WriteSample(1, &Sample{ID: 200, Raw: []byte("m")})
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(mf.b)
	f.Add([]byte("PERFILE2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		_ = pf.Records(func(*Record) error { return nil })
		_ = pf.SortedRecords(func(*Record) error { return nil })
	})
}
