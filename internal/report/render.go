package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/dropmon/dropmon/symbolize"
)

// Names turns the parts of a key into text.
type Names struct {
	Location func(addr uint64) string // e.g. a symbol table's Format; nil prints hex
	Reason   func(r uint32) string    // the kernel's reason names; nil prints numbers
	// Raw renders a raw key (Key.Raw) as one cell per Options.Columns.
	Raw func(key string) []string
	// Symbol looks up the symbol that covers addr and addr's offset in it
	// (a symbol table's Lookup), for JSON lines' symbol, offset and module;
	// nil leaves them out.
	Symbol func(addr uint64) (symbolize.Symbol, uint64, bool)
}

func (n Names) location(addr uint64) string {
	if n.Location == nil {
		return "0x" + strconv.FormatUint(addr, 16)
	}
	return n.Location(addr)
}

func (n Names) reason(r uint32) string {
	if n.Reason == nil {
		return "reason#" + strconv.FormatUint(uint64(r), 10)
	}
	return n.Reason(r)
}

// Options control rendering.
type Options struct {
	Top     int      // rows to show; 0 shows all
	By      Grouping // which columns to show
	Reasons bool     // the kernel gives reasons (else the reason column is left out)
	Names   Names
	TimeFmt string // default "15:04:05"
	// Columns, when set, name the cells of Names.Raw, which then stand in
	// for LOCATION and REASON: the report of a program's own map.
	Columns []string
	// Noun is what the counts count, for the header lines; "" means drops.
	Noun string
	// Engine and Tracepoint say what counted, for JSON lines.
	Engine     string
	Tracepoint string
	// StackTop is how many call chains each row shows when the counts
	// have stacks (--stacks-top); 0 means DefaultStackTop.
	StackTop int
	// FlowTop is how many flows each row shows in the table when the
	// report has packet details (--flows-top); 0 means DefaultFlowTop.
	// JSON lines show them all.
	FlowTop int
}

func (o Options) noun() string {
	if o.Noun == "" {
		return "drops"
	}
	return o.Noun
}

// Render writes the report's header line and its table.
func Render(w io.Writer, r *Report, opts Options) error {
	if _, err := io.WriteString(w, headerLine(r, opts)); err != nil {
		return err
	}
	rows := r.shown(opts.Top)
	if len(rows) == 0 {
		_, err := io.WriteString(w, "  no "+opts.noun()+"\n")
		return err
	}
	return renderTable(w, r, rows, opts)
}

func headerLine(r *Report, opts Options) string {
	layout := opts.TimeFmt
	if layout == "" {
		layout = "15:04:05"
	}
	if r.Summary {
		return fmt.Sprintf("summary: %d %s in %s (%.1f/s), %d lost records%s, %d CPUs%s\n",
			r.Total, opts.noun(), r.Elapsed.Round(1e6), r.PerSecond(), r.LostTotal, lostByCPU(r), r.CPUs, flowsLine(r))
	}
	return fmt.Sprintf("%s  %s: %d (%.1f/s)  total: %d  lost: %d%s  cpus: %d%s\n",
		r.Time.Format(layout), opts.noun(), r.Drops, r.PerSecond(), r.Total, r.Lost, lostByCPU(r), r.CPUs, flowsLine(r))
}

// lostByCPU says which CPUs lost records: " (cpu0 12, cpu3 5)", or nothing
// when none did.
func lostByCPU(r *Report) string {
	if len(r.LostByCPU) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" (")
	for i, c := range r.LostByCPU {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "cpu%d %d", c.CPU, c.Lost)
	}
	b.WriteString(")")
	return b.String()
}

// columns says which of a row's columns a report shows: LOCATION, REASON,
// or the cells of a raw key.
func (o Options) columns() (showLoc, showReason, raw bool) {
	raw = len(o.Columns) > 0 && o.Names.Raw != nil
	return o.By != ByReason && !raw, o.Reasons && o.By != ByLocation && !raw, raw
}

// Labels returns a key's location and reason as the table prints them; ""
// for what the report does not show (the grouping summed it, the kernel has
// no reasons, or the key is a program's own).
func (o Options) Labels(k Key) (location, reason string) {
	showLoc, showReason, _ := o.columns()
	if showLoc {
		location = o.Names.location(k.Location)
	}
	if showReason {
		reason = o.Names.reason(k.Reason)
	}
	return location, reason
}

// shown returns the rows the report shows: the top ones.
func (r *Report) shown(top int) []Row {
	if top > 0 && len(r.Rows) > top {
		return r.Rows[:top]
	}
	return r.Rows
}

func renderTable(w io.Writer, r *Report, rows []Row, opts Options) error {
	showLoc, showReason, raw := opts.columns()
	header := []string{"#", strings.ToUpper(opts.noun()), "TOTAL", "SHARE"}
	align := []tw.Align{tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight}
	if r.Summary {
		header = []string{"#", "TOTAL", "SHARE"}
		align = align[:3]
	}
	if showLoc {
		header = append(header, "LOCATION")
		align = append(align, tw.AlignLeft)
	}
	if showReason {
		header = append(header, "REASON")
		align = append(align, tw.AlignLeft)
	}
	if raw {
		header = append(header, opts.Columns...)
		for range opts.Columns {
			align = append(align, tw.AlignLeft)
		}
	}
	var buf strings.Builder
	table := newTable(&buf, align)
	table.Header(header)
	for i, row := range rows {
		cells := []string{strconv.Itoa(i + 1)}
		if r.Summary {
			cells = append(cells, strconv.FormatUint(row.Total, 10), share(row.Total, r.Total))
		} else {
			cells = append(cells, strconv.FormatUint(row.Interval, 10), strconv.FormatUint(row.Total, 10), share(row.Interval, r.Drops))
		}
		if showLoc {
			cells = append(cells, opts.Names.location(row.Key.Location))
		}
		if showReason {
			cells = append(cells, opts.Names.reason(row.Key.Reason))
		}
		if raw {
			cells = append(cells, opts.Names.Raw(row.Key.Raw)...)
		}
		if err := table.Append(cells); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
	}
	if err := table.Render(); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	// tablewriter pads the last column; trailing blanks only make diffs noisy.
	// The header is line 0, row i line i+1: its call chains go under it.
	var i int
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
		if i > 0 && i <= len(rows) {
			// Flows first: a line each, before the call chains' frames.
			if err := renderFlows(w, rows[i-1], r.Summary, opts); err != nil {
				return err
			}
			if err := renderStacks(w, rows[i-1], r.Summary, opts); err != nil {
				return err
			}
		}
		i++
	}
	return nil
}

func newTable(w io.Writer, align []tw.Align) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off},
				Alignment:  tw.CellAlignment{PerColumn: align},
			},
			Row: tw.CellConfig{Alignment: tw.CellAlignment{PerColumn: align}},
		}),
	)
}

// share formats n as a percentage of all.
func share(n, all uint64) string {
	if all == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(all), 'f', 1, 64) + "%"
}
