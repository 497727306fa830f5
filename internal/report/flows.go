package report

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Flow is what --details reads of a dropped packet: where it was (network
// namespace and interface) and what it was (5-tuple, mark).
type Flow struct {
	Netns     uint32 // inode of the network namespace; 0 when unknown
	NetnsFrom string // where Netns came from: "device", "socket", "rx_sk" or "unknown"
	Ifindex   uint32 // 0 when the skb had no device
	Ifname    string
	L3Proto   uint16 // EtherType
	L4Proto   uint8  // IP protocol
	// Src and Dst are invalid when the packet had no readable IP header.
	Src, Dst netip.Addr
	// Sport and Dport: TCP and UDP ports; ICMP type and code.
	Sport, Dport uint16
	Mark         uint32
}

// FlowKey is a flow at a drop site.
type FlowKey struct {
	Location uint64
	Reason   uint32
	Flow     Flow
}

// FlowCount is a flow's cumulative drops.
type FlowCount struct {
	Packets uint64
	Bytes   uint64 // sum of the packets' lengths (skb->len)
	Len     uint32 // the last packet's length
}

// Flows are the cumulative drops per flow, as read from the details map,
// and its bookkeeping: flows the bounded map evicted to make room, and
// drops whose flow could not be stored. Flows evicted are gone from the
// map, so a row's flows may sum to less than its drops: the evictions say
// how much is missing.
type Flows struct {
	Counts  map[FlowKey]FlowCount
	Evicted uint64 // since start
	Failed  uint64 // since start
}

// FlowRow is one flow of a row.
type FlowRow struct {
	Flow     Flow
	Interval uint64 // packets dropped in the report's interval
	Total    uint64 // since start (since the flow last entered the map)
	Bytes    uint64 // since start
	Len      uint32 // the last packet's length
}

// FlowStats are a report's flow bookkeeping (Report.Flows).
type FlowStats struct {
	Evicted, EvictedTotal uint64 // flows evicted in the interval, since start
	Failed, FailedTotal   uint64 // drops whose flow could not be stored
}

// DefaultFlowTop is how many flows a row shows in the table when
// Options.FlowTop is 0.
const DefaultFlowTop = 3

// AddFlows gives the report from Next or Summary its flows: each row gets
// its flows (grouped as the rows are), busiest first, and the report the
// evictions of its interval. Call it once per report, after Next or
// Summary.
func (t *Tracker) AddFlows(r *Report, flows Flows) {
	cur := make(map[FlowKey]FlowCount, len(flows.Counts))
	for k, c := range flows.Counts {
		g := t.by.group(Key{Location: k.Location, Reason: k.Reason})
		k.Location, k.Reason = g.Location, g.Reason
		prev := cur[k]
		cur[k] = FlowCount{Packets: prev.Packets + c.Packets, Bytes: prev.Bytes + c.Bytes, Len: max(prev.Len, c.Len)}
	}
	at := map[Key]int{}
	for i, row := range r.Rows {
		at[Key{Location: row.Key.Location, Reason: row.Key.Reason}] = i
	}
	for k, c := range cur {
		delta := c.Packets
		if prev := t.flowPrev[k]; prev <= c.Packets {
			delta = c.Packets - prev
		}
		i, ok := at[Key{Location: k.Location, Reason: k.Reason}]
		if !ok {
			continue // a row the counts have not seen (yet): the map read came later
		}
		r.Rows[i].Flows = append(r.Rows[i].Flows, FlowRow{Flow: k.Flow, Interval: delta, Total: c.Packets, Bytes: c.Bytes, Len: c.Len})
	}
	for i := range r.Rows {
		sortFlows(r.Rows[i].Flows, r.Summary)
	}
	s := &FlowStats{EvictedTotal: flows.Evicted, FailedTotal: flows.Failed}
	if r.Summary {
		s.Evicted, s.Failed = flows.Evicted, flows.Failed
	} else {
		s.Evicted = flows.Evicted - min(flows.Evicted, t.flowEvictedPrev)
		s.Failed = flows.Failed - min(flows.Failed, t.flowFailedPrev)
	}
	r.Flows = s
	t.flowPrev = make(map[FlowKey]uint64, len(cur))
	for k, c := range cur {
		t.flowPrev[k] = c.Packets
	}
	t.flowEvictedPrev, t.flowFailedPrev = flows.Evicted, flows.Failed
}

func sortFlows(flows []FlowRow, byTotal bool) {
	slices.SortFunc(flows, func(a, b FlowRow) int {
		if !byTotal {
			if c := cmp.Compare(b.Interval, a.Interval); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return cmp.Compare(a.Flow.String(), b.Flow.String())
	})
}

// shownFlows returns the flows of a row that had drops in the interval (in
// a summary: at all), the top ones when top > 0.
func shownFlows(row Row, summary bool, top int) []FlowRow {
	var out []FlowRow
	for _, f := range row.Flows {
		if top > 0 && len(out) == top {
			break
		}
		if !summary && f.Interval == 0 {
			continue
		}
		out = append(out, f)
	}
	return out
}

// ProtocolName names an IP protocol: "tcp", "udp", "icmp", "icmpv6", else
// its number.
func ProtocolName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmpv6"
	}
	return strconv.Itoa(int(p))
}

// L3Name names an EtherType: "ipv4", "ipv6", "arp", else 0xNNNN.
func L3Name(p uint16) string {
	switch p {
	case 0x0800:
		return "ipv4"
	case 0x86dd:
		return "ipv6"
	case 0x0806:
		return "arp"
	}
	return fmt.Sprintf("0x%04x", p)
}

// isICMP reports whether the flow's ports are an ICMP type and code.
func (f Flow) isICMP() bool { return f.L4Proto == 1 || f.L4Proto == 58 }

// hasPorts reports whether the flow's ports are TCP or UDP ports.
func (f Flow) hasPorts() bool { return f.L4Proto == 6 || f.L4Proto == 17 }

// Tuple renders the packet's addresses: "udp 10.0.0.1:5000 -> 10.0.0.2:9",
// "icmp 10.0.0.1 -> 10.0.0.2 type 8 code 0", "arp" for a packet without IP.
func (f Flow) Tuple() string {
	if !f.Src.IsValid() {
		return L3Name(f.L3Proto)
	}
	proto := ProtocolName(f.L4Proto)
	if f.hasPorts() {
		return fmt.Sprintf("%s %s -> %s", proto, netip.AddrPortFrom(f.Src, f.Sport), netip.AddrPortFrom(f.Dst, f.Dport))
	}
	s := fmt.Sprintf("%s %s -> %s", proto, f.Src, f.Dst)
	if f.isICMP() {
		s += fmt.Sprintf(" type %d code %d", f.Sport, f.Dport)
	}
	return s
}

// Where renders the flow's namespace and device: "netns 4026531840 dev
// eth0 (ifindex 2)".
func (f Flow) Where() string {
	var b strings.Builder
	if f.Netns == 0 {
		b.WriteString("netns unknown")
	} else {
		fmt.Fprintf(&b, "netns %d", f.Netns)
		if f.NetnsFrom == "socket" || f.NetnsFrom == "rx_sk" {
			b.WriteString(" (of the socket)")
		}
	}
	if f.Ifindex == 0 {
		b.WriteString(" no dev")
	} else {
		fmt.Fprintf(&b, " dev %s (ifindex %d)", f.Ifname, f.Ifindex)
	}
	return b.String()
}

// String is the flow on one line, as the table prints it.
func (f Flow) String() string {
	s := f.Tuple() + "  " + f.Where()
	if f.Mark != 0 {
		s += fmt.Sprintf(" mark %#x", f.Mark)
	}
	return s
}

// renderFlows writes a row's top flows under it: the drops of each and
// their share of the row's, the flow, and the last packet's length.
func renderFlows(w io.Writer, row Row, summary bool, opts Options) error {
	top := opts.FlowTop
	if top == 0 {
		top = DefaultFlowTop
	}
	n := row.Interval
	if summary {
		n = row.Total
	}
	var b strings.Builder
	for _, f := range shownFlows(row, summary, top) {
		c := f.Interval
		if summary {
			c = f.Total
		}
		fmt.Fprintf(&b, "      %d (%s) %s  len %d\n", c, share(c, n), f.Flow, f.Len)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// flowsLine is the header line's part on flows, when the report has them.
func flowsLine(r *Report) string {
	if r.Flows == nil {
		return ""
	}
	s := fmt.Sprintf("  flows evicted: %d", r.Flows.Evicted)
	if r.Flows.Failed > 0 {
		s += fmt.Sprintf("  drops not in flows: %d", r.Flows.Failed)
	}
	return s
}
