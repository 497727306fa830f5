package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	flag "github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/perfdata"
	"github.com/dropmon/dropmon/internal/recording"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/symbolize"
)

// replayFlags are dropmon replay's own flags.
type replayFlags struct {
	file       string
	kallsyms   string
	archive    string
	buildIDDir string

	interval    bool             // --interval was given
	symbols     *symbolize.Table // the capture's, once found
	symbolsText []byte           // their text, for --location
}

func (rf *replayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&rf.kallsyms, "kallsyms", "", "symbols for a perf capture (perf keeps none): a copy of the recording machine's /proc/kallsyms (taken as root)")
	fs.StringVar(&rf.archive, "perf-archive", "", "symbols for a perf capture from a perf archive tarball (perf archive FILE makes FILE.tar.bz2), used when it holds the capture's kernel build-id")
	fs.StringVar(&rf.buildIDDir, "buildid-dir", "", "perf's build-id cache to find a perf capture's symbols in (default: $PERF_BUILDID_DIR, else ~/.debug)")
}

// check validates dropmon replay's flags once fs is parsed.
func (rf *replayFlags) check(fs *flag.FlagSet, f *monitorFlags) error {
	if fs.NArg() != 1 {
		return errors.New("give one file: dropmon replay FILE (a recording of dropmon record, or perf record -e skb:kfree_skb -a)")
	}
	rf.file = fs.Arg(0)
	rf.interval = fs.Changed("interval")
	var refused []string
	for _, name := range []string{"duration", "count", "ring-size", "readers", "lock-thread", "wait", "metrics", "quiet", "comm"} {
		if fs.Changed(name) {
			refused = append(refused, "--"+name)
		}
	}
	switch {
	case f.engine == "kernel":
		return errors.New("the kernel engine runs on the kernel's own records, not on a file: use --engine jit or interp")
	case f.details.on:
		return errors.New("--details reads packets in the running kernel; a file holds records, not packets")
	case len(refused) > 0 && refused[0] == "--comm":
		return errors.New("--comm needs the task's name, which the records do not carry; --pid works")
	case len(refused) > 0:
		return fmt.Errorf("%s applies to a live run, not to a file", refused[0])
	}
	return nil
}

// runReplay is dropmon replay FILE.
func runReplay(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	f, err := parseFlags(modeReplay, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dropmon replay: %v\n", err)
		return 2
	}
	if err := replay(f, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dropmon replay: %v\n", err)
		return 1
	}
	return 0
}

func replay(f *monitorFlags, stdout, stderr io.Writer) error {
	c, err := recording.Open(f.replay.file)
	if err != nil {
		return err
	}
	defer c.Close()
	if c.Dropmon && f.replay.interval {
		return fmt.Errorf("%s is a recording of dropmon record, whose reports are the live run's: --interval cuts perf record captures, which have none", c.Path)
	}
	scan, err := scanCapture(c)
	if err != nil {
		return err
	}
	if f.replay.symbols, err = captureSymbols(c, &f.replay, stderr); err != nil {
		return err
	}
	engine := f.engine
	if engine == monitor.DefaultEngine() {
		engine = ""
	}
	cfg := monitor.Config{Engine: engine, PID: f.filters.pid}
	var countedMap *program.MapSpec
	switch {
	case f.program != "":
		// CO-RE against the recorded kernel's record layouts, from the
		// file's formats, not against this machine's kernel.
		types, err := recording.Types(slices.Collect(maps.Values(c.Formats)))
		if err != nil {
			return err
		}
		if cfg.Counter, countedMap, err = monitor.ObjectCounterWithOptions(f.program, f.section, f.tps, f.mapName,
			&program.ELFOptions{KernelTypes: types}); err != nil {
			return err
		}
	case f.stacks:
		if !scan.callchains {
			return fmt.Errorf("%s has no call chains: record with dropmon record --stacks (or perf record -g)", c.Path)
		}
		cfg.Counter = monitor.StackDropCounter
	}
	if f.filters.any() {
		format, err := c.Format("skb", "kfree_skb")
		if err != nil {
			return err
		}
		function := func(name string) (*dropcount.Range, error) {
			if f.replay.symbols == nil {
				return nil, fmt.Errorf("find function %s: %s has no symbols", name, c.Path)
			}
			if !c.Dropmon || len(scan.kallsyms) == 0 {
				return monitor.FunctionRangeIn(bytes.NewReader(f.replay.symbolsText), "the capture's symbols", name)
			}
			// A recording holds the symbols of the addresses it saw: a
			// function it lacks had no drop, so the filter keeps none.
			r, err := monitor.FunctionRangeIn(bytes.NewReader(scan.kallsyms), c.Path, name)
			if err != nil {
				fmt.Fprintf(stderr, "dropmon replay: no recorded drop is in %s (%v)\n", name, err)
				return &dropcount.Range{Name: name, Start: 1, End: 2}, nil // no kernel address
			}
			return r, nil
		}
		if cfg.Filter, err = f.filters.resolve(format, function); err != nil {
			return err
		}
	}
	o, err := monitor.StartOffline(cfg, c.Format, scan.cpus)
	if err != nil {
		return err
	}
	defer o.Close()
	out, err := openOutput(f.out, stdout, stderr)
	if err != nil {
		return err
	}
	defer out.close()
	out.refresh = false // reports come at once: append, never redraw
	opts := renderOptions(f, o.Monitor, countedMap, stderr)
	out.start(o.Monitor, opts)
	r := &replayer{o: o, out: out, cpus: scan.cpus, lost: make([]uint64, len(scan.cpus)), stderr: stderr}
	if c.Dropmon {
		fmt.Fprintf(stderr, "replaying %s: %d records recorded by dropmon on %d CPUs (engine %s)\n", c.Path, scan.samples, len(scan.cpus), o.Engine())
		r.tracker = report.NewTracker(opts.By, scan.cpus, scan.start)
	} else {
		fmt.Fprintf(stderr, "replaying %s: %d records of perf record on %d CPUs, in intervals of %s (engine %s)\n", c.Path, scan.samples, len(scan.cpus), f.interval, o.Engine())
		r.interval, r.wall = uint64(f.interval), scan.wall
		r.tracker = report.NewTracker(opts.By, scan.cpus, scan.wall(scan.first))
		r.next = scan.first + r.interval
	}
	if err := c.Walk(r.event); err != nil {
		return err
	}
	if r.skipped > 0 {
		fmt.Fprintf(stderr, "dropmon replay: %d records of other tracepoints than %s left out\n", r.skipped, o.Tracepoint())
	}
	if r.runErrors > 0 {
		fmt.Fprintf(stderr, "dropmon replay: the program failed on %d records\n", r.runErrors)
	}
	if !c.Dropmon {
		return r.finishPerf(scan.last)
	}
	if !r.summarized {
		fmt.Fprintf(stderr, "dropmon replay: %s ends without a summary (the recording was cut short); the reports above are complete\n", c.Path)
	}
	return nil
}

// captureScan is what a first pass over a capture finds.
type captureScan struct {
	samples     uint64
	callchains  bool
	cpus        []int
	start       time.Time // a recording's start
	first, last uint64    // times of the first and last samples
	wall        func(uint64) time.Time
	kallsyms    []byte
}

// scanCapture reads the capture once, in file order: the CPUs and the start
// of a recording (its first marker), the samples' times and CPUs otherwise.
func scanCapture(c *recording.Capture) (*captureScan, error) {
	s := &captureScan{first: ^uint64(0)}
	seen := map[int]bool{}
	var started bool
	err := c.Walk(func(ev *recording.Event) error {
		switch {
		case ev.Marker != nil:
			if !started && ev.Marker.Kind == recording.KindStart {
				started, s.cpus, s.start = true, slices.Clone(ev.Marker.CPUs), ev.Marker.Wall
			}
		case ev.Tracepoint != "":
			s.samples++
			s.callchains = s.callchains || len(ev.Record.Callchain) > 0
			seen[ev.Record.CPU] = true
			s.first, s.last = min(s.first, ev.Record.Time), max(s.last, ev.Record.Time)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range c.File.Attrs {
		if a.Attr.Sample_type&unix.PERF_SAMPLE_CALLCHAIN != 0 && a.Name != recording.MarkerEvent {
			s.callchains = true
		}
	}
	if c.Dropmon && !started {
		return nil, fmt.Errorf("%s: a dropmon recording without its start marker: the file is cut or corrupt", c.Path)
	}
	if !c.Dropmon {
		if s.samples == 0 {
			return nil, fmt.Errorf("%s has no samples of %v", c.Path, c.Events())
		}
		// The CPUs of the machine, else those that recorded.
		if n := int(c.File.Meta.CPUsOnline); n > 0 {
			for cpu := range n {
				s.cpus = append(s.cpus, cpu)
			}
		} else {
			for cpu := range seen {
				s.cpus = append(s.cpus, cpu)
			}
			slices.Sort(s.cpus)
		}
		s.wall = wallClock(c, s.last)
	}
	if t := c.File.Meta.Tracing; t != nil {
		s.kallsyms = t.Kallsyms
	}
	return s, nil
}

// wallClock turns a perf capture's sample times into wall-clock times: with
// the capture's clock data (HEADER_CLOCK_DATA) when it has some, else by
// taking the file's modification time as the time of its last sample.
func wallClock(c *recording.Capture, last uint64) func(uint64) time.Time {
	if cd := c.File.Meta.ClockData; cd != nil && cd.WallNS != 0 {
		return func(t uint64) time.Time { return time.Unix(0, int64(cd.WallNS)+int64(t)-int64(cd.ClockNS)) }
	}
	end := time.Now()
	if info, err := os.Stat(c.Path); err == nil {
		end = info.ModTime()
	}
	return func(t uint64) time.Time { return end.Add(-time.Duration(last - t)) }
}

// captureSymbols finds the symbols for the capture's addresses: --kallsyms,
// else those a dropmon recording holds, else perf's archive or build-id
// cache for the capture's kernel; without any it warns once and the reports
// print raw addresses.
func captureSymbols(c *recording.Capture, rf *replayFlags, stderr io.Writer) (*symbolize.Table, error) {
	if rf.kallsyms != "" {
		text, err := os.ReadFile(rf.kallsyms)
		if err != nil {
			return nil, fmt.Errorf("--kallsyms: %w", err)
		}
		rf.symbolsText = text
		tab, err := symbolize.Parse(bytes.NewReader(text))
		if err != nil {
			return nil, fmt.Errorf("--kallsyms %s: %w", rf.kallsyms, err)
		}
		return tab, nil
	}
	if t := c.File.Meta.Tracing; t != nil && len(t.Kallsyms) > 0 {
		rf.symbolsText = t.Kallsyms
		return symbolize.Parse(bytes.NewReader(t.Kallsyms))
	}
	text, from, err := perfdata.FindKallsyms(c.File, perfdata.KallsymsOptions{Archive: rf.archive, BuildIDDir: rf.buildIDDir})
	if err != nil {
		if rf.archive != "" {
			return nil, fmt.Errorf("--perf-archive: %w", err)
		}
		fmt.Fprintf(stderr, "dropmon replay: %v; printing raw addresses\n", err)
		return nil, nil
	}
	rf.symbolsText = text
	tab, err := symbolize.Parse(bytes.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("symbols from %s: %w", from, err)
	}
	fmt.Fprintf(stderr, "symbols from %s\n", from)
	return tab, nil
}

// replayer turns the capture's events into reports.
type replayer struct {
	o          *monitor.Offline
	out        *output
	tracker    *report.Tracker
	cpus       []int
	lost       []uint64 // a perf capture's lost records per CPU, as counted so far
	stderr     io.Writer
	runErrors  uint64
	skipped    uint64 // samples of tracepoints no program watches
	summarized bool

	// A perf capture's intervals: the end of the current one on the
	// samples' clock, their length, and the wall clock.
	next, interval uint64
	wall           func(uint64) time.Time
}

func (r *replayer) event(ev *recording.Event) error {
	switch {
	case ev.Marker != nil:
		return r.marker(ev.Marker)
	case ev.Tracepoint != "":
		if r.interval > 0 && ev.Record.Time >= r.next {
			if err := r.emit(r.wall(r.next), r.lost, false); err != nil {
				return err
			}
			// The interval the record falls in ends next: a stretch
			// without records joins it, as one longer interval, rather
			// than making a report per empty interval.
			steps := (ev.Record.Time-r.next)/r.interval + 1
			if next := r.next + steps*r.interval; steps <= (^uint64(0)-r.next)/r.interval && next > ev.Record.Time {
				r.next = next
			} else {
				r.next = ^uint64(0) // past the clock's end: no more reports until the last
			}
		}
		if !r.o.Watches(ev.Tracepoint) {
			r.skipped++ // another event of the capture
			return nil
		}
		if err := r.o.Run(ev.Tracepoint, ev.Record); err != nil {
			if r.runErrors == 0 {
				fmt.Fprintf(r.stderr, "dropmon replay: the program failed on a record: %v\n", err)
			}
			r.runErrors++
		}
	case ev.Record != nil && ev.Record.Type == perfring.RecordLost:
		if i := slices.Index(r.cpus, ev.Record.CPU); i >= 0 {
			r.lost[i] += ev.Record.Lost
		}
	}
	return nil
}

// marker makes the report a recording's boundary stands for.
func (r *replayer) marker(m *recording.Marker) error {
	switch m.Kind {
	case recording.KindReport:
		return r.emit(m.Wall, m.Lost, false)
	case recording.KindSummary:
		r.summarized = true
		return r.emit(m.Wall, m.Lost, true)
	}
	return nil
}

// emit makes a report (or the summary) of the counts so far.
func (r *replayer) emit(now time.Time, lost []uint64, summary bool) error {
	counts, err := r.o.Counts()
	if err != nil {
		return err
	}
	stats := monitor.Stats{Records: 0, RunErrors: r.runErrors}
	if summary {
		return r.out.summary(r.tracker.Summary(now, counts, lost), stats)
	}
	return r.out.write(r.tracker.Next(now, counts, lost), stats)
}

// finishPerf ends a perf capture's replay: the interval of the last
// sample, then the summary of every interval.
func (r *replayer) finishPerf(last uint64) error {
	end := r.next
	if end == ^uint64(0) { // a capture whose times run to the clock's end
		end = last
	}
	if err := r.emit(r.wall(end), r.lost, false); err != nil {
		return err
	}
	return r.emit(r.wall(end), r.lost, true)
}
