package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	flag "github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/keyfmt"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/recording"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/symbolize"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

const monitorExamples = `
Examples:
  sudo dropmon                        top 10 drop locations and reasons, every second
  sudo dropmon -i 500ms -n 20         every half second, 20 rows
  sudo dropmon --by reason -c 5       drops per reason, five reports, then a summary
  sudo dropmon -d 30s | tee drops.log append reports (not a terminal) for 30 seconds
  sudo dropmon --stacks -n 3          the top 3 rows, each with its 3 busiest call chains
  sudo dropmon --details --netns /var/run/netns/web
                                      drops in one network namespace, with their flows and interfaces
  sudo dropmon record -o drops.data -d 1m; dropmon replay drops.data
                                      record a minute of drops, look at them later, anywhere
`

// monitorFlags are the monitor's command line.
type monitorFlags struct {
	interval  time.Duration
	top       int
	duration  time.Duration
	count     int
	engine    string
	by        string
	noSymbols bool
	stacks    bool
	stacksTop int
	version   bool
	ringSize  int
	readers   string
	lockOS    bool
	wait      string
	program   string
	section   string
	tps       []string
	mapName   string
	out       outputFlags  // output.go
	filters   filterFlags  // filters.go
	details   detailsFlags // details.go
	mode      string
	record    recordFlags // record.go, for dropmon record
	replay    replayFlags // replay.go, for dropmon replay
}

// hiddenIn lists, per mode, the flags that mode refuses.
var hiddenIn = map[string][]string{
	modeRecord: {"details", "flows-top", "flows-max", "netns", "ifname", "src", "dst", "port", "program", "section", "tracepoint", "map", "version"},
	modeReplay: {"duration", "count", "ring-size", "metrics", "metrics-max-series", "quiet", "comm",
		"details", "flows-top", "flows-max", "netns", "ifname", "src", "dst", "port", "version"},
}

// Modes of parseFlags: the monitor, and the commands that share its flags.
const (
	modeMonitor = "monitor"
	modeRecord  = "record" // dropmon record: -o is the file, --report the live reports' format
	modeReplay  = "replay" // dropmon replay FILE: no kernel, no rings
)

func parseMonitorFlags(args []string, stderr io.Writer) (*monitorFlags, error) {
	return parseFlags(modeMonitor, args, stderr)
}

func parseFlags(mode string, args []string, stderr io.Writer) (*monitorFlags, error) {
	f := monitorFlags{mode: mode}
	name := "dropmon"
	if mode != modeMonitor {
		name = "dropmon " + mode
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVarP(&f.interval, "interval", "i", time.Second, "time between reports (a Go duration: 1s, 500ms)")
	fs.IntVarP(&f.top, "top", "n", 10, "rows per report (0: all)")
	fs.DurationVarP(&f.duration, "duration", "d", 0, "stop after this long (0: until Ctrl-C)")
	fs.IntVarP(&f.count, "count", "c", 0, "stop after this many reports (0: until Ctrl-C)")
	fs.StringVar(&f.engine, "engine", monitor.DefaultEngine(), "engine that runs the drop counter: "+strings.Join(monitor.Engines, ", ")+" (the interpreter is the fallback where the JIT cannot run; kernel needs in-kernel BPF: root, or CAP_BPF and CAP_PERFMON)")
	fs.StringVar(&f.by, "by", "", "group drops by location, reason or location,reason (default: location,reason where the kernel gives reasons)")
	fs.BoolVar(&f.noSymbols, "no-symbols", false, "print raw addresses instead of symbol+0xoff [module]")
	fs.BoolVar(&f.stacks, "stacks", false, "collect the kernel call chain of each drop and print each row's busiest ones under it (JSON: \"stacks\")")
	fs.IntVar(&f.stacksTop, "stacks-top", report.DefaultStackTop, "with --stacks: call chains per row")
	fs.StringVar(&f.program, "program", "", "run this BPF object's tracepoint program (clang -O2 -g -target bpf) instead of the drop counter, and report its map")
	fs.StringVar(&f.section, "section", "", "with --program: the ELF section of the program, when the object has several")
	fs.StringArrayVar(&f.tps, "tracepoint", nil, "with --program: attach the program to GROUP:NAME instead of the tracepoint its section names; repeat it to attach the one program to several")
	fs.StringVar(&f.mapName, "map", "", "with --program: the map to report (default: the program's only hash or array map)")
	ringSize := fs.String("ring-size", "512KiB", "size of each CPU's perf ring (a power of two: 256KiB, 4MiB); larger rings lose fewer records in a burst")
	fs.StringVar(&f.readers, "readers", monitor.ReadersOne, "how rings are read: one (one goroutine over every CPU's ring) or per-cpu")
	fs.BoolVar(&f.lockOS, "lock-thread", false, "lock each reading goroutine to an OS thread")
	fs.StringVar(&f.wait, "wait", "netpoll", "where a reader waits for records: netpoll (Go's netpoller) or syscall (epoll_wait)")
	// For measurements (perfring/RATIONALE.md), not for users.
	for _, name := range []string{"readers", "lock-thread", "wait"} {
		_ = fs.MarkHidden(name)
	}
	switch mode {
	case modeRecord:
		f.record.register(fs, &f.out)
	case modeReplay:
		addOutputFlags(fs, &f.out)
		f.replay.register(fs)
	default:
		addOutputFlags(fs, &f.out)
	}
	f.filters.register(fs)
	f.details.register(fs)
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	// What a command refuses is not in its --help (its error says why).
	for _, name := range hiddenIn[mode] {
		_ = fs.MarkHidden(name)
	}
	fs.Usage = func() {
		if mode != modeMonitor {
			commandUsage(mode, fs, stderr)
			return
		}
		fmt.Fprintf(stderr, "usage: dropmon [OPTIONS]\n       dropmon COMMAND [OPTIONS]\n\n")
		fmt.Fprintf(stderr, "Shows where and why the kernel drops packets (skb:kfree_skb), every interval.\n\nOptions:\n")
		fs.PrintDefaults()
		fmt.Fprint(stderr, monitorExamples)
		fmt.Fprintln(stderr, "\nCommands:")
		for _, c := range commands {
			fmt.Fprintf(stderr, "  %-8s %s\n", c.name, c.summary)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, durationFlagError(err)
	}
	switch {
	case mode == modeReplay:
		if err := f.replay.check(fs, &f); err != nil {
			return nil, err
		}
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q (commands come first: dropmon exec ...)", fs.Arg(0))
	}
	switch {
	case f.interval <= 0:
		return nil, fmt.Errorf("--interval %s: must be positive", f.interval)
	case f.top < 0:
		return nil, fmt.Errorf("--top %d: must not be negative", f.top)
	case f.duration < 0:
		return nil, fmt.Errorf("--duration %s: must not be negative", f.duration)
	case f.count < 0:
		return nil, fmt.Errorf("--count %d: must not be negative", f.count)
	}
	var err error
	if f.ringSize, err = parseSize(*ringSize); err != nil {
		return nil, fmt.Errorf("--ring-size %q: %w", *ringSize, err)
	}
	if err := monitor.RingSize(f.ringSize); err != nil {
		return nil, fmt.Errorf("--ring-size %q: %w", *ringSize, err)
	}
	if f.readers != monitor.ReadersOne && f.readers != monitor.ReadersPerCPU {
		return nil, fmt.Errorf("--readers %q: want %s or %s", f.readers, monitor.ReadersOne, monitor.ReadersPerCPU)
	}
	if f.program == "" && (f.section != "" || len(f.tps) > 0 || f.mapName != "") {
		return nil, errors.New("--section, --tracepoint and --map go with --program FILE.o")
	}
	if f.program != "" && f.by != "" {
		return nil, errors.New("--by groups the drop counter's locations and reasons; with --program every key is its own row")
	}
	if f.stacks && f.program != "" {
		return nil, errors.New("--stacks collects the drop counter's call chains; a --program collects its own (bpf_get_stackid)")
	}
	if fs.Changed("stacks-top") && !f.stacks {
		return nil, errors.New("--stacks-top goes with --stacks")
	}
	if f.stacksTop < 1 {
		return nil, fmt.Errorf("--stacks-top %d: must be at least 1", f.stacksTop)
	}
	if f.wait != "netpoll" && f.wait != "syscall" {
		return nil, fmt.Errorf("--wait %q: want netpoll or syscall", f.wait)
	}
	if f.by != "" {
		if _, err := report.ParseGrouping(f.by); err != nil {
			return nil, err
		}
	}
	if mode == modeRecord {
		if err := f.record.check(fs, &f); err != nil {
			return nil, err
		}
	} else if err := f.out.check(fs, f.program != ""); err != nil {
		return nil, err
	}
	if err := f.filters.check(f.program != ""); err != nil {
		return nil, err
	}
	if err := f.details.check(fs, f.program != ""); err != nil {
		return nil, err
	}
	if err := monitor.CheckEngine(f.engine); err != nil {
		return nil, fmt.Errorf("--engine %s: want one of %s", f.engine, strings.Join(monitor.Engines, ", "))
	}
	if f.details.on && !fs.Changed("engine") {
		f.engine = "kernel" // the only engine that can read the skb
	}
	if f.details.on && f.engine != "kernel" {
		return nil, fmt.Errorf("--details needs --engine kernel: the packet details are read from the kernel's struct sk_buff, which the user-space engines (%s) cannot reach", f.engine)
	}
	return &f, nil
}

// runMonitor is dropmon without a command: the monitor.
func runMonitor(args []string, stdout, stderr io.Writer) int {
	f, err := parseMonitorFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dropmon: %v\n", err)
		return 2
	}
	if f.version {
		fmt.Fprintf(stdout, "dropmon %s\n", version)
		return 0
	}
	if err := monitorLoop(f, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dropmon: %v\n", err)
		return 1
	}
	return 0
}

func monitorLoop(f *monitorFlags, stdout, stderr io.Writer) error {
	// Signals first: a Ctrl-C while starting still ends with a summary.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	engine := f.engine
	if engine == monitor.DefaultEngine() {
		engine = "" // the default may fall back to the interpreter
	}
	cfg := monitor.Config{Engine: engine, RingSize: f.ringSize, Readers: f.readers, LockThread: f.lockOS,
		BlockInSyscall: f.wait == "syscall"}
	if err := f.filters.apply(&cfg); err != nil {
		return err
	}
	var countedMap *program.MapSpec
	if f.stacks {
		cfg.Counter = monitor.StackDropCounter
	}
	if f.details.on {
		var err error
		if cfg.Counter, err = f.details.counter(f.stacks); err != nil {
			return err
		}
	}
	if f.program != "" {
		var err error
		if cfg.Counter, countedMap, err = monitor.ObjectCounter(f.program, f.section, f.tps, f.mapName); err != nil {
			return err
		}
	}
	var rec *recorder
	if f.mode == modeRecord {
		var err error
		if rec, err = startRecording(f, &cfg); err != nil {
			return err
		}
		defer rec.abort()
	}
	out, err := openOutput(f.out, stdout, stderr) // binds --metrics before the monitor starts
	if err != nil {
		return err
	}
	defer out.close()
	m, err := monitor.Start(cfg)
	if err != nil {
		return ringSizeHint(err, f.ringSize)
	}
	defer m.Close()
	opts := renderOptions(f, m, countedMap, stderr)
	out.start(m, opts)
	s := &session{m: m, out: out, rec: rec}
	start := s.now()
	s.tracker = report.NewTracker(opts.By, m.CPUList(), start)
	if err := rec.mark(recording.KindStart, start, recording.Now(), m.CPUList(), nil); err != nil {
		return err
	}
	if ids := m.KernelProgramIDs(); len(ids) > 0 {
		fmt.Fprintf(stderr, "watching %s on %d CPUs (engine kernel, program id %s)\n", m.Tracepoint(), m.CPUs(), joinIDs(ids))
	} else {
		fmt.Fprintf(stderr, "watching %s on %d CPUs (engine %s)\n", m.Tracepoint(), m.CPUs(), m.Engine())
	}

	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	var deadline <-chan time.Time
	if f.duration > 0 {
		deadline = time.After(f.duration)
	}
	for reports := 0; f.count == 0 || reports < f.count; reports++ {
		select {
		case <-tick.C:
		case <-deadline:
			return s.summary(stderr)
		case <-sigs:
			return s.summary(stderr)
		}
		// Run what the rings hold first, so that a lone drop shows in the
		// interval it happened in; an engine far behind does not hold the
		// report up.
		m.Flush(flushTimeout(f.interval))
		if err := s.report(false); err != nil {
			return err
		}
		warnRunErrors(m, stderr)
	}
	return s.summary(stderr)
}

// session is a running monitor and where its reports go.
type session struct {
	m       *monitor.Monitor
	tracker *report.Tracker
	out     *output
	rec     *recorder // dropmon record's file; nil otherwise
}

// report makes and puts out the next report, or the summary. A recording
// gets its boundary: the samples' clock read before the counts.
func (s *session) report(summary bool) error {
	clock := recording.Now()
	r, stats, err := nextReport(s.m, s.tracker, s.now(), summary)
	if err != nil {
		return err
	}
	kind := recording.KindReport
	if summary {
		kind = recording.KindSummary
	}
	if err := s.rec.mark(kind, r.Time, clock, s.m.CPUList(), stats.LostPerCPU); err != nil {
		return err
	}
	if summary {
		return s.out.summary(r, stats)
	}
	return s.out.write(r, stats)
}

// now is the time of a report. A recording keeps wall-clock times only, so
// a recorded run's intervals are measured on the wall clock too (not Go's
// monotonic reading), as its replay measures them.
func (s *session) now() time.Time {
	if s.rec != nil {
		return time.Now().Round(0)
	}
	return time.Now()
}

// summary stops the monitor, so that records still in the rings count,
// prints the whole run, and finishes a recording.
func (s *session) summary(stderr io.Writer) error {
	if err := s.m.Stop(); err != nil {
		return err
	}
	if err := s.report(true); err != nil {
		return err
	}
	return s.rec.finish(s.m, stderr)
}

// nextReport reads the counts (and flows, with --details) and makes the
// next report, or the summary.
func nextReport(m *monitor.Monitor, tracker *report.Tracker, now time.Time, summary bool) (*report.Report, monitor.Stats, error) {
	counts, err := m.Counts()
	if err != nil {
		return nil, monitor.Stats{}, err
	}
	var flows report.Flows
	if m.HasFlows() {
		if flows, err = m.Flows(); err != nil {
			return nil, monitor.Stats{}, err
		}
	}
	stats := m.Stats()
	var r *report.Report
	if summary {
		r = tracker.Summary(now, counts, stats.LostPerCPU)
	} else {
		r = tracker.Next(now, counts, stats.LostPerCPU)
	}
	if m.HasFlows() {
		tracker.AddFlows(r, flows)
	}
	return r, stats, nil
}

// flushTimeout is how long a report waits for the readers to drain the
// rings: a twentieth of the interval, at most 100ms, so that reports stay
// on time when the engine cannot keep up.
func flushTimeout(interval time.Duration) time.Duration {
	return min(interval/20, 100*time.Millisecond)
}

// ringSizeHint adds the flag to turn to an error about locked memory for
// the rings.
func ringSizeHint(err error, size int) error {
	if errors.Is(err, os.ErrPermission) && strings.Contains(err.Error(), "mmap ring") {
		return fmt.Errorf("%w; --ring-size %s was asked for: try a smaller one such as --ring-size %s", err, formatSize(size), formatSize(max(size/4, os.Getpagesize())))
	}
	return err
}

var warnedRunErrors bool

// warnRunErrors says once that the program failed on some records.
func warnRunErrors(m *monitor.Monitor, stderr io.Writer) {
	s := m.Stats()
	if s.RunErrors > 0 && !warnedRunErrors {
		warnedRunErrors = true
		fmt.Fprintf(stderr, "dropmon: the drop counter failed on %d records; last error: %v\n", s.RunErrors, s.LastError)
	}
}

func renderOptions(f *monitorFlags, m *monitor.Monitor, countedMap *program.MapSpec, stderr io.Writer) report.Options {
	opts := report.Options{Top: f.top, Reasons: m.HasReasons(), By: report.ByLocationReason, StackTop: f.stacksTop, FlowTop: f.details.flowsTop}
	if f.by != "" {
		opts.By, _ = report.ParseGrouping(f.by)
	} else if !opts.Reasons {
		opts.By = report.ByLocation
	}
	opts.Names.Reason = m.ReasonName
	switch {
	case f.noSymbols:
	case f.mode == modeReplay:
		// The recording's symbols, or none (replay warned).
		if tab := f.replay.symbols; tab != nil {
			opts.Names.Location = tab.Format
			opts.Names.Symbol = tab.Lookup
		}
	default:
		tab, err := symbolize.Load()
		switch {
		case errors.Is(err, symbolize.ErrRestricted):
			fmt.Fprintf(stderr, "dropmon: %v; printing raw addresses\n", err)
		case err != nil:
			fmt.Fprintf(stderr, "dropmon: %v; printing raw addresses\n", err)
		default:
			opts.Names.Location = tab.Format
			opts.Names.Symbol = tab.Lookup
		}
	}
	if countedMap != nil {
		// A program's own map: one column per field of its key's BTF type.
		layout := keyfmt.NewLayout(countedMap.KeyType, int(countedMap.KeySize))
		names := keyfmt.Names{Symbol: opts.Names.Location}
		if m.HasReasons() {
			names.Reason = m.ReasonName
		}
		opts.Columns = layout.Columns
		opts.Names.Raw = func(key string) []string { return layout.Render([]byte(key), names) }
		opts.Noun = "events"
	}
	return opts
}

// isTerminal reports whether w is a terminal (then reports refresh in place).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// joinIDs lists program ids for the watching line: "12" or "12, 13".
func joinIDs(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, ", ")
}
