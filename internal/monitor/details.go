package monitor

import (
	"errors"
	"fmt"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/dropdetails"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// Details names a counter's map of flows, which Monitor.Flows reads: the
// packet details of --details.
type Details struct {
	Flows, Stats string // the flows map and its per-CPU bookkeeping array
}

// ErrKernelOnly says that a counter's program runs inside the kernel only.
var ErrKernelOnly = errors.New("needs the kernel engine")

// DetailsCounter counts drops per location and reason, as DropCounter does,
// and per flow (dropdetails): the program reads the dropped skb, which only
// the kernel can, so it runs on the kernel engine only. The filter is
// applied in the program; maxFlows bounds the flows map (0: the default);
// stacks keys the counts by call chain too, as StackDropCounter does.
func DetailsCounter(filter *dropdetails.Filter, maxFlows uint32, stacks bool) (*Counter, error) {
	if err := filter.Check(); err != nil {
		return nil, err
	}
	c := &Counter{
		Group: "skb",
		Name:  "kfree_skb",
		Build: func(format *tracepoint.Format, maxEntries uint32) (*program.Program, error) {
			return dropdetails.Program(format, filter, dropdetails.Options{MaxEntries: maxEntries, MaxFlows: maxFlows, Stacks: stacks})
		},
		Map:        dropcount.MapName,
		Decode:     decodeDrops,
		Details:    &Details{Flows: dropdetails.FlowsMapName, Stats: dropdetails.StatsMapName},
		KernelOnly: "packet details are read from the kernel's struct sk_buff (bpf_probe_read_kernel), which a program in user space cannot reach",
	}
	if stacks {
		c.Stacks, c.StackID = StackDropCounter.Stacks, StackDropCounter.StackID
	}
	return c, nil
}

// HasFlows reports whether the monitor's counter keeps flows.
func (m *Monitor) HasFlows() bool { return m.cfg.Counter.Details != nil && m.kernel != nil }

// Flows reads the counter's flows and their bookkeeping: cumulative drops
// per flow, and how many flows the bounded map evicted.
func (m *Monitor) Flows() (report.Flows, error) {
	if !m.HasFlows() {
		return report.Flows{}, errors.New("this monitor keeps no flows (--details, on the kernel engine)")
	}
	d := m.cfg.Counter.Details
	flowsMap, statsMap := m.kernel.coll.Maps[d.Flows], m.kernel.coll.Maps[d.Stats]
	if flowsMap == nil || statsMap == nil {
		return report.Flows{}, fmt.Errorf("kernel engine: the program has no maps %s and %s", d.Flows, d.Stats)
	}
	out := report.Flows{Counts: map[report.FlowKey]report.FlowCount{}}
	present := 0
	err := m.kernel.forEachIn(flowsMap, 1, func(key, value []byte) error {
		k, err := dropdetails.DecodeFlowKey(key)
		if err != nil {
			return err
		}
		v, err := dropdetails.DecodeFlowValue(value)
		if err != nil {
			return err
		}
		present++
		fk := report.FlowKey{Location: k.Location, Reason: k.Reason, Flow: report.Flow{
			Netns: k.Netns, NetnsFrom: dropdetails.NetnsSourceName(k.NetnsFrom), Ifindex: k.Ifindex, Ifname: v.Ifname,
			L3Proto: k.L3Proto, L4Proto: k.L4Proto, Src: k.Src, Dst: k.Dst, Sport: k.Sport, Dport: k.Dport, Mark: k.Mark,
		}}
		prev := out.Counts[fk] // two keys differ only in what the report does not keep
		out.Counts[fk] = report.FlowCount{Packets: prev.Packets + v.Packets, Bytes: prev.Bytes + v.Bytes, Len: v.Len}
		return nil
	})
	if err != nil {
		return report.Flows{}, fmt.Errorf("read flows from the kernel: %w", err)
	}
	var values [2][]uint64
	for i := range values {
		if err := statsMap.Lookup(uint32(i), &values[i]); err != nil {
			return report.Flows{}, fmt.Errorf("read flow bookkeeping from the kernel: %w", err)
		}
	}
	stats := dropdetails.DecodeStats(values)
	out.Evicted, out.Failed = stats.Evicted(present), stats.Failed
	return out, nil
}
