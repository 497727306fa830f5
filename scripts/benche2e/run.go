package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// config is the harness's command line, as the runs need it.
type config struct {
	dropmon    string        // dropmon binary
	dropgen    string        // dropgen binary
	seconds    time.Duration // storm per case and round
	senders    int           // dropgen -senders
	interval   time.Duration // dropmon -i
	settle     time.Duration // pause between attached and the storm
	attachWait time.Duration // how long a tracer may take to attach
	stopWait   time.Duration // how long a tracer may take to exit after SIGINT
	perfDir    string        // tmpfs where perf writes, each run in a fresh directory
	perfSettle time.Duration // wait after perf.data appears
}

// sample is one case in one round.
type sample struct {
	caseName string
	round    int
	gen      dropgenResult
	cpu      time.Duration // tracer user+sys, whole life (rusage)
	stormCPU time.Duration // tracer user+sys during the storm (/proc/PID/stat)
	maxRSS   int64         // KiB
	lost     int64         // -1: not known
	seen     int64         // records the tracer counted, -1: not known
	late     time.Duration // dropmon's worst report lateness
	hasLate  bool
	err      error
}

func (s sample) rate() float64 { return float64(s.gen.sent) / s.gen.seconds }

// runCase starts the case's tracer, waits until it is attached, runs
// dropgen, stops the tracer and collects what it measured.
func runCase(ctx context.Context, cfg config, c benchCase, round int) sample {
	s := sample{caseName: c.name, round: round, lost: -1, seen: -1}
	if c.kind == kindNone {
		if err := sleep(ctx, cfg.settle); err != nil {
			s.err = err
			return s
		}
		s.gen, s.err = runDropgen(ctx, cfg)
		return s
	}
	var perfDir string
	if c.kind == kindPerf || c.record {
		dir, err := os.MkdirTemp(cfg.perfDir, "benche2e-perf-")
		if err != nil {
			s.err = fmt.Errorf("perf output directory: %w", err)
			return s
		}
		defer os.RemoveAll(dir)
		perfDir = dir
	}
	if c.kind == kindPerf {
		if err := unix.Mkfifo(filepath.Join(perfDir, perfCtl), 0o600); err != nil {
			s.err = fmt.Errorf("perf control fifo: %w", err)
			return s
		}
	}
	argv, ready := tracerCommand(cfg, c, perfDir)
	tr, err := startTracer(argv, ready)
	if err != nil {
		s.err = err
		return s
	}
	defer tr.stop(cfg.stopWait) // on early returns
	if c.kind == kindPerf {
		ctl, err := enablePerf(perfDir)
		if err != nil {
			s.err = err
			return s
		}
		defer ctl.Close()
	}
	t0, err := tr.waitReady(ctx, cfg.attachWait)
	if err == nil {
		err = sleep(ctx, cfg.settle)
	}
	if err != nil {
		s.err = err
		return s
	}
	cpu0, cpuErr0 := tr.cpu()
	s.gen, s.err = runDropgen(ctx, cfg)
	cpu1, cpuErr1 := tr.cpu()
	if s.err != nil {
		return s
	}
	if err := errors.Join(cpuErr0, cpuErr1); err == nil {
		s.stormCPU = cpu1 - cpu0
	}
	if err := tr.stop(cfg.stopWait); err != nil {
		s.err = err // still report what there is: the rusage of a killed tracer
	}
	if ru := tr.rusage(); ru != nil {
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		s.maxRSS = ru.Maxrss
	}
	if err := collect(ctx, cfg, c, tr, t0, perfDir, &s); err != nil && s.err == nil {
		s.err = err
	}
	return s
}

// tracerCommand returns the case's command line and how to tell from its
// output that it is attached.
func tracerCommand(cfg config, c benchCase, perfDir string) ([]string, readyLine) {
	switch c.kind {
	case kindDropmon:
		argv := append([]string{cfg.dropmon, "-i", cfg.interval.String()}, c.args...) // c.args may set another
		return argv, func(stdout bool, text string) bool {
			return !stdout && strings.HasPrefix(text, "watching")
		}
	case kindPerf:
		// perf says nothing when attached, and enables its events only
		// after it has described every running process. Started with its
		// events disabled (-D -1) and told to enable them through its
		// control fifo, it says "Events enabled" once they are.
		return []string{"perf", "record", "-e", "skb:kfree_skb", "-a",
				"-D", "-1", "--control", "fifo:" + filepath.Join(perfDir, perfCtl),
				"-o", filepath.Join(perfDir, "perf.data")},
			func(stdout bool, text string) bool { return !stdout && strings.HasPrefix(text, "Events enabled") }
	case kindBpftrace:
		return []string{"bpftrace", "-e", bpftraceProgram}, func(stdout bool, text string) bool {
			return stdout && strings.HasPrefix(text, "Attaching")
		}
	}
	panic(fmt.Sprintf("BUG: no tracer command for case %s", c.name))
}

// perfCtl is perf record's control fifo in the run's directory.
const perfCtl = "ctl"

// enablePerf tells perf record to enable its events. The fifo is opened
// read-write, which does not block whether or not perf has opened it yet;
// the command waits in the fifo for perf, which must stay open until perf
// has read it.
func enablePerf(perfDir string) (*os.File, error) {
	path := filepath.Join(perfDir, perfCtl)
	ctl, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("perf control fifo: %w", err)
	}
	if _, err := ctl.WriteString("enable\n"); err != nil {
		ctl.Close()
		return nil, fmt.Errorf("perf control fifo: %w", err)
	}
	return ctl, nil
}

// collect reads the lost and seen records and dropmon's lateness from the
// ended tracer's output.
func collect(ctx context.Context, cfg config, c benchCase, tr *tracer, t0 time.Time, perfDir string, s *sample) error {
	stdout, stderr := tr.lines()
	switch c.kind {
	case kindDropmon:
		var arrivals []time.Time
		var sum dropmonSummary
		var haveSum bool
		for _, l := range stdout {
			if _, ok := parseHeaderTime(l.text); ok && !haveSum {
				arrivals = append(arrivals, l.at)
			}
			if v, ok := parseSummary(l.text); ok {
				sum, haveSum = v, true
			}
		}
		s.late, s.hasLate = maxLateness(t0, c.interval, arrivals)
		if !haveSum {
			return fmt.Errorf("dropmon printed no summary line:\n%s", tr.tail(8))
		}
		s.seen, s.lost = int64(sum.drops), int64(sum.lost)
	case kindPerf:
		st, err := parsePerfRecord(texts(stderr))
		if err != nil {
			return fmt.Errorf("%w:\n%s", err, tr.tail(8))
		}
		lost, err := perfStatsLost(ctx, filepath.Join(perfDir, "perf.data"))
		if err != nil {
			return err
		}
		s.seen, s.lost = int64(st.captured), int64(max(lost, st.lost))
	case kindBpftrace:
		// Counting in a kernel map loses nothing; "Lost N events" is about
		// printf output, which this program has none of.
		s.seen, s.lost = int64(sumBpftraceCounts(texts(stdout))), 0
	}
	return nil
}

// perfStatsLost counts the samples lost in a perf.data with
// "perf report --stats", after the run.
func perfStatsLost(ctx context.Context, perfData string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "perf", "report", "--stats", "-i", perfData).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("perf report --stats: %w:\n%s", err, out)
	}
	lost, ok := parsePerfStatsLost(string(out))
	if !ok {
		return 0, fmt.Errorf("perf report --stats printed no event statistics:\n%s", out)
	}
	return lost, nil
}

// runDropgen runs one storm and reads its result line.
func runDropgen(ctx context.Context, cfg config) (dropgenResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.seconds+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.dropgen, "-d", cfg.seconds.String(), "-senders", fmt.Sprint(cfg.senders))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return dropgenResult{}, fmt.Errorf("dropgen: %w", err)
	}
	text := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	return parseDropgen(text)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
