package report

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

// Flows for the flow tests: two UDP flows and an ICMP one at udp's drop
// site, an IPv6 TCP flow at veth's, an ARP packet at veth's.
var (
	flowUDP1 = Flow{Netns: 4026531840, NetnsFrom: "device", Ifindex: 1, Ifname: "lo", L3Proto: 0x0800, L4Proto: 17,
		Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("127.0.0.1"), Sport: 40000, Dport: 9}
	flowUDP2 = Flow{Netns: 4026532290, NetnsFrom: "socket", Ifindex: 0, L3Proto: 0x0800, L4Proto: 17,
		Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Sport: 5353, Dport: 53, Mark: 0x2a}
	flowICMP = Flow{Netns: 4026531840, NetnsFrom: "device", Ifindex: 2, Ifname: "eth0", L3Proto: 0x0800, L4Proto: 1,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Sport: 3, Dport: 3}
	flowTCP6 = Flow{Netns: 4026532290, NetnsFrom: "device", Ifindex: 5, Ifname: "veth0", L3Proto: 0x86dd, L4Proto: 6,
		Src: netip.MustParseAddr("fd00::1"), Dst: netip.MustParseAddr("fd00::2"), Sport: 443, Dport: 50000}
	flowARP = Flow{NetnsFrom: "unknown", Ifindex: 5, Ifname: "veth0", L3Proto: 0x0806}
)

func flowCounts(udp1, udp2, icmp, tcp6, arp uint64) Flows {
	f := Flows{Counts: map[FlowKey]FlowCount{}}
	add := func(k Key, fl Flow, n uint64, l uint32) {
		if n > 0 {
			f.Counts[FlowKey{Location: k.Location, Reason: k.Reason, Flow: fl}] = FlowCount{Packets: n, Bytes: n * uint64(l), Len: l}
		}
	}
	add(udp, flowUDP1, udp1, 29)
	add(udp, flowUDP2, udp2, 100)
	add(udp, flowICMP, icmp, 84)
	add(veth, flowTCP6, tcp6, 1500)
	add(veth, flowARP, arp, 28)
	return f
}

// TestRenderFlowsGolden holds the table's and JSON lines' rendering of
// flows, and the evictions in the header.
func TestRenderFlowsGolden(t *testing.T) {
	start := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	withSymbols := names
	withSymbols.Symbol = symbols
	counts := []Counts{{udp: 10, veth: 4}, {udp: 25, veth: 6}}
	flows := []Flows{flowCounts(6, 3, 1, 3, 1), flowCounts(16, 3, 6, 4, 2)}
	flows[1].Evicted, flows[1].Failed = 2, 1
	for _, tt := range []struct {
		name string
		json bool
		opts Options
	}{
		{name: "flows", opts: Options{By: ByLocationReason, Reasons: true, Names: names}},
		{name: "flows_top1", opts: Options{By: ByLocationReason, Reasons: true, Names: names, FlowTop: 1}},
		{name: "json_flows", json: true, opts: Options{By: ByLocationReason, Reasons: true, Names: withSymbols,
			Engine: "kernel", Tracepoint: "skb:kfree_skb"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.opts.By, []int{0, 1}, start)
			var out bytes.Buffer
			var reports []*Report
			for i := range counts {
				r := tr.Next(start.Add(time.Duration(i+1)*time.Second), counts[i], nil)
				tr.AddFlows(r, flows[i])
				reports = append(reports, r)
			}
			r := tr.Summary(start.Add(3*time.Second), counts[1], nil)
			tr.AddFlows(r, flows[1])
			reports = append(reports, r)
			for _, r := range reports {
				render := Render
				if tt.json {
					render = RenderJSON
				}
				if err := render(&out, r, tt.opts); err != nil {
					t.Fatal(err)
				}
			}
			if tt.json {
				checkJSONLines(t, out.String(), 3)
			}
			golden(t, tt.name, out.String())
		})
	}
}

// TestAddFlows checks the intervals of flows, evictions and re-entries, and
// the grouping.
func TestAddFlows(t *testing.T) {
	start := time.Unix(1000, 0)
	tr := NewTracker(ByLocationReason, []int{0}, start)
	r := tr.Next(start.Add(time.Second), Counts{udp: 10}, nil)
	tr.AddFlows(r, flowCounts(6, 4, 0, 0, 0))
	if got := r.Rows[0].Flows; len(got) != 2 || got[0].Flow != flowUDP1 || got[0].Interval != 6 || got[1].Interval != 4 {
		t.Fatalf("first report: %+v", got)
	}
	// flowUDP2 evicted and back with 1: it counts afresh; flowUDP1 +2.
	f := flowCounts(8, 1, 0, 0, 0)
	f.Evicted = 1
	r = tr.Next(start.Add(2*time.Second), Counts{udp: 13}, nil)
	tr.AddFlows(r, f)
	got := r.Rows[0].Flows
	if len(got) != 2 || got[0].Interval != 2 || got[0].Total != 8 || got[1].Interval != 1 || got[1].Total != 1 {
		t.Errorf("second report: %+v", got)
	}
	if r.Flows == nil || r.Flows.Evicted != 1 || r.Flows.EvictedTotal != 1 {
		t.Errorf("second report's evictions: %+v", r.Flows)
	}
	r = tr.Next(start.Add(3*time.Second), Counts{udp: 13}, nil)
	tr.AddFlows(r, f)
	if r.Flows.Evicted != 0 || r.Flows.EvictedTotal != 1 {
		t.Errorf("third report's evictions: %+v", r.Flows)
	}
	// --by reason: the flows of every location with the reason.
	tr = NewTracker(ByReason, []int{0}, start)
	r = tr.Next(start.Add(time.Second), Counts{udp: 10, veth: 4}, nil)
	tr.AddFlows(r, flowCounts(6, 4, 0, 3, 1))
	for _, row := range r.Rows {
		var n uint64
		for _, f := range row.Flows {
			n += f.Interval
		}
		if n != row.Interval {
			t.Errorf("--by reason: row %+v: flows sum to %d", row.Key, n)
		}
	}
}

func TestFlowString(t *testing.T) {
	for _, tt := range []struct {
		flow Flow
		want string
	}{
		{flowUDP1, "udp 127.0.0.1:40000 -> 127.0.0.1:9  netns 4026531840 dev lo (ifindex 1)"},
		{flowUDP2, "udp 192.0.2.1:5353 -> 192.0.2.2:53  netns 4026532290 (of the socket) no dev mark 0x2a"},
		{flowICMP, "icmp 10.0.0.1 -> 10.0.0.2 type 3 code 3  netns 4026531840 dev eth0 (ifindex 2)"},
		{flowTCP6, "tcp [fd00::1]:443 -> [fd00::2]:50000  netns 4026532290 dev veth0 (ifindex 5)"},
		{flowARP, "arp  netns unknown dev veth0 (ifindex 5)"},
	} {
		if got := tt.flow.String(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
