package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Key is a drop site as the counting program keys it: the kernel address
// that freed the packet and the drop reason (0 when the kernel has none).
// A program other than the drop counter keys its map as it likes: its keys
// are kept whole in Raw, and Options.Columns and Names.Raw render them.
type Key struct {
	Location uint64
	Reason   uint32
	Raw      string
	// Stack is the kernel call chain of the drops (--stacks), "" when not
	// asked for. Reports fold the stacks of a location and reason into
	// one Row, with Row.Stacks.
	Stack Stack
}

// Counts are cumulative drop counts, as read from the program's map.
type Counts map[Key]uint64

// Grouping says which parts of a Key a report keeps apart.
type Grouping uint8

const (
	ByLocationReason Grouping = iota // location and reason
	ByLocation                       // location only: reasons summed
	ByReason                         // reason only: locations summed
)

// ParseGrouping parses the --by flag: "location", "reason", "location,reason".
func ParseGrouping(s string) (Grouping, error) {
	switch strings.ReplaceAll(s, " ", "") {
	case "location,reason", "reason,location":
		return ByLocationReason, nil
	case "location":
		return ByLocation, nil
	case "reason":
		return ByReason, nil
	}
	return 0, fmt.Errorf("--by %q: want location, reason or location,reason", s)
}

func (g Grouping) String() string {
	switch g {
	case ByLocation:
		return "location"
	case ByReason:
		return "reason"
	}
	return "location,reason"
}

// group reduces a key to the parts the grouping keeps.
func (g Grouping) group(k Key) Key {
	switch g {
	case ByLocation:
		k.Reason = 0
	case ByReason:
		k.Location = 0
	}
	return k
}

// Row is one drop site in a report.
type Row struct {
	Key      Key
	Interval uint64 // drops in the report's interval
	Total    uint64 // drops since start
	// Stacks are the row's drops by call chain, busiest first, when the
	// counts had stacks; they sum to Interval and Total.
	Stacks []StackRow
	// Flows are the row's drops by flow, busiest first, when the report
	// has packet details (Tracker.AddFlows, --details).
	Flows []FlowRow
}

// Report is one interval's (or the whole run's) drops.
type Report struct {
	Time      time.Time
	Elapsed   time.Duration // length of the interval (of the run, for a summary)
	Drops     uint64        // drops in the interval
	Total     uint64        // drops since start
	Lost      uint64        // records lost in the interval
	LostTotal uint64        // records lost since start
	// LostByCPU breaks Lost (LostTotal, in a summary) down by CPU, for the
	// CPUs that lost any, in CPU order.
	LostByCPU []CPULost
	CPUs      int
	Summary   bool // the final report of a run: rows by total
	Rows      []Row
	// Flows is the flow bookkeeping of a report with packet details, nil
	// without.
	Flows *FlowStats
}

// CPULost is the number of records one CPU's ring lost.
type CPULost struct {
	CPU  int
	Lost uint64
}

// PerSecond is the drop rate of the report's interval.
func (r *Report) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	n := r.Drops
	if r.Summary {
		n = r.Total
	}
	return float64(n) / r.Elapsed.Seconds()
}

// Tracker makes successive reports from cumulative counts.
type Tracker struct {
	by       Grouping
	cpus     []int
	start    time.Time
	last     time.Time
	prev     map[Key]uint64 // grouped cumulative counts at the last report
	lostPrev []uint64       // cumulative lost records per CPU at the last report

	flowPrev                        map[FlowKey]uint64 // grouped cumulative packets per flow at the last report
	flowEvictedPrev, flowFailedPrev uint64
}

// NewTracker starts tracking, at start, the CPUs listed.
func NewTracker(by Grouping, cpus []int, start time.Time) *Tracker {
	return &Tracker{by: by, cpus: slices.Clone(cpus), start: start, last: start, prev: map[Key]uint64{},
		lostPrev: make([]uint64, len(cpus))}
}

// Next makes the report of the interval that ends now, from the cumulative
// counts and the cumulative numbers of lost records, one per CPU in the
// order of the tracker's CPU list (nil when nothing was lost).
func (t *Tracker) Next(now time.Time, counts Counts, lost []uint64) *Report {
	cur := t.groupCounts(counts)
	r := &Report{Time: now, Elapsed: now.Sub(t.last), CPUs: len(t.cpus)}
	for i, cpu := range t.cpus {
		var n uint64
		if i < len(lost) {
			n = lost[i]
		}
		r.LostTotal += n
		if d := n - t.lostPrev[i]; d > 0 {
			r.Lost += d
			r.LostByCPU = append(r.LostByCPU, CPULost{CPU: cpu, Lost: d})
		}
		t.lostPrev[i] = n
	}
	for k, total := range cur {
		// A count below the previous one means the map lost the entry
		// (an LRU eviction, or user space cleared it): count it afresh.
		delta := total
		if prev := t.prev[k]; prev <= total {
			delta = total - prev
		}
		r.Rows = append(r.Rows, Row{Key: k, Interval: delta, Total: total})
		r.Drops += delta
		r.Total += total
	}
	r.Rows = mergeStacks(r.Rows, false)
	sortRows(r.Rows, false)
	t.prev, t.last = cur, now
	return r
}

// Summary makes the report of the whole run from the last counts.
func (t *Tracker) Summary(now time.Time, counts Counts, lost []uint64) *Report {
	r := t.Next(now, counts, lost)
	r.Summary = true
	r.Elapsed = now.Sub(t.start)
	r.Lost = r.LostTotal
	r.LostByCPU = nil
	for i, cpu := range t.cpus {
		if i < len(lost) && lost[i] > 0 {
			r.LostByCPU = append(r.LostByCPU, CPULost{CPU: cpu, Lost: lost[i]})
		}
	}
	for i := range r.Rows {
		sortStacks(r.Rows[i].Stacks, true)
	}
	sortRows(r.Rows, true)
	return r
}

func (t *Tracker) groupCounts(counts Counts) map[Key]uint64 {
	cur := make(map[Key]uint64, len(counts))
	for k, n := range counts {
		cur[t.by.group(k)] += n
	}
	return cur
}

// sortRows orders rows by interval drops (or totals), busiest first, with
// the key as the tie-breaker so that output is stable.
func sortRows(rows []Row, byTotal bool) {
	slices.SortFunc(rows, func(a, b Row) int {
		if !byTotal {
			if c := cmp.Compare(b.Interval, a.Interval); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key.Location, b.Key.Location); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key.Reason, b.Key.Reason); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key.Raw, b.Key.Raw); c != 0 {
			return c
		}
		return cmp.Compare(a.Key.Stack, b.Key.Stack)
	})
}
