package verifier

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/dropmon/dropmon/program"
)

var (
	hashMap   = &program.MapSpec{Name: "hash", Type: 1, KeySize: 4, ValueSize: 8, MaxEntries: 16}
	arrayMap  = &program.MapSpec{Name: "array", Type: 2, KeySize: 4, ValueSize: 8, MaxEntries: 16}
	stackDW   = func(off int16) asm.Instruction { return stDW(asm.RFP, off) }
	exit0     = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	keyOnFP   = asm.Instructions{stackDW(-8), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8)}
	lookupMap = append(append(asm.Instructions{}, keyOnFP...), asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call())
)

// stDW stores the 64-bit immediate 0 (cilium/ebpf's StoreImm builds no
// DWord form).
func stDW(dst asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.StClass).SetMode(asm.MemMode).SetSize(asm.DWord), Dst: dst, Offset: off}
}

// TestVerify checks the phases on small programs, rejections by a
// substring of the kernel's message.
func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		typ     program.Type
		maps    []*program.MapSpec
		prog    asm.Instructions
		unpriv  bool
		wantErr string // "" to accept
	}{
		{name: "return 0", prog: exit0},
		{name: "R0 not written", prog: cat(asm.Return()), wantErr: "insn 0: R0 !read_ok"},
		{name: "R2 not written", prog: cat(asm.Mov.Reg(asm.R0, asm.R2), asm.Return()), wantErr: "R2 !read_ok"},
		{name: "deref of a scalar", prog: cat(asm.Mov.Imm(asm.R1, 0), asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord), asm.Return()),
			wantErr: "R1 invalid mem access 'scalar'"},
		{name: "uninitialised stack, unprivileged", unpriv: true, prog: cat(asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()),
			wantErr: "invalid read from stack R10 off=-8 size=8"},
		{name: "stack spill and fill keeps the pointer", prog: cat(asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
			asm.LoadMem(asm.R2, asm.RFP, -8, asm.DWord), asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return())},
		{name: "narrow spill keeps bounds", maps: []*program.MapSpec{arrayMap}, prog: cat(asm.FnGetPrandomU32.Call(),
			asm.And.Imm32(asm.R0, 7), asm.StoreMem(asm.RFP, -16, asm.R0, asm.Word), lookupMap, asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R2, asm.RFP, -16, asm.Word), asm.Add.Reg(asm.R0, asm.R2), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())},
		{name: "narrow spill, wide value", maps: []*program.MapSpec{arrayMap}, prog: cat(asm.FnGetPrandomU32.Call(),
			asm.And.Imm(asm.R0, 0x1ff), asm.StoreMem(asm.RFP, -16, asm.R0, asm.Byte), lookupMap, asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R2, asm.RFP, -16, asm.Byte), asm.Add.Reg(asm.R0, asm.R2), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return()), wantErr: "invalid access to map value, value_size=8 off=255 size=1"},
		{name: "JMP32 bounds the low half", maps: []*program.MapSpec{arrayMap}, prog: cat(lookupMap,
			asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), asm.JGT.Imm32(asm.R1, 7, "out"),
			asm.Mov.Reg32(asm.R2, asm.R1), asm.Add.Reg(asm.R0, asm.R2), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())},
		{name: "write to R10", prog: cat(asm.Mov.Imm(asm.R10, 0), exit0), wantErr: "frame pointer is read only"},
		{name: "div by zero", prog: cat(asm.Mov.Imm(asm.R0, 1), asm.Div.Imm(asm.R0, 0), asm.Return()), wantErr: "div by zero"},
		{name: "unreachable", prog: cat(exit0, asm.Mov.Imm(asm.R0, 1), asm.Return()), wantErr: "unreachable insn 2"},
		{name: "back-edge unprivileged", unpriv: true, prog: cat(asm.Mov.Imm(asm.R0, 0),
			asm.Add.Imm(asm.R0, 1).WithSymbol("l"), asm.JLT.Imm(asm.R0, 4, "l"), asm.Return()), wantErr: "back-edge from insn 2 to 1"},
		{name: "bounded loop privileged", prog: cat(asm.Mov.Imm(asm.R0, 0),
			asm.Add.Imm(asm.R0, 1).WithSymbol("l"), asm.JLT.Imm(asm.R0, 4, "l"), asm.Return())},
		{name: "infinite loop", prog: cat(asm.Mov.Imm(asm.R0, 0), asm.Ja.Label("l"),
			asm.Mov.Imm(asm.R1, 1).WithSymbol("l"), asm.Ja.Label("l")), wantErr: "infinite loop detected at insn"},
		{name: "map value in bounds", maps: []*program.MapSpec{hashMap}, prog: cat(lookupMap,
			asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R1, asm.R0, 4, asm.Word), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())},
		{name: "map value out of bounds", maps: []*program.MapSpec{hashMap}, prog: cat(lookupMap,
			asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R1, asm.R0, 8, asm.Word), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return()),
			wantErr: "invalid access to map value, value_size=8 off=8 size=4"},
		{name: "map value without null check", maps: []*program.MapSpec{hashMap}, prog: cat(lookupMap,
			asm.LoadMem(asm.R1, asm.R0, 0, asm.Word), exit0), wantErr: "R0 invalid mem access 'map_value_or_null'"},
		{name: "null check through a copy", maps: []*program.MapSpec{hashMap}, prog: cat(lookupMap, asm.Mov.Reg(asm.R6, asm.R0),
			asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R1, asm.R6, 0, asm.Word), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())},
		{name: "map pointer arithmetic", maps: []*program.MapSpec{hashMap}, prog: cat(asm.LoadMapPtr(asm.R3, 0), asm.Add.Imm(asm.R3, 8), exit0),
			wantErr: "R3 pointer arithmetic on map_ptr prohibited"},
		{name: "key not a pointer", maps: []*program.MapSpec{hashMap}, prog: cat(asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 0),
			asm.FnMapLookupElem.Call(), exit0), wantErr: "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value"},
		{name: "tail call through a hash", maps: []*program.MapSpec{hashMap}, prog: cat(asm.LoadMapPtr(asm.R2, 0), asm.Mov.Imm(asm.R3, 0),
			asm.FnTailCall.Call(), exit0), wantErr: "expected prog array map for tail call"},
		{name: "packet without bounds check", typ: program.XDP, prog: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.LoadMem(asm.R0, asm.R2, 12, asm.Half), exit0), wantErr: "invalid access to packet, off=12 size=2, R2(id=0,off=12,r=0)"},
		{name: "packet with bounds check", typ: program.XDP, prog: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 14),
			asm.JGT.Reg(asm.R4, asm.R3, "out"), asm.LoadMem(asm.R0, asm.R2, 12, asm.Half),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())},
		{name: "pkt_end arithmetic", typ: program.XDP, prog: cat(asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Add.Imm(asm.R3, 1), exit0),
			wantErr: "R3 pointer arithmetic on pkt_end prohibited"},
		{name: "unknown helper", prog: cat(asm.BuiltinFunc(1000).Call(), exit0), wantErr: "invalid func unknown#1000"},
		{name: "helper for another type", typ: program.XDP, prog: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8),
			asm.Mov.Imm(asm.R2, 8), asm.Mov.Imm(asm.R3, 0), asm.FnProbeRead.Call(), exit0),
			wantErr: "program of this type cannot use helper bpf_probe_read#4"},
		{name: "pointer leaked as return value", unpriv: true, prog: cat(asm.Mov.Reg(asm.R0, asm.R1), asm.Return()),
			wantErr: "R0 leaks addr as return value"},
		{name: "context read", typ: program.Kprobe, prog: cat(asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord), asm.Return())},
		{name: "LD_ABS in a socket filter", prog: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(12, asm.Half), asm.Return())},
		{name: "LD_ABS in XDP", typ: program.XDP, prog: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(12, asm.Half), asm.Return()),
			wantErr: "BPF_LD_[ABS|IND] instructions not allowed for this program type"},
		{name: "bpf-to-bpf call", prog: cat(asm.Mov.Imm(asm.R1, 3), asm.Call.Label("f"), asm.Return(),
			asm.Mov.Reg(asm.R0, asm.R1).WithSymbol("f"), asm.Return())},
		{name: "combined stack too large", prog: cat(stDW(asm.RFP, -512), asm.Call.Label("f"), asm.Return(),
			stDW(asm.RFP, -16).WithSymbol("f"), exit0), wantErr: "combined stack size of 2 calls is 528. Too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := tt.typ
			if typ == 0 {
				typ = program.SocketFilter
			}
			p := &program.Program{Name: "t", Type: typ, Insns: tt.prog, Maps: tt.maps, License: "GPL"}
			v, err := Verify(p, &Options{Unprivileged: tt.unpriv, LogLevel: 2})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %+v", err)
				}
				if v.Processed() == 0 || !strings.Contains(v.Log(), "processed") {
					t.Errorf("no statistics: %+v", v)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q; log:\n%s", tt.wantErr, v.Log())
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %q, want %q; log:\n%+v", err, tt.wantErr, err)
			}
			if !errors.Is(err, ErrRejected) {
				t.Errorf("%v does not match ErrRejected", err)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Insn: 7, Msg: "R1 invalid mem access 'scalar'", Log: "0: (b7) r1 = 0\nR1 invalid mem access 'scalar'\n"}
	if got := e.Error(); got != "insn 7: R1 invalid mem access 'scalar'" {
		t.Errorf("Error() = %q", got)
	}
	if got := fmt.Sprintf("%+v", e); !strings.Contains(got, "0: (b7) r1 = 0") {
		t.Errorf("%%+v = %q", got)
	}
	if !errors.Is(e, ErrRejected) || errors.Is(&Error{Internal: true}, ErrRejected) {
		t.Error("ErrRejected matching is wrong")
	}
	_, err := Verify(&program.Program{Type: program.SocketFilter, Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0)}}, nil)
	if !errors.Is(err, program.ErrInvalid) || !errors.Is(err, ErrRejected) {
		t.Errorf("decoder rejection %v should match program.ErrInvalid and ErrRejected", err)
	}
}

func TestVerified(t *testing.T) {
	p := &program.Program{Type: program.Tracepoint, Insns: cat(asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord),
		asm.StoreImm(asm.RFP, -12, 0, asm.Word), asm.Call.Label("f"), asm.Return(),
		stDW(asm.RFP, -24).WithSymbol("f"), exit0)}
	v, err := Verify(p, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if v.MaxCtxOffset() != 24 {
		t.Errorf("MaxCtxOffset = %d, want 24", v.MaxCtxOffset())
	}
	if len(v.StackDepth()) != 2 || v.StackDepth()[0] != 16 || v.StackDepth()[1] != 24 {
		t.Errorf("StackDepth = %v, want [16 24]", v.StackDepth())
	}
	if len(v.Insns()) != len(p.Insns) {
		t.Errorf("Insns has %d slots, want %d", len(v.Insns()), len(p.Insns))
	}
}

func TestLogLevels(t *testing.T) {
	p := &program.Program{Type: program.XDP, Maps: []*program.MapSpec{hashMap}, Insns: cat(lookupMap,
		asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R1, asm.R0, 8, asm.Word), asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())}
	for level, want := range []string{"invalid access to map value", "5: call bpf_map_lookup_elem#1", "R0=map_value_or_null(id=1,off=0,vs=8)"} {
		_, err := Verify(p, &Options{LogLevel: level})
		var verr *Error
		if !errors.As(err, &verr) {
			t.Fatalf("level %d: %v", level, err)
		}
		if !strings.Contains(verr.Log, want) || !strings.Contains(verr.Log, "processed ") {
			t.Errorf("level %d: log lacks %q:\n%s", level, want, verr.Log)
		}
	}
}
