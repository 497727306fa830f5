package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/recording"
	"github.com/dropmon/dropmon/symbolize"
	"github.com/dropmon/dropmon/tracepoint"
)

// recordFlags are dropmon record's own flags.
type recordFlags struct {
	file   string
	report string
}

func (rf *recordFlags) register(fs *flag.FlagSet, out *outputFlags) {
	fs.StringVarP(&rf.file, "output", "o", "", "write the recording to `FILE` (perf.data format: perf script -i FILE reads it too)")
	fs.StringVar(&rf.report, "report", outputTable, "the live reports: table, json (JSON lines) or none")
}

// check validates dropmon record's flags once fs is parsed.
func (rf *recordFlags) check(fs *flag.FlagSet, f *monitorFlags) error {
	switch {
	case rf.file == "":
		return errors.New("record: give the file to write with -o FILE")
	case f.engine == "kernel":
		return errors.New("record: the kernel engine counts in the kernel and reads no records: record with --engine jit or interp (replay can then run any program over the file)")
	case f.details.on:
		return errors.New("record: --details reads the packets in the kernel, which a recording of records cannot replay; record without it")
	case f.program != "":
		return errors.New("record: records skb:kfree_skb; to run a program of your own over them, record, then dropmon replay FILE --program FILE.o")
	}
	switch rf.report {
	case outputTable, outputJSON:
		f.out.format = rf.report
	case "none":
		f.out.quiet = true
	default:
		return fmt.Errorf("--report %q: want table, json or none", rf.report)
	}
	return nil
}

// commandUsage is the --help of record and replay.
func commandUsage(mode string, fs *flag.FlagSet, stderr io.Writer) {
	switch mode {
	case modeRecord:
		fmt.Fprint(stderr, "usage: dropmon record -o FILE [OPTIONS]\n\n"+
			"Runs the monitor (same reports, same options) and writes every skb:kfree_skb record it read, with\n"+
			"their call chains under --stacks, the tracepoint's format, the kallsyms entries of the addresses\n"+
			"seen, the kernel release, the clock and the report boundaries, to FILE in perf.data format\n"+
			"(perf script -i FILE and perf report -i FILE read it). dropmon replay FILE gives the same reports\n"+
			"on any machine, without root.\n\nOptions:\n")
	case modeReplay:
		fmt.Fprint(stderr, "usage: dropmon replay FILE [OPTIONS]\n\n"+
			"Runs the drop counter (or --program FILE.o) over the records of a recording (dropmon record) or of\n"+
			"a capture of perf record -e skb:kfree_skb -a, and prints the reports: those of the live run for a\n"+
			"recording, one per --interval of the records' times for a perf capture. Needs no root.\n\nOptions:\n")
	}
	fs.PrintDefaults()
}

// runRecord is dropmon record: the monitor, writing what it reads.
func runRecord(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	f, err := parseFlags(modeRecord, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "dropmon record: %v\n", err)
		return 2
	}
	if err := monitorLoop(f, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "dropmon record: %v\n", err)
		return 1
	}
	return 0
}

// recorder is dropmon record's file. Its methods do nothing on nil, so the
// monitor calls them unconditionally.
type recorder struct {
	w    *recording.Writer
	path string
	done bool
}

// startRecording creates the file and taps the monitor's records into it.
func startRecording(f *monitorFlags, cfg *monitor.Config) (*recorder, error) {
	format, err := tracepoint.ReadFormat("skb", "kfree_skb")
	if err != nil {
		return nil, err
	}
	w, err := recording.Create(f.record.file, recording.Options{Format: format, Callchain: f.stacks, Cmdline: os.Args, Version: version})
	if err != nil {
		return nil, err
	}
	cfg.Tap, cfg.TapRound = w.Tap, w.Round
	return &recorder{w: w, path: f.record.file}, nil
}

// mark writes a report boundary.
func (r *recorder) mark(kind uint32, wall time.Time, clock uint64, cpus []int, lost []uint64) error {
	if r == nil {
		return nil
	}
	return r.w.Mark(&recording.Marker{Kind: kind, Wall: wall, Clock: clock, CPUs: cpus, Lost: lost})
}

// finish stores the symbols of the locations and call chains counted and
// closes the file.
func (r *recorder) finish(m *monitor.Monitor, stderr io.Writer) error {
	if r == nil {
		return nil
	}
	r.done = true
	counts, err := m.Counts()
	if err != nil {
		r.w.Close(nil, nil)
		return err
	}
	var addrs []uint64
	for k := range counts {
		addrs = append(addrs, k.Location)
		addrs = append(addrs, k.Stack.Frames()...)
	}
	tab, err := symbolize.Load()
	if err != nil {
		fmt.Fprintf(stderr, "dropmon record: %v: the recording has no symbols; replay it with --kallsyms FILE\n", err)
		tab = nil
	}
	if err := r.w.Close(addrs, tab); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "recorded %d records to %s\n", r.w.Samples(), r.path)
	return nil
}

// abort closes a recording that did not finish (an error before the
// summary): what was written stays readable.
func (r *recorder) abort() {
	if r != nil && !r.done {
		r.w.Close(nil, nil)
	}
}
