package userspacevm

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
)

// runInsns prepares insns as a program of type typ and runs them once over
// ctx.
func runInsns(t *testing.T, typ program.Type, insns asm.Instructions, ctx []byte, opts *InterpOptions) (uint64, error) {
	t.Helper()
	return runInsnsRC(t, typ, insns, ctx, nil, opts)
}

// runInsnsRC is runInsns with a run context.
func runInsnsRC(t *testing.T, typ program.Type, insns asm.Instructions, ctx []byte, rc *RunContext, opts *InterpOptions) (uint64, error) {
	t.Helper()
	p, err := Prepare(&program.Program{Name: t.Name(), Type: typ, Insns: insns}, nil)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	if opts == nil {
		opts = &InterpOptions{}
	}
	opts.RunUnverified = true // these tests exercise checked mode itself
	it, err := NewInterpreter(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { it.Close() })
	return it.Run(ctx, rc)
}

// stdw stores a 64-bit immediate, which asm.StoreImm refuses to build.
func stdw(dst asm.Register, off int16, v int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: int64(v)}
}

// lddw loads a 64-bit constant.
func lddw(dst asm.Register, v uint64) asm.Instruction {
	return asm.LoadImm(dst, int64(v), asm.DWord)
}

func TestInterpALU(t *testing.T) {
	const intMin64 = uint64(1) << 63
	tests := []struct {
		name  string
		insns asm.Instructions
		want  uint64
	}{
		{"div64 by zero", asm.Instructions{asm.Mov.Imm(asm.R0, 7), asm.Mov.Imm(asm.R1, 0), asm.Div.Reg(asm.R0, asm.R1)}, 0},
		{"mod64 by zero keeps dst", asm.Instructions{lddw(asm.R0, 0x1_0000_0005), asm.Mov.Imm(asm.R1, 0), asm.Mod.Reg(asm.R0, asm.R1)}, 0x1_0000_0005},
		{"mod32 by zero zero-extends", asm.Instructions{lddw(asm.R0, 0xffff_ffff_0000_0005), asm.Mov.Imm(asm.R1, 0), asm.Mod.Reg32(asm.R0, asm.R1)}, 5},
		{"div32 uses low halves", asm.Instructions{lddw(asm.R0, 0x5_0000_0009), lddw(asm.R1, 0x1_0000_0003), asm.Div.Reg32(asm.R0, asm.R1)}, 3},
		{"sdiv64 INT_MIN by -1", asm.Instructions{lddw(asm.R0, intMin64), asm.SDiv.Imm(asm.R0, -1)}, intMin64},
		{"smod64 INT_MIN by -1", asm.Instructions{lddw(asm.R0, intMin64), asm.SMod.Imm(asm.R0, -1)}, 0},
		{"sdiv32 INT_MIN by -1", asm.Instructions{asm.Mov.Imm32(asm.R0, math.MinInt32), asm.SDiv.Imm32(asm.R0, -1)}, 0x8000_0000},
		{"smod32 INT_MIN by -1", asm.Instructions{asm.Mov.Imm32(asm.R0, math.MinInt32), asm.SMod.Imm32(asm.R0, -1)}, 0},
		{"sdiv64 by zero", asm.Instructions{asm.Mov.Imm(asm.R0, -7), asm.SDiv.Imm(asm.R0, 0)}, 0},
		{"smod64 negative dividend", asm.Instructions{asm.Mov.Imm(asm.R0, -7), asm.SMod.Imm(asm.R0, 3)}, math.MaxUint64}, // -1
		{"lsh64 masks the amount", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.LSh.Imm(asm.R0, 65)}, 2},
		{"rsh32 masks the amount", asm.Instructions{asm.Mov.Imm32(asm.R0, 8), asm.RSh.Imm32(asm.R0, 33)}, 4},
		{"arsh32 zero-extends", asm.Instructions{asm.Mov.Imm32(asm.R0, -8), asm.ArSh.Imm32(asm.R0, 1)}, 0xffff_fffc},
		{"arsh64", asm.Instructions{asm.Mov.Imm(asm.R0, -8), asm.ArSh.Imm(asm.R0, 1)}, 0xffff_ffff_ffff_fffc},
		{"add32 wraps and zero-extends", asm.Instructions{lddw(asm.R0, 0xffff_ffff_ffff_ffff), asm.Add.Imm32(asm.R0, 2)}, 1},
		{"mov32 imm zero-extends", asm.Instructions{asm.Mov.Imm32(asm.R0, -1)}, 0xffff_ffff},
		{"mov64 imm sign-extends", asm.Instructions{asm.Mov.Imm(asm.R0, -1)}, math.MaxUint64},
		{"neg32", asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Neg.Imm32(asm.R0, 0)}, 0xffff_ffff},
		{"movsx8 to 64", asm.Instructions{asm.Mov.Imm(asm.R1, 0x80), asm.MovSX8.Reg(asm.R0, asm.R1)}, 0xffff_ffff_ffff_ff80},
		{"movsx16 to 32", asm.Instructions{asm.Mov.Imm(asm.R1, 0x8000), asm.MovSX16.Reg32(asm.R0, asm.R1)}, 0xffff_8000},
		{"movsx32 to 64", asm.Instructions{asm.Mov.Imm32(asm.R1, -2), asm.MovSX32.Reg(asm.R0, asm.R1)}, math.MaxUint64 - 1},
		{"be16 zero-extends", asm.Instructions{lddw(asm.R0, 0x1122_3344_5566_7788), asm.HostTo(asm.BE, asm.R0, asm.Half)}, 0x8877},
		{"le32 truncates", asm.Instructions{lddw(asm.R0, 0x1122_3344_5566_7788), asm.HostTo(asm.LE, asm.R0, asm.Word)}, 0x5566_7788},
		{"bswap64", asm.Instructions{lddw(asm.R0, 0x1122_3344_5566_7788), asm.BSwap(asm.R0, asm.DWord)}, 0x8877_6655_4433_2211},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runInsns(t, program.Conformance, append(tt.insns, asm.Return()), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("r0 = %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestInterpJumps(t *testing.T) {
	jump := func(j asm.Instruction) asm.Instructions {
		return asm.Instructions{j, asm.Mov.Imm(asm.R0, 0), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("t"), asm.Return()}
	}
	tests := []struct {
		name  string
		setup asm.Instructions
		jump  asm.Instruction
		want  uint64
	}{
		{"jsgt imm negative", asm.Instructions{asm.Mov.Imm(asm.R1, -1)}, asm.JSGT.Imm(asm.R1, -2, "t"), 1},
		{"jgt imm is unsigned", asm.Instructions{asm.Mov.Imm(asm.R1, -1)}, asm.JGT.Imm(asm.R1, 5, "t"), 1},
		{"jgt32 uses low half", asm.Instructions{lddw(asm.R1, 0x1_0000_0001)}, asm.JGT.Imm32(asm.R1, 1, "t"), 0},
		{"jslt32 signed", asm.Instructions{asm.Mov.Imm32(asm.R1, -5)}, asm.JSLT.Imm32(asm.R1, 0, "t"), 1},
		{"jset32 low half only", asm.Instructions{lddw(asm.R1, 0x1_0000_0000)}, asm.JSet.Imm32(asm.R1, -1, "t"), 0},
		{"jset reg", asm.Instructions{asm.Mov.Imm(asm.R1, 6), asm.Mov.Imm(asm.R2, 2)}, asm.JSet.Reg(asm.R1, asm.R2, "t"), 1},
		{"jsle reg", asm.Instructions{asm.Mov.Imm(asm.R1, -3), asm.Mov.Imm(asm.R2, -3)}, asm.JSLE.Reg(asm.R1, asm.R2, "t"), 1},
		{"ja32", nil, asm.LongJump("t"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runInsns(t, program.Conformance, append(tt.setup, jump(tt.jump)...), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("r0 = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestInterpLocalCalls(t *testing.T) {
	// The callee writes its own frame and clobbers R6; the caller's frame
	// and R6 survive.
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R6, 6),
		stdw(asm.RFP, -8, 42),
		asm.Call.Label("callee"),
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R6),
		asm.Return(),
		stdw(asm.RFP, -8, 1).WithSymbol("callee"),
		asm.Mov.Imm(asm.R6, 0),
		asm.Return(),
	}
	got, err := runInsns(t, program.Conformance, insns, nil, nil)
	if err != nil || got != 48 {
		t.Fatalf("got %d, %v; want 48", got, err)
	}

	recurse := asm.Instructions{
		asm.Call.Label("f"),
		asm.Return(),
		asm.Call.Label("f").WithSymbol("f"),
		asm.Return(),
	}
	_, err = runInsns(t, program.Conformance, recurse, nil, nil)
	var re *RunError
	if !errors.Is(err, ErrCallDepth) || !errors.As(err, &re) || re.PC != 2 {
		t.Errorf("recursion: %v, want ErrCallDepth at insn 2", err)
	}
}

func TestInterpFaults(t *testing.T) {
	tests := []struct {
		name    string
		typ     program.Type
		insns   asm.Instructions
		ctx     []byte
		wantErr string
		wantIs  error
	}{
		{name: "write tracepoint ctx", typ: program.Tracepoint, ctx: make([]byte, 16),
			insns:   asm.Instructions{asm.StoreImm(asm.R1, 0, 1, asm.Word), asm.Return()},
			wantErr: "insn 0: invalid write of 4 bytes at"},
		{name: "read past ctx", typ: program.Tracepoint, ctx: make([]byte, 16),
			insns:   asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 12, asm.DWord), asm.Return()},
			wantErr: "invalid read of 8 bytes"},
		{name: "read through null", typ: program.Tracepoint,
			insns:   asm.Instructions{asm.Mov.Imm(asm.R1, 0), asm.LoadMem(asm.R0, asm.R1, 0, asm.Byte), asm.Return()},
			wantErr: "insn 1: invalid read of 1 bytes at 0x0"},
		{name: "below the stack", typ: program.Tracepoint,
			insns:   asm.Instructions{stdw(asm.RFP, -StackSize-8, 1), asm.Return()},
			wantErr: "invalid write of 8 bytes"},
		{name: "above the stack", typ: program.Tracepoint,
			insns:   asm.Instructions{asm.LoadMem(asm.R0, asm.RFP, 0, asm.Byte), asm.Return()},
			wantErr: "invalid read of 1 bytes"},
		{name: "atomic on ro ctx", typ: program.Tracepoint, ctx: make([]byte, 16),
			insns:   asm.Instructions{asm.Mov.Imm(asm.R2, 1), asm.StoreXAdd(asm.R1, asm.R2, asm.DWord), asm.Return()},
			wantErr: "insn 1: invalid write of 8 bytes"},
		{name: "misaligned atomic", typ: program.Tracepoint,
			insns:   asm.Instructions{asm.Mov.Imm(asm.R2, 1), asm.AddAtomic.Mem(asm.RFP, asm.R2, asm.Word, -6), asm.Return()},
			wantErr: "insn 1: lock_add32 at 0x", wantIs: ErrMisaligned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runInsns(t, tt.typ, tt.insns, tt.ctx, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not match %v", err, tt.wantIs)
			}
			var ae *AccessError
			if tt.wantIs == nil && (!errors.As(err, &ae) || !strings.Contains(err.Error(), "stack")) {
				t.Errorf("error %v is not an *AccessError listing the stack", err)
			}
		})
	}
}

func TestInterpBudget(t *testing.T) {
	loop := asm.Instructions{asm.Ja.Label("l").WithSymbol("l"), asm.Return()}
	_, err := runInsns(t, program.Conformance, loop, nil, &InterpOptions{MaxInsns: 1000})
	if !errors.Is(err, ErrInsnLimit) || !strings.Contains(err.Error(), "insn 0: instruction budget exhausted") {
		t.Errorf("endless loop: %v", err)
	}
}

func TestInterpPacketLoads(t *testing.T) {
	pkt := []byte{0x45, 0x00, 0x00, 0x54, 0xde, 0xad, 0xbe, 0xef}
	tests := []struct {
		name  string
		insns asm.Instructions
		want  uint64
	}{
		{"ldabs h", asm.Instructions{asm.LoadAbs(2, asm.Half)}, 0x54},
		{"ldabs w", asm.Instructions{asm.LoadAbs(4, asm.Word)}, 0xdeadbeef},
		{"ldind b", asm.Instructions{asm.Mov.Imm(asm.R2, 3), asm.LoadInd(asm.R0, asm.R2, 2, asm.Byte)}, 0xad},
		{"ldind negative sum", asm.Instructions{asm.Mov.Imm(asm.R2, -1), asm.LoadInd(asm.R0, asm.R2, 2, asm.Byte)}, 0x00},
		{"past the end ends with 0", asm.Instructions{asm.LoadAbs(6, asm.Word), asm.Mov.Imm(asm.R0, 9)}, 0},
		{"negative ends with 0", asm.Instructions{asm.Mov.Imm(asm.R2, -8), asm.LoadInd(asm.R0, asm.R2, 0, asm.Byte), asm.Mov.Imm(asm.R0, 9)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var skb skbuff.Context
			got, err := runInsnsRC(t, program.SocketFilter, append(tt.insns, asm.Return()), skb.Bytes(), &RunContext{Packet: pkt}, nil)
			if err != nil || got != tt.want {
				t.Errorf("got %#x, %v; want %#x", got, err, tt.want)
			}
		})
	}
	_, err := Prepare(&program.Program{Type: program.Tracepoint, Insns: asm.Instructions{asm.LoadAbs(0, asm.Byte), asm.Return()}}, nil)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "insn 0: ldabsb (BPF_LD_ABS/BPF_LD_IND) is not allowed in tracepoint programs") {
		t.Errorf("ld_abs in a tracepoint program: %v", err)
	}
}

func TestInterpClosed(t *testing.T) {
	p, err := Prepare(&program.Program{Type: program.Conformance, Insns: asm.Instructions{asm.Return()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var e Engine = Interp{Options: InterpOptions{RunUnverified: true}}
	r, err := e.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Run(nil, nil); err == nil {
		t.Error("Run after Close succeeded")
	}
}

func TestNewInterpreterNeedsVerified(t *testing.T) {
	p, err := Prepare(&program.Program{Type: program.Conformance, Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := NewInterpreter(p, nil); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("unverified program: %v, want ErrNotVerified", err)
	}
}

func TestNewInterpreterNeedsPrepare(t *testing.T) {
	for name, p := range map[string]*Prepared{
		"nil":   nil,
		"empty": {},
		"unbound helper": {Program: &program.Program{}, Insns: []program.Insn{
			{Op: program.CallHelper, Imm: 1}, {Op: program.Exit}}},
		"unresolved map load": {Program: &program.Program{}, Insns: []program.Insn{
			{Op: program.LdMapFD}, {Op: program.LdDWHi}, {Op: program.Exit}}},
	} {
		if _, err := NewInterpreter(p, &InterpOptions{RunUnverified: true}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}
