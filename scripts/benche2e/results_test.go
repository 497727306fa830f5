package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name   string
		xs     []float64
		want   float64
		wantOK bool
	}{
		{"empty", nil, 0, false},
		{"one", []float64{3}, 3, true},
		{"odd", []float64{9, 1, 5}, 5, true},
		{"even", []float64{4, 1, 3, 2}, 2.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := median(tt.xs)
			if ok != tt.wantOK || got != tt.want {
				t.Fatalf("median(%v) = %v, %v, want %v, %v", tt.xs, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	gen := func(sent uint64) dropgenResult { return dropgenResult{sent: sent, seconds: 2, noports: sent} }
	samples := []sample{
		{caseName: "none", round: 1, gen: gen(800), lost: -1, seen: -1},
		{caseName: "dropmon-jit", round: 1, gen: gen(400), cpu: 200 * time.Microsecond, stormCPU: time.Second,
			maxRSS: 20480, lost: 40, seen: 360, late: 50 * time.Millisecond, hasLate: true},
		{caseName: "none", round: 2, gen: gen(1000), lost: -1, seen: -1},
		{caseName: "dropmon-jit", round: 2, err: errors.New("killed"), lost: -1, seen: -1},
	}
	cases := []benchCase{{name: "none"}, {name: "dropmon-jit", kind: kindDropmon, interval: time.Second}}
	var b strings.Builder
	writeTable(&b, cases, samples)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"| none | 450 | 1.00 | n/a | n/a | n/a | n/a | n/a | n/a | n/a | n/a | 2/2 |",
		"| dropmon-jit | 200 | 0.50 | 500 | 2500000 | 50 | 40 | 10.00 | 100.0 | 20.0 | 50.0 (5.0%) | 1/2 |",
	}
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want 4:\n%s", len(lines), b.String())
	}
	for i, w := range want {
		if lines[i+2] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i+1, lines[i+2], w)
		}
	}
}

func TestShellQuote(t *testing.T) {
	got := shellQuote([]string{"benche2e", "-extra", "a=--readers per-cpu", "it's"})
	want := `benche2e -extra 'a=--readers per-cpu' 'it'\''s'`
	if got != want {
		t.Fatalf("shellQuote() = %s, want %s", got, want)
	}
}
