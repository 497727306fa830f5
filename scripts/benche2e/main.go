// Command benche2e measures what watching a drop storm costs: it runs
// dropgen's storm of UDP drops on 127.0.0.1 alone and beside each tracer
// (dropmon with each engine and any extra arguments, perf record, bpftrace),
// in rounds that take the cases in turn so that a noisy machine's drift
// falls on all of them, and prints a markdown table of the medians: the drop
// rate each tracer leaves, its CPU per record, lost records, peak RSS, and
// how late dropmon's interval reports come.
//
// It needs root and is run by scripts/bench-e2e.sh, which builds it;
// docs/benchmarks.md explains the columns.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "benche2e: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		cfg     config
		extras  extraFlag
		rounds  = flag.Int("rounds", 6, "rounds; each runs every case once")
		seconds = flag.Float64("seconds", 3, "storm seconds per case and round (at most 60)")
		list    = flag.String("cases", "", "comma-separated cases to run, in this order (default: all)")
		outFile = flag.String("o", "", "also write the markdown report to this file")
		cmdline = flag.String("cmdline", "", "command to print in the report (default: this one)")
	)
	flag.StringVar(&cfg.dropmon, "dropmon", "dropmon", "dropmon binary")
	flag.StringVar(&cfg.dropgen, "dropgen", "dropgen", "dropgen binary")
	flag.IntVar(&cfg.senders, "senders", 0, "dropgen sender threads (default: number of CPUs)")
	flag.DurationVar(&cfg.interval, "interval", time.Second, "dropmon report interval (-i)")
	flag.DurationVar(&cfg.settle, "settle", 500*time.Millisecond, "pause between a tracer's attaching and the storm (also before a storm alone)")
	flag.DurationVar(&cfg.attachWait, "attach-timeout", 60*time.Second, "how long a tracer may take to attach")
	flag.DurationVar(&cfg.stopWait, "stop-timeout", 30*time.Second, "how long a tracer may take to exit after SIGINT before SIGKILL")
	flag.StringVar(&cfg.perfDir, "perf-dir", "/dev/shm", "tmpfs directory for perf.data (a fresh directory inside, removed after each run)")
	flag.Var(&extras, "extra", "extra dropmon case `name=args`, repeatable or comma-separated, e.g. 'dropmon-percpu=--readers per-cpu'")
	flag.Parse()

	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	if *rounds < 1 || *seconds <= 0 || *seconds > 60 {
		return fmt.Errorf("-rounds %d -seconds %g: want at least one round of 0-60 seconds", *rounds, *seconds)
	}
	cfg.seconds = time.Duration(*seconds * float64(time.Second))
	if cfg.senders <= 0 {
		cfg.senders = describeMachine().cpus
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("must run as root: tracers open perf events on every CPU (use scripts/bench-e2e.sh under sudo)")
	}
	cases, notes, err := selectCases(append(builtinCases(), extras...), *list, exec.LookPath)
	if err != nil {
		return err
	}
	if err := setIntervals(cases, cfg.interval); err != nil {
		return err
	}
	if note, err := ensureTracefs(); err != nil {
		return err
	} else if note != "" {
		notes = append(notes, note)
	}
	for _, n := range notes {
		fmt.Fprintln(os.Stderr, "note:", n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	var samples []sample
	for r := 1; r <= *rounds; r++ {
		for _, c := range cases {
			s := runCase(ctx, cfg, c, r)
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted in round %d, case %s", r, c.name)
			}
			fmt.Fprintln(os.Stderr, rawLine(s, c))
			samples = append(samples, s)
		}
	}

	cmd := *cmdline
	if cmd == "" {
		cmd = shellQuote(os.Args)
	}
	var report bytes.Buffer
	writeReport(&report, reportHeader{
		date: started, machine: describeMachine(), command: cmd,
		rounds: *rounds, cfg: cfg, notes: notes,
	}, cases, samples)
	os.Stdout.Write(report.Bytes())
	if *outFile != "" {
		if err := os.WriteFile(*outFile, report.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

// reportHeader is what the report says about the run before the table.
type reportHeader struct {
	date    time.Time
	machine machine
	command string
	rounds  int
	cfg     config
	notes   []string
}

func writeReport(w io.Writer, h reportHeader, cases []benchCase, samples []sample) {
	fmt.Fprintf(w, "### Drop storm, %s\n\n", h.date.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "- machine: %s\n", h.machine)
	fmt.Fprintf(w, "- tools: %s; %s; %s\n", toolVersion(h.cfg.dropmon, "--version"),
		toolVersion("perf", "version"), toolVersion("bpftrace", "--version"))
	fmt.Fprintf(w, "- command: `%s`\n", h.command)
	fmt.Fprintf(w, "- %d round(s) × %s storm per case, dropgen with %d senders, dropmon interval %s unless a case sets its own; medians over rounds\n",
		h.rounds, h.cfg.seconds, h.cfg.senders, h.cfg.interval)
	for _, n := range h.notes {
		fmt.Fprintf(w, "- note: %s\n", n)
	}
	fmt.Fprintln(w)
	writeTable(w, cases, samples)
}

// shellQuote joins args into a line a shell would split back into them.
func shellQuote(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
