//go:build amd64 && linux

package jit_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// TestVerifiedIsWhatRuns changes the caller's program after Verify (an
// instruction, a map's size) and runs the Verified on both engines: what
// runs is what was proven, not what the caller's program now says.
func TestVerifiedIsWhatRuns(t *testing.T) {
	prog := &program.Program{Name: "seven", Type: program.Tracepoint, License: "GPL",
		Maps: []*program.MapSpec{{Name: "m", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}},
		Insns: asm.Instructions{
			asm.LoadMapPtr(asm.R1, 0).WithReference("m"),
			asm.Mov.Imm(asm.R0, 7),
			asm.Return(),
		}}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	prog.Insns[1] = asm.Mov.Imm(asm.R0, 99) // never proven
	prog.Maps[0].MaxEntries = 1 << 30
	prog.Maps = nil
	if got := v.Program().Insns[1].Constant; got != 7 {
		t.Fatalf("Verified.Program() has r0 = %d, want the proven 7", got)
	}
	runOnBoth(t, v, 7, func(t *testing.T, p *userspacevm.Prepared) {
		if n := p.Maps[0].Spec().MaxEntries; n != 1 {
			t.Errorf("the map has %d entries, want the proven 1", n)
		}
	})
	// A Verified that Verify did not make holds nothing to run.
	if _, err := userspacevm.PrepareVerified(&verifier.Verified{}, nil); !errors.Is(err, userspacevm.ErrInvalid) {
		t.Errorf("PrepareVerified of a zero Verified: %v, want ErrInvalid", err)
	}
}

// TestDataSectionContents: a single-entry array map with initial contents,
// as a C object's .rodata loads, starts with them on both engines.
func TestDataSectionContents(t *testing.T) {
	rodata := &program.MapSpec{Name: ".rodata", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1,
		Data: []byte{42, 0, 0, 0, 0, 0, 0, 0}}
	prog := &program.Program{Name: "global", Type: program.Tracepoint, License: "GPL", Maps: []*program.MapSpec{rodata},
		Insns: asm.Instructions{
			asm.Mov.Imm(asm.R1, 0),
			asm.StoreMem(asm.RFP, -4, asm.R1, asm.Word),
			asm.LoadMapPtr(asm.R1, 0).WithReference(".rodata"),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord),
			asm.Return().WithSymbol("out"),
		}}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	runOnBoth(t, v, 42, nil)
}

// runOnBoth prepares v and runs it once on the interpreter and on the JIT
// over an 8-byte context, wanting R0 = want; check, when set, looks at the
// prepared program first.
func runOnBoth(t *testing.T, v *verifier.Verified, want uint64, check func(*testing.T, *userspacevm.Prepared)) {
	t.Helper()
	for _, engine := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
		t.Run(engine.Name(), func(t *testing.T) {
			p, err := userspacevm.PrepareVerified(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if check != nil {
				check(t, p)
			}
			r, err := engine.Load(p)
			if errors.Is(err, jit.ErrNotSupported) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r0, err := r.Run(make([]byte, 8), nil); err != nil || r0 != want {
				t.Fatalf("run = %d, %v; want %d", r0, err, want)
			}
		})
	}
}
