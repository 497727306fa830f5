package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/verifier"
)

// Exit statuses of `dropmon verify`, the verifier corpus's contract.
const (
	verifyAccepted = 0 // the verifier proved the program safe
	verifyRejected = 1 // it did not: one line naming the instruction on stderr
	verifyBadInput = 2 // the program could not be read, or bad usage
	verifyInternal = 3 // a bug in dropmon's verifier
)

const verifyUsage = `usage: dropmon verify PROG.o [--section S] [--program NAME] [--type TYPE] [--unprivileged|--without-perfmon] [-v|-vv]
       dropmon verify --json CASE.json [-v|-vv]

Checks a program with dropmon's verifier. Exit status 0: accepted ("processed
N insns" on stdout); 1: rejected (the reason on stderr, the whole log with -v
or -vv); 2: the program could not be read; 3: a bug in the verifier.
`

type verifyFlags struct {
	json         bool
	section      string
	program      string
	typ          string
	unprivileged bool
	noPerfmon    bool
	verbose      int
}

// runVerify is `dropmon verify`.
func runVerify(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var f verifyFlags
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.json, "json", false, "the argument is a dropmon-verifier-case/1 JSON description (its privileged field selects the mode)")
	fs.StringVar(&f.section, "section", "", "ELF section of the program")
	fs.StringVar(&f.program, "program", "", "name of the program (its function) in the ELF object")
	fs.StringVar(&f.typ, "type", "", "program type, overriding the section's: socket_filter, kprobe, tracepoint, xdp, sched_cls, ...")
	fs.BoolVar(&f.unprivileged, "unprivileged", false, "verify as for a loader without CAP_BPF")
	fs.BoolVar(&f.noPerfmon, "without-perfmon", false, "verify as for a loader with CAP_BPF but without CAP_PERFMON (bounded loops allowed; no pointer comparisons or leaks, Spectre checks)")
	fs.CountVarP(&f.verbose, "verbose", "v", "print the verifier log on rejection (-vv: with every instruction's state)")
	fs.Usage = func() {
		fmt.Fprint(stderr, verifyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "dropmon verify: %v\n", err)
		return verifyBadInput
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "dropmon verify: want one program file, got %d arguments\n", fs.NArg())
		fs.Usage()
		return verifyBadInput
	}
	prog, opts, err := loadForVerify(fs.Arg(0), &f)
	if err != nil {
		return loadFailed("verify", fs.Arg(0), err, stderr)
	}
	return verifyProgram(prog, opts, f.verbose, stdout, stderr)
}

// loadFailed reports why a program could not be loaded and returns the
// exit status. An instruction the loader refused (a helper number no
// kernel has, a kfunc call, a malformed lddw) is a verdict on the program,
// as in the kernel; anything else means the input could not be read.
func loadFailed(cmd, path string, err error, stderr io.Writer) int {
	var insnErr *program.InsnError
	if errors.As(err, &insnErr) {
		// The path leads the line already.
		msg := strings.TrimPrefix(err.Error(), path+": ")
		fmt.Fprintf(stderr, "dropmon %s: %s: rejected: %s\n", cmd, path, oneLine(msg))
		return verifyRejected
	}
	fmt.Fprintf(stderr, "dropmon %s: %s\n", cmd, oneLine(err.Error()))
	return verifyBadInput
}

// loadForVerify reads the program and decides the verifier's options.
func loadForVerify(path string, f *verifyFlags) (*program.Program, *verifier.Options, error) {
	opts := &verifier.Options{Unprivileged: f.unprivileged, WithoutPerfmon: f.noPerfmon, LogLevel: min(f.verbose, 2)}
	var prog *program.Program
	if f.json {
		if f.section != "" || f.program != "" {
			return nil, nil, fmt.Errorf("--section and --program are for ELF objects, not --json")
		}
		p, c, err := program.FromJSONFile(path)
		if err != nil {
			return nil, nil, err
		}
		prog = p
		opts.Unprivileged = opts.Unprivileged || !c.Privileged
	} else {
		p, err := program.FromELF(path, f.section, f.program)
		if err != nil {
			return nil, nil, err
		}
		prog = p
	}
	if f.typ != "" {
		t, err := program.ParseType(f.typ)
		if err != nil {
			return nil, nil, fmt.Errorf("--type: %w", err)
		}
		prog.Type = t
	}
	if prog.Type == program.Unspec {
		return nil, nil, fmt.Errorf("%s: the section of program %s does not say its type (give --type)", path, prog.Name)
	}
	return prog, opts, nil
}

// verifyProgram runs the verifier and turns its verdict into the exit
// status. A program the verifier cannot make sense of (an unknown helper or
// map type, a malformed instruction) is a rejection, as in the kernel.
func verifyProgram(prog *program.Program, opts *verifier.Options, verbose int, stdout, stderr io.Writer) int {
	v, err := verifier.Verify(prog, opts)
	if err == nil {
		if verbose > 0 && v.Log() != "" {
			fmt.Fprint(stderr, v.Log())
		}
		fmt.Fprintf(stdout, "processed %d insns\n", v.Processed())
		return verifyAccepted
	}
	var verr *verifier.Error
	switch {
	case errors.As(err, &verr) && verr.Internal:
		fmt.Fprintf(stderr, "dropmon verify: internal error: %+v\n", err)
		return verifyInternal
	case errors.As(err, &verr), errors.Is(err, verifier.ErrRejected),
		errors.Is(err, program.ErrInvalid), errors.Is(err, program.ErrNotSupported):
		if verbose > 0 {
			fmt.Fprintf(stderr, "%+v\n", err)
		}
		fmt.Fprintf(stderr, "dropmon verify: %s: rejected: %s\n", prog.Name, oneLine(err.Error()))
		return verifyRejected
	}
	fmt.Fprintf(stderr, "dropmon verify: internal error: %v\n", err)
	return verifyInternal
}
