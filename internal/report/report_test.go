package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var names = Names{
	Location: func(addr uint64) string {
		switch addr {
		case 0xffffffff81a3c5f1:
			return "__udp4_lib_rcv+0x5f1"
		case 0xffffffffc0a00042:
			return "veth_xmit+0x42 [veth]"
		}
		return "0xdead"
	},
	Reason: func(r uint32) string {
		switch r {
		case 3:
			return "NO_SOCKET"
		case 64:
			return "QDISC_DROP"
		}
		return "reason#" + string(rune('0'+r%10))
	},
}

var (
	udp  = Key{Location: 0xffffffff81a3c5f1, Reason: 3}
	veth = Key{Location: 0xffffffffc0a00042, Reason: 64}
	odd  = Key{Location: 0xffffffffc0a00042, Reason: 7}
)

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func TestRenderGolden(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		by      Grouping
		reasons bool
		top     int
	}{
		{name: "location_reason", by: ByLocationReason, reasons: true},
		{name: "location", by: ByLocation, reasons: true},
		{name: "reason", by: ByReason, reasons: true},
		{name: "no_reasons", by: ByLocationReason, reasons: false},
		{name: "top1", by: ByLocationReason, reasons: true, top: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.by, []int{0, 1}, start)
			opts := Options{Top: tt.top, By: tt.by, Reasons: tt.reasons, Names: names}
			var out bytes.Buffer
			first := tr.Next(start.Add(time.Second), Counts{udp: 1000, veth: 5}, nil)
			second := tr.Next(start.Add(1500*time.Millisecond), Counts{udp: 1200, veth: 5, odd: 40}, []uint64{0, 3})
			summary := tr.Summary(start.Add(2*time.Second), Counts{udp: 1200, veth: 5, odd: 40}, []uint64{0, 3})
			for _, r := range []*Report{first, second, summary} {
				if err := Render(&out, r, opts); err != nil {
					t.Fatal(err)
				}
			}
			golden(t, tt.name, out.String())
		})
	}
}

func TestTrackerDeltas(t *testing.T) {
	start := time.Unix(1000, 0)
	tr := NewTracker(ByLocationReason, []int{0, 2}, start)
	r := tr.Next(start.Add(time.Second), Counts{udp: 10}, nil)
	if r.Drops != 10 || r.Total != 10 || r.PerSecond() != 10 {
		t.Fatalf("first report: %+v", r)
	}
	r = tr.Next(start.Add(2*time.Second), Counts{udp: 25, veth: 1}, []uint64{0, 2})
	if r.Drops != 16 || r.Total != 26 || r.Lost != 2 || r.Rows[0].Key != udp || r.Rows[0].Interval != 15 ||
		!slices.Equal(r.LostByCPU, []CPULost{{CPU: 2, Lost: 2}}) {
		t.Fatalf("second report: %+v", r)
	}
	// An entry that went away and came back lower counts afresh.
	r = tr.Next(start.Add(3*time.Second), Counts{udp: 4, veth: 1}, []uint64{1, 2})
	if r.Drops != 4 || r.Lost != 1 || !slices.Equal(r.LostByCPU, []CPULost{{CPU: 0, Lost: 1}}) {
		t.Fatalf("after reset: %+v", r)
	}
	s := tr.Summary(start.Add(4*time.Second), Counts{udp: 4, veth: 1}, []uint64{1, 2})
	if !s.Summary || s.Elapsed != 4*time.Second || s.Total != 5 || s.LostTotal != 3 ||
		!slices.Equal(s.LostByCPU, []CPULost{{CPU: 0, Lost: 1}, {CPU: 2, Lost: 2}}) {
		t.Fatalf("summary: %+v", s)
	}
}

func TestParseGrouping(t *testing.T) {
	for in, want := range map[string]Grouping{"location": ByLocation, "reason": ByReason, "location,reason": ByLocationReason, "reason, location": ByLocationReason} {
		got, err := ParseGrouping(in)
		if err != nil || got != want {
			t.Errorf("ParseGrouping(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseGrouping("cpu"); err == nil || !strings.Contains(err.Error(), "want location") {
		t.Errorf("ParseGrouping(cpu) error = %v", err)
	}
}

func TestRenderEmpty(t *testing.T) {
	var out bytes.Buffer
	tr := NewTracker(ByLocation, []int{0, 1, 2, 3}, time.Unix(0, 0))
	if err := Render(&out, tr.Next(time.Unix(1, 0).UTC(), nil, nil), Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no drops") {
		t.Errorf("got %q", out.String())
	}
}
