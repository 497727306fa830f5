package main

import (
	"errors"
	"fmt"
	"io"
	"net"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/internal/metrics"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/report"
)

// Output formats of --output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// outputFlags say where reports go: the table or JSON lines on stdout, or
// nothing (--quiet), and the Prometheus endpoint.
type outputFlags struct {
	format    string
	quiet     bool
	metrics   string
	maxSeries int
}

func addOutputFlags(fs *flag.FlagSet, o *outputFlags) {
	fs.StringVarP(&o.format, "output", "o", outputTable, "report format: table, or json (one JSON object per report and one for the summary, a line each)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print no reports and no summary (with --metrics: a node agent)")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (host:port, such as 127.0.0.1:9101; port 0 picks a free one)")
	fs.IntVar(&o.maxSeries, "metrics-max-series", metrics.DefaultMaxSeries, "with --metrics: the first `N` (location, reason) pairs seen get a series of their own; later ones count under location=\"other\"")
}

// check validates the output flags once fs is parsed; program says
// --program was given.
func (o *outputFlags) check(fs *flag.FlagSet, program bool) error {
	switch {
	case o.format != outputTable && o.format != outputJSON:
		return fmt.Errorf("--output %q: want table or json", o.format)
	case o.quiet && fs.Changed("output"):
		return errors.New("--quiet prints no reports: leave out --output")
	case o.quiet && o.metrics == "":
		return errors.New("--quiet prints nothing: use it with --metrics ADDR")
	case fs.Changed("metrics-max-series") && o.metrics == "":
		return errors.New("--metrics-max-series goes with --metrics ADDR")
	case o.maxSeries < 1:
		return fmt.Errorf("--metrics-max-series %d: must be at least 1", o.maxSeries)
	case o.metrics != "" && program:
		return errors.New("--metrics counts the drop counter's locations and reasons; it does not go with --program")
	}
	if o.metrics != "" {
		if _, _, err := net.SplitHostPort(o.metrics); err != nil {
			return fmt.Errorf("--metrics %s: want host:port, such as 127.0.0.1:9101 (%w)", o.metrics, err)
		}
	}
	return nil
}

// output writes each report where the flags say: stdout (the table, JSON
// lines or nothing) and the Prometheus counters. Both come from the same
// report.Report, so they give the same numbers.
type output struct {
	flags   outputFlags
	stdout  io.Writer
	refresh bool // stdout is a terminal: each table replaces the last
	opts    report.Options
	metrics *metrics.Metrics
	server  *metrics.Server
}

// openOutput binds the metrics' address, before the monitor starts, so that
// a taken port fails fast. It says where the metrics are on stderr.
func openOutput(f outputFlags, stdout, stderr io.Writer) (*output, error) {
	o := &output{flags: f, stdout: stdout, refresh: f.format == outputTable && isTerminal(stdout)}
	if f.metrics == "" {
		return o, nil
	}
	// The engine is known once the monitor runs; the handler reads
	// o.metrics only after start set it.
	o.metrics = metrics.New(metrics.Options{MaxSeries: f.maxSeries, Version: version})
	srv, err := metrics.Listen(f.metrics, o.metrics.Handler())
	if err != nil {
		return nil, fmt.Errorf("--metrics %s: %w", f.metrics, err)
	}
	o.server = srv
	fmt.Fprintf(stderr, "metrics on %s\n", srv.URL())
	return o, nil
}

// start completes the output once the monitor runs: what it counts with,
// and how rows are named.
func (o *output) start(m *monitor.Monitor, opts report.Options) {
	opts.Engine, opts.Tracepoint = m.Engine(), m.Tracepoint()
	o.opts = opts
	if o.metrics != nil {
		o.metrics.SetEngine(m.Engine())
	}
}

// write puts out one interval's report; stats are the monitor's, read when
// the report was made.
func (o *output) write(r *report.Report, stats monitor.Stats) error {
	o.count(r, stats)
	switch {
	case o.flags.quiet:
		return nil
	case o.flags.format == outputJSON:
		return report.RenderJSON(o.stdout, r, o.opts)
	}
	if o.refresh {
		io.WriteString(o.stdout, "\x1b[H\x1b[2J") // home, clear: refresh like top
	}
	return report.Render(o.stdout, r, o.opts)
}

// summary puts out the whole run's report: its rows still carry the last
// interval's deltas, which the metrics count.
func (o *output) summary(r *report.Report, stats monitor.Stats) error {
	o.count(r, stats)
	switch {
	case o.flags.quiet:
		return nil
	case o.flags.format == outputJSON:
		return report.RenderJSON(o.stdout, r, o.opts)
	}
	fmt.Fprintln(o.stdout)
	return report.Render(o.stdout, r, o.opts)
}

// count adds a report's deltas to the Prometheus counters: every row, not
// only the top ones the table shows.
func (o *output) count(r *report.Report, stats monitor.Stats) {
	if o.metrics == nil {
		return
	}
	for _, row := range r.Rows {
		if row.Interval > 0 {
			location, reason := o.opts.Labels(row.Key)
			o.metrics.AddDrops(location, reason, row.Interval)
		}
	}
	o.metrics.SetLost(r.LostTotal)
	o.metrics.SetRecords(stats.Records)
}

// close stops the metrics server.
func (o *output) close() error {
	if o.server == nil {
		return nil
	}
	return o.server.Close()
}
