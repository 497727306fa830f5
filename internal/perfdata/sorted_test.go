package perfdata

import (
	"reflect"
	"testing"
)

func TestSortedRecords(t *testing.T) {
	const R = ^uint64(0) // a FINISHED_ROUND in the write sequence
	tests := []struct {
		name string
		// times of samples in file order, R for a round; cpu alternates.
		times []uint64
		// want is the delivery order.
		want []uint64
	}{
		{name: "no rounds: sorted whole", times: []uint64{5, 3, 9, 1, 7}, want: []uint64{1, 3, 5, 7, 9}},
		{name: "rounds", times: []uint64{2, 1, 4, R, 3, 6, 5, R, 8, 7, R}, want: []uint64{1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "equal times keep file order", times: []uint64{4, 4, R, 4, R}, want: []uint64{4, 4, 4}},
		{name: "late record after its round was flushed", times: []uint64{5, R, 6, R, 1, R}, want: []uint64{5, 1, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mf memFile
			w, err := Create(&mf, []Attr{kfreeSkbAttr(1, tracepointSampleType)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, tm := range tt.times {
				if tm == R {
					err = w.WriteFinishedRound()
				} else {
					err = w.WriteSample(0, &Sample{ID: 100, Time: tm, CPU: uint32(i % 2), Raw: []byte{byte(i), 0, 0, 0}})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, r := range collect(t, openBytes(t, mf.b), true) {
				got = append(got, r.Sample.Time)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("delivered %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSortedRecordsHoldsTwoRounds checks the memory bound: a record is
// delivered at the end of the round after the one it was read in, not at
// the end of the file, so at most two rounds are held.
func TestSortedRecordsHoldsTwoRounds(t *testing.T) {
	var mf memFile
	w, err := Create(&mf, []Attr{kfreeSkbAttr(1, tracepointSampleType)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const rounds, perRound = 100, 10
	for r := 0; r < rounds; r++ {
		for i := perRound - 1; i >= 0; i-- {
			if err := w.WriteSample(0, &Sample{ID: 100, Time: uint64(r*perRound + i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteFinishedRound(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	maxHeld := 0
	queueLenHook = func(n int) { maxHeld = max(maxHeld, n) }
	defer func() { queueLenHook = nil }()
	delivered := 0
	var last uint64
	if err := openBytes(t, mf.b).SortedRecords(func(r *Record) error {
		delivered++
		if r.Sample.Time < last {
			t.Fatalf("time %d after %d", r.Sample.Time, last)
		}
		last = r.Sample.Time
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if delivered != rounds*perRound {
		t.Fatalf("delivered %d, want %d", delivered, rounds*perRound)
	}
	if maxHeld != 2*perRound {
		t.Errorf("held up to %d records, want two rounds' worth (%d)", maxHeld, 2*perRound)
	}
}
