package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf/asm"
	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// runExec is `dropmon exec [--engine interp|jit] [MEM_HEX]`: the
// bpf_conformance plugin protocol. The program comes as hex bytes on stdin
// and runs as program.Conformance: R1 points to a writable copy of the
// memory (0 without one), R2 holds its length, and helper 5 returns its
// first argument. R0 is printed in hex; any error exits 1 with one line on
// stderr.
func runExec(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "interp", "the engine that runs the program: interp or jit")
	maxInsns := fs.Uint64("max-insns", 0, "instruction budget of the run (0: the interpreter's default)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dropmon exec [--engine interp|jit] [MEM_HEX] < PROGRAM_HEX")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "dropmon exec: %v\n", err)
		fs.Usage()
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "dropmon exec: want at most one argument (the memory as hex), got %d\n", fs.NArg())
		return 2
	}
	r0, err := execProgram(*engine, *maxInsns, stdin, strings.Join(fs.Args(), " "))
	if err != nil {
		fmt.Fprintf(stderr, "dropmon exec: %s\n", oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "%x\n", r0)
	return 0
}

func execProgram(engineName string, maxInsns uint64, progHex io.Reader, memHex string) (uint64, error) {
	engine, err := engineByName(engineName, maxInsns)
	if err != nil {
		return 0, err
	}
	text, err := io.ReadAll(progHex)
	if err != nil {
		return 0, fmt.Errorf("read program: %w", err)
	}
	code, err := parseHex(string(text))
	if err != nil {
		return 0, fmt.Errorf("program: %w", err)
	}
	mem, err := parseHex(memHex)
	if err != nil {
		return 0, fmt.Errorf("memory: %w", err)
	}
	insns, err := program.FromBytes(code)
	if err != nil {
		return 0, err
	}
	prog := &program.Program{Name: "exec", Type: program.Conformance, Insns: insns}
	// Every program is verified, as the conformance type (R1 = the memory,
	// R2 = its length), before any engine runs it.
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: len(mem)})
	if err != nil {
		return 0, err
	}
	p, err := userspacevm.PrepareVerified(v, &userspacevm.LoadOptions{Helpers: conformanceHelpers()})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	runner, err := engine.Load(p)
	if err != nil {
		return 0, err
	}
	defer runner.Close()
	return runner.Run(mem, nil)
}

func engineByName(name string, maxInsns uint64) (userspacevm.Engine, error) {
	switch name {
	case "interp":
		return userspacevm.Interp{Options: userspacevm.InterpOptions{MaxInsns: maxInsns}}, nil
	case "jit":
		return jit.Engine{}, nil
	}
	return nil, fmt.Errorf("unknown engine %q (want interp or jit)", name)
}

// conformanceHelpers is DefaultHelpers with helper 5 returning its first
// argument, as the bpf_conformance suite expects.
func conformanceHelpers() userspacevm.Helpers {
	h := userspacevm.DefaultHelpers()
	h[asm.FnKtimeGetNs] = func(_ *userspacevm.Call, r1, _, _, _, _ uint64) uint64 { return r1 }
	return h
}

// parseHex reads bytes written as hex, leniently: any whitespace between
// them, each token an even number of hex digits ("b7 00" or "b700"). The
// result has room for at least 16 bytes so that Go allocates it 8-byte
// aligned, as the kernel's memory would be (programs run atomics on it).
func parseHex(s string) ([]byte, error) {
	out := make([]byte, 0, max(16, len(s)/2))
	for i, tok := range strings.Fields(s) {
		b, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(tok), "0x"))
		if err != nil {
			return nil, fmt.Errorf("token %d %q is not hex bytes: %w", i, tok, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// oneLine keeps an error's message on one line, as the protocol wants.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
