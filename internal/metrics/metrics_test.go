package metrics

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// dropSeries gathers dropmon_drops_total: the value of each series by
// "location/reason".
func dropSeries(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "dropmon_drops_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["location"]+"/"+labels["reason"]] = metric.GetCounter().GetValue()
		}
	}
	return got
}

func TestCardinalityBound(t *testing.T) {
	tests := []struct {
		name      string
		maxSeries int
		pairs     int    // distinct locations, each seen once per round
		reasons   int    // reasons, round-robin over the locations
		wantOwn   int    // series with a location of their own
		wantOther string // the "other" series, per round: "reason=drops,..."
	}{
		{name: "under the bound", maxSeries: 10, pairs: 7, reasons: 1, wantOwn: 7},
		{name: "at the bound", maxSeries: 10, pairs: 10, reasons: 1, wantOwn: 10},
		{name: "N+5", maxSeries: 10, pairs: 15, reasons: 1, wantOwn: 10, wantOther: "R0=65"},
		{name: "N+5 two reasons", maxSeries: 10, pairs: 15, reasons: 2, wantOwn: 10, wantOther: "R0=39,R1=26"},
		{name: "bound of one", maxSeries: 1, pairs: 6, reasons: 1, wantOwn: 1, wantOther: "R0=20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{MaxSeries: tt.maxSeries, Version: "test", Engine: "interp"})
			prev := map[string]float64{}
			// Three rounds: pair i adds i+1 drops each round. A pair that
			// went to "other" stays there, even after series are gathered.
			for round := 1; round <= 3; round++ {
				for i := range tt.pairs {
					m.AddDrops(fmt.Sprintf("site%d+0x%x", i, i), fmt.Sprintf("R%d", i%tt.reasons), uint64(i+1))
				}
				got := dropSeries(t, m)
				for k, v := range prev {
					if got[k] < v {
						t.Fatalf("round %d: %s went down from %v to %v", round, k, v, got[k])
					}
				}
				prev = got
			}
			own, other := 0, []string{}
			for k, v := range prev {
				loc, reason, _ := strings.Cut(k, "/")
				if loc == Other {
					other = append(other, fmt.Sprintf("%s=%v", reason, v/3))
					continue
				}
				own++
				var i int
				fmt.Sscanf(loc, "site%d", &i)
				if i >= tt.maxSeries || v != float64(3*(i+1)) {
					t.Errorf("%s = %v: only the first %d pairs keep their own series, each with its own count", k, v, tt.maxSeries)
				}
			}
			if own != tt.wantOwn {
				t.Errorf("%d series of their own, want %d", own, tt.wantOwn)
			}
			slices.Sort(other)
			if got := strings.Join(other, ","); got != tt.wantOther {
				t.Errorf("other series (per round) %q, want %q", got, tt.wantOther)
			}
			if len(prev) > tt.maxSeries+tt.reasons {
				t.Errorf("%d series, more than %d own and one other per reason", len(prev), tt.maxSeries)
			}
		})
	}
}

func TestCumulativeCounters(t *testing.T) {
	m := New(Options{})
	for _, step := range []struct{ lost, records, wantLost, wantRecords float64 }{
		{lost: 0, records: 10, wantLost: 0, wantRecords: 10},
		{lost: 3, records: 25, wantLost: 3, wantRecords: 25},
		{lost: 3, records: 25, wantLost: 3, wantRecords: 25},
		{lost: 2, records: 5, wantLost: 3, wantRecords: 25}, // never down
		{lost: 7, records: 30, wantLost: 7, wantRecords: 30},
	} {
		m.SetLost(uint64(step.lost))
		m.SetRecords(uint64(step.records))
		if got := testutil.ToFloat64(m.lost); got != step.wantLost {
			t.Errorf("after SetLost(%v): %v, want %v", step.lost, got, step.wantLost)
		}
		if got := testutil.ToFloat64(m.records); got != step.wantRecords {
			t.Errorf("after SetRecords(%v): %v, want %v", step.records, got, step.wantRecords)
		}
	}
}

func TestServer(t *testing.T) {
	m := New(Options{Version: "v1.2.3", Engine: "jit"})
	m.AddDrops("__udp4_lib_rcv+0x4bc", "NO_SOCKET", 1000)
	s, err := Listen("127.0.0.1:0", m.Handler())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`dropmon_drops_total{location="__udp4_lib_rcv+0x4bc",reason="NO_SOCKET"} 1000`,
		`dropmon_build_info{goversion="go`,
		`version="v1.2.3"} 1`,
		`dropmon_engine_info{engine="jit"} 1`,
		"dropmon_lost_records_total 0",
		"dropmon_records_total 0",
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The address is taken while the server runs, and free once it closed.
	if _, err := Listen(s.Addr().String(), m.Handler()); !errors.Is(err, syscall.EADDRINUSE) || err.Error() != "address already in use" {
		t.Errorf("second Listen on %s: %v, want address already in use", s.Addr(), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", s.Addr().String())
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	ln.Close()
}

func TestListenErrors(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{addr: "9101", want: "missing port in address"},
		{addr: "127.0.0.1:http-alt-nonesuch", want: "unknown port"},
	} {
		if _, err := Listen(tt.addr, nil); err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "listen tcp") {
			t.Errorf("Listen(%q) = %v, want %q alone", tt.addr, err, tt.want)
		}
	}
}
