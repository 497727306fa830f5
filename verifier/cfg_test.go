package verifier

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

// callChain is main calling f1 calling ... f(depth-1), each using 16
// bytes of stack.
func callChain(depth int) asm.Instructions {
	var out asm.Instructions
	for i := 0; i < depth; i++ {
		first := stDW(asm.RFP, -16)
		if i > 0 {
			first = first.WithSymbol(fmt.Sprintf("f%d", i))
		}
		out = append(out, first)
		if i+1 < depth {
			out = append(out, asm.Call.Label(fmt.Sprintf("f%d", i+1)))
		}
		out = append(out, asm.Mov.Imm(asm.R0, 0), asm.Return())
	}
	return out
}

func TestCFG(t *testing.T) {
	ja := func(off int16) asm.Instruction {
		return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja), Offset: off}
	}
	tests := []struct {
		name    string
		prog    asm.Instructions
		unpriv  bool
		wantErr string
	}{
		{"jump out of range", cat(asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R1, 0), asm.Mov.Imm(asm.R2, 0), ja(36), asm.Return()),
			false, "jump out of range from insn 3 to 40"},
		{"jump backwards out of range", cat(ja(-5), exit0), false, "jump out of range from insn 0 to -4"},
		{"jump into lddw", cat(ja(1), asm.LoadImm(asm.R0, 1, asm.DWord), asm.Return()), false, "jump into the middle of ldimm64 insn 1"},
		{"unreachable after exit", cat(exit0, exit0), false, "unreachable insn 2"},
		{"unreachable function", cat(exit0, asm.Mov.Imm(asm.R0, 1).WithSymbol("f"), asm.Return()), false, "unreachable insn 2"},
		{"falls off the end", cat(asm.Mov.Imm(asm.R0, 0)), false, "last insn is not an exit or jmp"},
		{"loop allowed privileged", boundedLoop(10).Insns, false, ""},
		{"loop refused unprivileged", boundedLoop(10).Insns, true, "back-edge from insn 6 to 1"},
		{"jump out of a function", cat(asm.Call.Label("f"), asm.Ja.Label("g"), asm.Return(),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("f"), asm.Mov.Imm(asm.R0, 0).WithSymbol("g"), asm.Return()), false, "jump out of range from insn 1 to 4"},
		{"call chain of 8 frames", callChain(8), false, ""},
		{"call chain of 9 frames", callChain(9), false, "the call stack of 9 frames is too deep"},
		{"combined stack too large", cat(stDW(asm.RFP, -512), asm.Call.Label("f"), asm.Return(),
			stDW(asm.RFP, -8).WithSymbol("f"), exit0), false, "combined stack size of 2 calls is 528. Too large"},
		{"bpf-to-bpf call unprivileged", callChain(2), true,
			"loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN"},
		{"recursion", cat(asm.Call.Label("f"), asm.Return(), asm.Call.Label("f").WithSymbol("f"), asm.Return()), false,
			"the call stack of 9 frames is too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &program.Program{Type: program.SocketFilter, Insns: tt.prog}
			_, err := Verify(p, &Options{Unprivileged: tt.unpriv})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("rejected: %+v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("accepted, want %q", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("got %q, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestCallChainStack: 7 frames of 16 bytes fit, the stack counts along
// the chain.
func TestCallChainStack(t *testing.T) {
	v, err := Verify(&program.Program{Type: program.SocketFilter, Insns: callChain(7)}, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if len(v.StackDepth()) != 7 || v.StackDepth()[6] != 16 {
		t.Errorf("StackDepth = %v", v.StackDepth())
	}
}

func TestStackPointerToCaller(t *testing.T) {
	p := &program.Program{Type: program.SocketFilter, Insns: cat(
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8), asm.Call.Label("f"),
		asm.LoadMem(asm.R2, asm.RFP, -8, asm.DWord), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return(),
		asm.Mov.Reg(asm.R2, asm.RFP).WithSymbol("f"), asm.Add.Imm(asm.R2, -16), asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord), exit0)}
	_, err := Verify(p, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot spill pointers to stack into stack frame of the caller") {
		t.Fatalf("got %v", err)
	}
}

// TestHelperProtosUsable checks that every prototype is one the verifier
// can apply: a map value return needs a map argument, memory arguments a
// size after them.
func TestHelperProtosUsable(t *testing.T) {
	for id := asm.BuiltinFunc(1); id < 512; id++ {
		p, ok := program.Helper(id)
		if !ok {
			continue
		}
		hasMap := false
		for i, a := range p.Args {
			switch a.Base() {
			case program.ArgConstMapPtr:
				hasMap = true
			case program.ArgPtrToMapKey, program.ArgPtrToMapValue:
				if !hasMap {
					t.Errorf("%s: %v before the map", p.Name(), a)
				}
			case program.ArgPtrToMem, program.ArgPtrToUninitMem:
				if i+1 >= len(p.Args) || !isSizeArg(p.Args[i+1]) {
					t.Errorf("%s: %v without a size after it", p.Name(), a)
				}
			}
		}
		if (p.Ret == program.RetPtrToMapValue || p.Ret == program.RetPtrToMapValueOrNull) && !hasMap {
			t.Errorf("%s returns a map value but takes no map", p.Name())
		}
	}
}
