package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// JSON lines: one object per report, one per line. The field names are part
// of dropmon's interface, documented in the README ("JSON lines") and held
// by a golden test (testdata/json_*.golden): add fields, never rename one.

// jsonTime is RFC 3339 with nanoseconds, always nine digits so that lines
// line up and sort as text.
const jsonTime = "2006-01-02T15:04:05.000000000Z07:00"

type jsonReport struct {
	Type       string        `json:"type"` // "report" or "summary"
	Time       string        `json:"time"`
	Interval   float64       `json:"interval"` // seconds; the whole run in a summary
	Drops      uint64        `json:"drops"`    // in the interval (the run, in a summary)
	Rate       float64       `json:"rate"`     // drops per second
	Total      uint64        `json:"total"`    // since start
	Lost       uint64        `json:"lost"`     // records lost in the interval (the run)
	LostTotal  uint64        `json:"lost_total"`
	LostByCPU  []jsonCPULost `json:"lost_cpus,omitempty"`
	CPUs       int           `json:"cpus"`
	Engine     string        `json:"engine"`
	Tracepoint string        `json:"tracepoint"`
	// Flow bookkeeping with packet details (--details), left out without:
	// flows the bounded map evicted, and drops whose flow it could not
	// store, in the interval (the run) and since start.
	FlowsEvicted      *uint64     `json:"flows_evicted,omitempty"`
	FlowsEvictedTotal *uint64     `json:"flows_evicted_total,omitempty"`
	FlowsFailed       *uint64     `json:"flows_failed,omitempty"`
	FlowsFailedTotal  *uint64     `json:"flows_failed_total,omitempty"`
	Entries           []jsonEntry `json:"entries"`
}

type jsonCPULost struct {
	CPU  int    `json:"cpu"`
	Lost uint64 `json:"lost"`
}

// jsonEntry is one row. The parts of the key a report does not show (the
// grouping summed them, the kernel has no reasons, no symbol covers the
// address) are left out, not zero.
type jsonEntry struct {
	Address    string   `json:"address,omitempty"` // "0x..."; a string: JSON numbers lose bits past 2^53
	Symbol     string   `json:"symbol,omitempty"`
	Offset     *uint64  `json:"offset,omitempty"`
	Module     *string  `json:"module,omitempty"` // "" for the core kernel
	Location   string   `json:"location,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	ReasonCode *uint32  `json:"reason_code,omitempty"`
	Key        *jsonKey `json:"key,omitempty"` // a program's own key (--program)
	Count      uint64   `json:"count"`         // in the interval (the run, in a summary)
	Total      uint64   `json:"total"`
	Share      float64  `json:"share"` // count / drops, 0..1
	// Stacks are the entry's top call chains (--stacks), left out when
	// not asked for.
	Stacks []jsonStack `json:"stacks,omitempty"`
	// Flows are every flow of the entry with drops in the interval (the
	// run), busiest first (--details), left out without.
	Flows []jsonFlow `json:"flows,omitempty"`
}

// jsonFlow is one flow of an entry. Addresses and ports are left out when
// the packet had no readable IP header; an ICMP flow has icmp_type and
// icmp_code instead of ports.
type jsonFlow struct {
	Netns     uint32  `json:"netns"`      // inode; 0 when unknown
	NetnsFrom string  `json:"netns_from"` // device, socket, rx_sk or unknown
	Ifindex   uint32  `json:"ifindex"`    // 0: no device
	Ifname    string  `json:"ifname,omitempty"`
	L3        string  `json:"l3"` // ipv4, ipv6, arp or 0xNNNN
	Protocol  string  `json:"protocol,omitempty"`
	Src       string  `json:"src,omitempty"`
	Dst       string  `json:"dst,omitempty"`
	Sport     *uint16 `json:"sport,omitempty"`
	Dport     *uint16 `json:"dport,omitempty"`
	ICMPType  *uint16 `json:"icmp_type,omitempty"`
	ICMPCode  *uint16 `json:"icmp_code,omitempty"`
	Mark      uint32  `json:"mark"`
	Len       uint32  `json:"len"`   // the last packet's length
	Bytes     uint64  `json:"bytes"` // since start
	Count     uint64  `json:"count"` // in the interval (the run)
	Total     uint64  `json:"total"`
}

func newJSONFlow(f FlowRow, summary bool) jsonFlow {
	j := jsonFlow{Netns: f.Flow.Netns, NetnsFrom: f.Flow.NetnsFrom, Ifindex: f.Flow.Ifindex, Ifname: f.Flow.Ifname,
		L3: L3Name(f.Flow.L3Proto), Mark: f.Flow.Mark, Len: f.Len, Bytes: f.Bytes, Count: f.Interval, Total: f.Total}
	if summary {
		j.Count = f.Total
	}
	if f.Flow.Src.IsValid() {
		j.Protocol, j.Src, j.Dst = ProtocolName(f.Flow.L4Proto), f.Flow.Src.String(), f.Flow.Dst.String()
		sp, dp := f.Flow.Sport, f.Flow.Dport
		switch {
		case f.Flow.hasPorts():
			j.Sport, j.Dport = &sp, &dp
		case f.Flow.isICMP():
			j.ICMPType, j.ICMPCode = &sp, &dp
		}
	}
	return j
}

// jsonStack is one call chain of an entry: its frames as LOCATION prints
// them, innermost first, and its drops as the entry counts them. A chain
// the program could not get has no frames and "lost": true.
type jsonStack struct {
	Frames []string `json:"frames"`
	Lost   bool     `json:"lost,omitempty"`
	Count  uint64   `json:"count"`
	Total  uint64   `json:"total"`
}

// jsonKey is a program's key, one field per column in the table's order,
// named by the column in lower case, valued as the table prints it.
type jsonKey struct {
	names, cells []string
}

func (k *jsonKey) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, name := range k.names {
		if i > 0 {
			b.WriteByte(',')
		}
		n, _ := json.Marshal(name)
		v, _ := json.Marshal(k.cells[i])
		b.Write(n)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// RenderJSON writes the report as one line of JSON, in a single Write, so
// that a reader of a pipe (jq) gets each report whole as it is made.
func RenderJSON(w io.Writer, r *Report, opts Options) error {
	line, err := json.Marshal(newJSONReport(r, opts))
	if err != nil {
		return fmt.Errorf("render report as JSON: %w", err)
	}
	_, err = w.Write(append(line, '\n'))
	return err
}

func newJSONReport(r *Report, opts Options) *jsonReport {
	j := &jsonReport{
		Type: "report", Time: r.Time.Format(jsonTime), Interval: r.Elapsed.Seconds(),
		Drops: r.Drops, Rate: r.PerSecond(), Total: r.Total, Lost: r.Lost, LostTotal: r.LostTotal,
		CPUs: r.CPUs, Engine: opts.Engine, Tracepoint: opts.Tracepoint, Entries: []jsonEntry{},
	}
	if r.Summary {
		j.Type, j.Drops = "summary", r.Total
	}
	for _, c := range r.LostByCPU {
		j.LostByCPU = append(j.LostByCPU, jsonCPULost(c))
	}
	if f := r.Flows; f != nil {
		j.FlowsEvicted, j.FlowsEvictedTotal = &f.Evicted, &f.EvictedTotal
		j.FlowsFailed, j.FlowsFailedTotal = &f.Failed, &f.FailedTotal
	}
	for _, row := range r.shown(opts.Top) {
		j.Entries = append(j.Entries, newJSONEntry(row, r.Summary, j.Drops, opts))
	}
	return j
}

func newJSONEntry(row Row, summary bool, drops uint64, opts Options) jsonEntry {
	e := jsonEntry{Count: row.Interval, Total: row.Total}
	if summary {
		e.Count = row.Total
	}
	if drops > 0 {
		e.Share = float64(e.Count) / float64(drops)
	}
	showLoc, showReason, raw := opts.columns()
	if showLoc {
		e.Address = "0x" + strconv.FormatUint(row.Key.Location, 16)
		e.Location = opts.Names.location(row.Key.Location)
		if opts.Names.Symbol != nil {
			if sym, off, ok := opts.Names.Symbol(row.Key.Location); ok {
				e.Symbol, e.Offset, e.Module = sym.Name, &off, &sym.Module
			}
		}
	}
	if showReason {
		code := row.Key.Reason
		e.Reason, e.ReasonCode = opts.Names.reason(code), &code
	}
	if raw {
		k := &jsonKey{cells: opts.Names.Raw(row.Key.Raw)}
		for _, c := range opts.Columns {
			k.names = append(k.names, strings.ToLower(c))
		}
		k.cells = append(k.cells, make([]string, max(0, len(k.names)-len(k.cells)))...)
		e.Key = k
	}
	for _, st := range opts.shownStacks(row, summary) {
		js := jsonStack{Frames: opts.frames(st.Stack), Lost: st.Stack == LostStack, Count: st.Interval, Total: st.Total}
		if summary {
			js.Count = st.Total
		}
		if js.Frames == nil {
			js.Frames = []string{}
		}
		e.Stacks = append(e.Stacks, js)
	}
	for _, f := range shownFlows(row, summary, 0) {
		e.Flows = append(e.Flows, newJSONFlow(f, summary))
	}
	return e
}
