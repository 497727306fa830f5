package monitor_test

import (
	"os"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/symbolize"
	"github.com/dropmon/dropmon/tracepoint"
)

// Drops of each kind the filter test makes (drops_test.go).
const (
	nUDP4    = 30
	nUDP6    = 20
	nNoProto = 10
)

// TestFilter makes three kinds of drops with each filter on each engine,
// and checks that the map counts exactly the kinds the filter keeps, and,
// on the user-space engines, that the others never reached a ring: the
// program ran once per kept drop.
func TestFilter(t *testing.T) {
	format, err := tracepoint.ReadFormat("skb", "kfree_skb")
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	reasons := func(names ...string) []uint32 {
		v, err := dropcount.ParseReasons(format, names)
		if err != nil {
			t.Skipf("skipping: %v", err)
		}
		return v
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	udp4, err := monitor.FunctionRange("__udp4_lib_rcv")
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter dropcount.Filter
		want   map[string]uint64 // by kind
	}{
		{name: "reason", filter: dropcount.Filter{Reasons: reasons("NO_SOCKET")},
			want: map[string]uint64{"udp4": nUDP4, "udp6": nUDP6}},
		{name: "two reasons", filter: dropcount.Filter{Reasons: reasons("ip_noproto", "SKB_DROP_REASON_NO_SOCKET")},
			want: map[string]uint64{"udp4": nUDP4, "udp6": nUDP6, "noproto": nNoProto}},
		{name: "exclude reason", filter: dropcount.Filter{ExcludeReasons: reasons("NO_SOCKET")},
			want: map[string]uint64{"noproto": nNoProto}},
		{name: "ipv6", filter: dropcount.Filter{Protocol: 0x86dd, HasProtocol: true},
			want: map[string]uint64{"udp6": nUDP6}},
		{name: "ipv4", filter: dropcount.Filter{Protocol: 0x0800, HasProtocol: true},
			want: map[string]uint64{"udp4": nUDP4, "noproto": nNoProto}},
		{name: "arp", filter: dropcount.Filter{Protocol: 0x0806, HasProtocol: true},
			want: map[string]uint64{}},
		{name: "location", filter: dropcount.Filter{Location: udp4},
			want: map[string]uint64{"udp4": nUDP4}},
		{name: "comm", filter: dropcount.Filter{Comm: strings.TrimSpace(string(comm))},
			want: map[string]uint64{"udp4": nUDP4, "udp6": nUDP6, "noproto": nNoProto}},
		{name: "other comm", filter: dropcount.Filter{Comm: "no-such-task"},
			want: map[string]uint64{}},
		{name: "ipv4 not NO_SOCKET", filter: dropcount.Filter{Protocol: 0x0800, HasProtocol: true, ExcludeReasons: reasons("NO_SOCKET")},
			want: map[string]uint64{"noproto": nNoProto}},
	}
	tab, err := symbolize.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range monitor.Engines {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				filter := tt.filter
				m, err := monitor.Start(monitor.Config{Engine: engine, PID: uint32(os.Getpid()), Filter: &filter})
				testutil.Privileged(t, err)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				testutil.SendToClosedPort(t, nUDP4)
				sendUDP6ToClosedPort(t, nUDP6)
				sendNoProto(t, nNoProto)
				if err := m.Stop(); err != nil {
					t.Fatal(err)
				}
				counts, err := m.Counts()
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]uint64{}
				var total, want uint64
				for k, n := range counts {
					got[dropKind(tab.Format(k.Location), m.ReasonName(k.Reason))] += n
					total += n
				}
				for kind, n := range tt.want {
					if got[kind] != n {
						t.Errorf("%s: counted %d drops, want %d", kind, got[kind], n)
					}
					want += n
				}
				if total != want {
					t.Errorf("counted %v, want %v", got, tt.want)
				}
				s := m.Stats()
				if s.Lost != 0 || s.RunErrors != 0 || s.Corrupt != 0 {
					t.Errorf("stats: %+v", s)
				}
				if engine != "kernel" && s.Records != want {
					t.Errorf("ran the program on %d records, want %d: filtered drops reached the ring", s.Records, want)
				}
			})
		}
	}
}

// dropKind names the kind of a drop from its location and reason.
func dropKind(location, reason string) string {
	switch {
	case strings.HasPrefix(location, "__udp4_lib_rcv+") && reason == "NO_SOCKET":
		return "udp4"
	case strings.HasPrefix(location, "__udp6_lib_rcv+") && reason == "NO_SOCKET":
		return "udp6"
	case reason == "IP_NOPROTO":
		return "noproto"
	}
	return location + " " + reason
}
