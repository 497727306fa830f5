package jit_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/benchprog"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// compileVerified verifies prog as a tracepoint and compiles it; it skips
// where the JIT does not run.
func compileVerified(t *testing.T, prog *program.Program) *jit.Code {
	t.Helper()
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: benchprog.CtxSize})
	if err != nil {
		t.Fatalf("verify: %+v", err)
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	code, err := jit.Compile(p)
	if errors.Is(err, jit.ErrNotSupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { code.Close() })
	return code
}

func TestDisassemble(t *testing.T) {
	for _, c := range benchprog.Cases {
		t.Run(c.Name, func(t *testing.T) {
			prog := c.Prog()
			code := compileVerified(t, prog)
			for _, syntax := range []jit.Syntax{jit.GNU, jit.Intel} {
				var sb strings.Builder
				if err := jit.Disassemble(&sb, code, prog.Insns, syntax); err != nil {
					t.Fatal(err)
				}
				checkListing(t, sb.String(), code, prog.Insns, syntax)
			}
		})
	}
}

// checkListing checks that a listing names every eBPF instruction in
// order, lists every byte of the code once, and decoded all of it.
func checkListing(t *testing.T, listing string, code *jit.Code, insns asm.Instructions, syntax jit.Syntax) {
	t.Helper()
	if strings.Contains(listing, "(bad)") {
		t.Errorf("listing has undecodable bytes:\n%s", listing)
	}
	rest := listing
	iter := insns.Iterate()
	for iter.Next() {
		head := fmt.Sprintf("%4d: %v", iter.Offset, iter.Ins)
		i := strings.Index(rest, head)
		if i < 0 {
			t.Fatalf("listing lacks %q after the instructions before it:\n%s", head, listing)
		}
		rest = rest[i+len(head):]
	}
	var n int
	for _, line := range strings.Split(listing, "\n") {
		// Machine code lines: "\toffset:\tbytes\ttext".
		if !strings.HasPrefix(line, "\t") {
			continue
		}
		fields := strings.Split(line[1:], "\t")
		if len(fields) != 3 {
			t.Fatalf("line %q is not offset, bytes, text", line)
		}
		if got := fmt.Sprintf("%x:", n); strings.TrimSpace(fields[0]) != got {
			t.Fatalf("line %q: want offset %s (the bytes so far)", line, got)
		}
		n += len(strings.Fields(fields[1]))
	}
	if gnu := strings.Contains(listing, "%"); gnu != (syntax == jit.GNU) {
		t.Errorf("listing is not in the syntax asked for (%d):\n%s", syntax, listing)
	}
	if n != len(code.Bytes()) {
		t.Errorf("listing shows %d bytes of %d", n, len(code.Bytes()))
	}
	if strings.HasPrefix(listing, "prologue\n") != (code.Addrs()[0] > 0) {
		t.Errorf("prologue listed wrongly; code starts at %d:\n%s", code.Addrs()[0], listing)
	}
}

func TestDisassembleJumpTargets(t *testing.T) {
	prog := benchprog.Cases[1].Prog()
	code := compileVerified(t, prog)
	var sb strings.Builder
	if err := jit.Disassemble(&sb, code, prog.Insns, jit.GNU); err != nil {
		t.Fatal(err)
	}
	// The program refers to its label, so the offset in the text is
	// cilium's unresolved -1; the target comes from the label.
	if !strings.Contains(sb.String(), "JLTImm dst: r2 off: -1 imm: 1000 <loop> -> 3\n") {
		t.Errorf("the loop's jump does not name its target slot 3:\n%s", sb.String())
	}
}

func TestDisassembleMismatch(t *testing.T) {
	code := compileVerified(t, benchprog.Cases[0].Prog())
	// A longer program than the code was compiled from.
	err := jit.Disassemble(&strings.Builder{}, code, benchprog.Cases[1].Prog().Insns, jit.GNU)
	if err == nil || !strings.Contains(err.Error(), "offsets for 3 slots") {
		t.Errorf("err %v, want it to say the code has offsets for fewer slots", err)
	}
}
