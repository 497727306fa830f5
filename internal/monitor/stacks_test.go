package monitor_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/symbolize"
)

// TestStacks makes exact drops (UDP to a closed port on 127.0.0.1) and
// counts them with their call chains on every engine: the chains of the
// one drop site sum to its count exactly, and the busiest runs through
// __udp4_lib_rcv's callers in the IPv4 receive path. On Linux 6.18 all
// three engines give the same 21 frames, from sk_skb_reason_drop up to
// entry_SYSCALL_64 (the loopback softirq runs in the sender's syscall).
func TestStacks(t *testing.T) {
	for _, engine := range monitor.Engines {
		t.Run(engine, func(t *testing.T) { testStacks(t, engine) })
	}
}

func testStacks(t *testing.T, engine string) {
	const n = 500
	m, counts := countDrops(t, monitor.Config{Engine: engine, Counter: monitor.StackDropCounter}, n)
	stats := m.Stats()
	if stats.Lost != 0 || stats.RunErrors != 0 || stats.Corrupt != 0 {
		t.Fatalf("stats: %+v", stats)
	}
	if engine != "kernel" && stats.Records != n {
		t.Errorf("ran the program %d times, want %d", stats.Records, n)
	}
	tab, err := symbolize.Load()
	if err != nil {
		t.Fatalf("symbols: %v", err)
	}
	sites := map[report.Key]uint64{}
	var top report.Stack
	var topCount, sum uint64
	for k, c := range counts {
		if k.Stack == "" {
			t.Fatalf("key %+v has no stack", k)
		}
		site := k
		site.Stack = ""
		sites[site] += c
		sum += c
		if c > topCount {
			top, topCount = k.Stack, c
		}
	}
	if len(sites) != 1 || sum != n {
		t.Fatalf("counted %d drops at %d sites, want %d at 1: %v", sum, len(sites), n, sites)
	}
	for site := range sites {
		if loc := tab.Format(site.Location); !strings.HasPrefix(loc, "__udp4_lib_rcv+") {
			t.Errorf("location %s, want __udp4_lib_rcv", loc)
		}
	}
	var frames []string
	for _, ip := range top.Frames() {
		frames = append(frames, tab.Format(ip))
	}
	t.Logf("%d of %d drops in %d call chains; the busiest (%d):\n  %s", sum, n, len(counts), topCount, strings.Join(frames, "\n  "))
	if top == report.LostStack {
		t.Fatal("the busiest call chain is lost")
	}
	// udp_rcv tail-calls __udp4_lib_rcv (a jmp), so it is in no chain.
	callers := []string{"__udp4_lib_rcv+", "ip_protocol_deliver_rcu+", "ip_local_deliver_finish+"}
	for _, want := range callers {
		if !slices.ContainsFunc(frames, func(f string) bool { return strings.HasPrefix(f, want) }) {
			t.Errorf("the busiest call chain has no frame in %s", strings.TrimSuffix(want, "+"))
		}
	}
}
