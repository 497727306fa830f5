package main

import (
	"errors"
	"fmt"
	"io"

	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

const disasmUsage = `usage: dropmon disasm PROG.o [--section S] [--program NAME] [--type TYPE] [--jit [--intel] [--unprivileged]]
       dropmon disasm --json CASE.json [--jit [--intel]]

Lists a program's eBPF instructions. With --jit it verifies the program,
compiles it with the x86-64 JIT and lists under each eBPF instruction the
machine code generated for it. Exit status 0: listed; 1: rejected by the
verifier, or refused by the JIT (the reason on stderr); 2: the program could
not be read, or bad usage; 3: a bug in the verifier.
`

type disasmFlags struct {
	verifyFlags
	jit   bool
	intel bool
}

// runDisasm is `dropmon disasm`. It shares the loading of programs and the
// exit statuses with `dropmon verify`.
func runDisasm(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var f disasmFlags
	fs := flag.NewFlagSet("disasm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.json, "json", false, "the argument is a dropmon-verifier-case/1 JSON description")
	fs.StringVar(&f.section, "section", "", "ELF section of the program")
	fs.StringVar(&f.program, "program", "", "name of the program (its function) in the ELF object")
	fs.StringVar(&f.typ, "type", "", "program type, overriding the section's: socket_filter, kprobe, tracepoint, xdp, sched_cls, ...")
	fs.BoolVar(&f.unprivileged, "unprivileged", false, "with --jit, verify as for a loader without CAP_BPF")
	fs.BoolVar(&f.jit, "jit", false, "verify, compile with the JIT and list the x86-64 code of each instruction")
	fs.BoolVar(&f.intel, "intel", false, "with --jit, print x86-64 in Intel syntax rather than AT&T")
	fs.Usage = func() {
		fmt.Fprint(stderr, disasmUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "dropmon disasm: %v\n", err)
		return verifyBadInput
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "dropmon disasm: want one program file, got %d arguments\n", fs.NArg())
		fs.Usage()
		return verifyBadInput
	}
	switch {
	case f.intel && !f.jit:
		fmt.Fprintln(stderr, "dropmon disasm: --intel goes with --jit (without it there is no x86-64 code to print)")
		return verifyBadInput
	case f.unprivileged && !f.jit:
		fmt.Fprintln(stderr, "dropmon disasm: --unprivileged goes with --jit (without it nothing is verified)")
		return verifyBadInput
	}
	prog, opts, err := loadForVerify(fs.Arg(0), &f.verifyFlags)
	if err != nil {
		return loadFailed("disasm", fs.Arg(0), err, stderr)
	}
	if !f.jit {
		fmt.Fprintf(stdout, "%s (%s):\n%v", prog.Name, prog.Type, prog.Insns)
		return verifyAccepted
	}
	return disasmJIT(prog, opts, f.intel, stdout, stderr)
}

// disasmJIT verifies, prepares and compiles prog, then lists the code.
func disasmJIT(prog *program.Program, opts *verifier.Options, intel bool, stdout, stderr io.Writer) int {
	v, err := verifier.Verify(prog, opts)
	var verr *verifier.Error
	switch {
	case errors.As(err, &verr) && verr.Internal:
		fmt.Fprintf(stderr, "dropmon disasm: internal error: %+v\n", err)
		return verifyInternal
	case err != nil:
		fmt.Fprintf(stderr, "dropmon disasm: %s: rejected: %s\n", prog.Name, oneLine(err.Error()))
		return verifyRejected
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		fmt.Fprintf(stderr, "dropmon disasm: %s: rejected: %s\n", prog.Name, oneLine(err.Error()))
		return verifyRejected
	}
	defer p.Close()
	code, err := jit.Compile(p)
	if err != nil {
		fmt.Fprintf(stderr, "dropmon disasm: %s: jit: %s\n", prog.Name, oneLine(err.Error()))
		return verifyRejected
	}
	defer code.Close()
	syntax := jit.GNU
	if intel {
		syntax = jit.Intel
	}
	fmt.Fprintf(stdout, "%s (%s): %d bytes of x86-64\n", prog.Name, prog.Type, len(code.Bytes()))
	if err := jit.Disassemble(stdout, code, prog.Insns, syntax); err != nil {
		fmt.Fprintf(stderr, "dropmon disasm: %v\n", err)
		return verifyInternal
	}
	return verifyAccepted
}
