package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf/asm"
	flag "github.com/spf13/pflag"

	"github.com/dropmon/dropmon/internal/bounded"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// Limits on exec's hex input: 32 Mi digits are 16 MiB of bytecode, twice
// the largest program the kernel takes; the text may spend up to three more
// characters per digit on spaces and 0x prefixes.
const (
	maxHexDigits = 32 << 20
	maxHexText   = 4 * maxHexDigits
)

// execEngines are the engines exec runs programs on.
var execEngines = []string{"interp", "jit"}

const execUsage = `usage: dropmon exec [--engine interp|jit] [--max-insns N] [MEM_HEX] < PROGRAM_HEX

Verifies, then runs, a program given as hex bytes on stdin: the
bpf_conformance plugin protocol. R0 is printed in hex. Exit status 0: ran;
1: rejected by the verifier, or the run failed (one line on stderr); 2: bad
usage, or input that is not hex or past the limits (32 Mi hex digits).
`

// runExec is `dropmon exec [--engine interp|jit] [MEM_HEX]`: the
// bpf_conformance plugin protocol. The program comes as hex bytes on stdin
// and runs as program.Conformance: R1 points to a writable copy of the
// memory (0 without one), R2 holds its length, and helper 5 returns its
// first argument. R0 is printed in hex; a program that is rejected or fails
// exits 1, input that cannot be read exits 2, with one line on stderr.
func runExec(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	engine := fs.String("engine", "interp", "the engine that runs the program: interp or jit")
	maxInsns := fs.Uint64("max-insns", 0, fmt.Sprintf("with --engine interp: end the run with an error after `N` instructions (0: the default, %d); "+
		"the JIT does not count them (a verified program ends on its own)", userspacevm.DefaultMaxInsns))
	fs.Usage = func() {
		fmt.Fprint(stderr, execUsage)
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
	eng, err := engineByName(*engine, *maxInsns, fs.Changed("max-insns"))
	if err != nil {
		fmt.Fprintf(stderr, "dropmon exec: %v\n", err)
		return 2
	}
	code, mem, err := readExecInput(stdin, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "dropmon exec: %s\n", oneLine(err.Error()))
		return 2
	}
	r0, err := execProgram(eng, code, mem)
	if err != nil {
		fmt.Fprintf(stderr, "dropmon exec: %s\n", oneLine(err.Error()))
		return 1
	}
	fmt.Fprintf(stdout, "%x\n", r0)
	return 0
}

// readExecInput reads the program's hex from stdin, within the limits, and
// the memory's from the argument.
func readExecInput(stdin io.Reader, memHex string) (code, mem []byte, err error) {
	if len(memHex) > maxHexText {
		return nil, nil, fmt.Errorf("memory: %w", program.TooLarge(maxHexText, "hex"))
	}
	text, over, err := bounded.ReadAll(&hexLimiter{r: stdin}, maxHexText, 0)
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("program on stdin: %w", err)
	case over:
		return nil, nil, fmt.Errorf("program on stdin: %w", program.TooLarge(maxHexText, "hex"))
	}
	if code, err = parseHex(string(text)); err != nil {
		return nil, nil, fmt.Errorf("program: %w", err)
	}
	if mem, err = parseHex(memHex); err != nil {
		return nil, nil, fmt.Errorf("memory: %w", err)
	}
	return code, mem, nil
}

// hexLimiter reads hex text and fails as soon as it has passed
// maxHexDigits characters that are not spaces, so that an endless stdin
// (/dev/zero) ends the read at once; bounded.ReadAll bounds the spaces.
type hexLimiter struct {
	r      io.Reader
	digits int64
	err    error // sticky: every read after the limit fails
}

func (l *hexLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	l.digits += int64(n)
	for _, space := range []string{" ", "\t", "\n", "\v", "\f", "\r"} {
		l.digits -= int64(bytes.Count(p[:n], []byte(space)))
	}
	if l.digits > maxHexDigits {
		l.err = fmt.Errorf("larger than the %d Mi digit limit for hex input", maxHexDigits>>20)
		return n, l.err
	}
	return n, err
}

// execProgram verifies and runs code with mem as its memory.
func execProgram(engine userspacevm.Engine, code, mem []byte) (uint64, error) {
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

// engineByName is the engine --engine names. The interpreter counts the
// instructions it runs against --max-insns; the JIT's code counts nothing
// (a verified program ends on its own), so a budget given for it is
// refused rather than ignored.
func engineByName(name string, maxInsns uint64, budgetGiven bool) (userspacevm.Engine, error) {
	switch name {
	case "interp":
		return userspacevm.Interp{Options: userspacevm.InterpOptions{MaxInsns: maxInsns}}, nil
	case "jit":
		if budgetGiven {
			return nil, errors.New("--max-insns goes with --engine interp: the JIT does not count instructions")
		}
		return jit.Engine{}, nil
	}
	return nil, fmt.Errorf("--engine %s: want one of %s", name, strings.Join(execEngines, ", "))
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
