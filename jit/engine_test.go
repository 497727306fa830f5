//go:build amd64 && linux

package jit

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
)

func TestLoadRefusesUnverified(t *testing.T) {
	p, err := userspacevm.Prepare(&program.Program{Name: "raw", Type: program.Conformance, Insns: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := (Engine{}).Load(p); !errors.Is(err, userspacevm.ErrNotVerified) {
		t.Errorf("Load of an unverified program: %v, want ErrNotVerified", err)
	}
	if _, err := Compile(nil); !errors.Is(err, userspacevm.ErrInvalid) {
		t.Errorf("Compile(nil): %v, want ErrInvalid", err)
	}
}

func TestErrNotSupported(t *testing.T) {
	if !errors.Is(ErrNotSupported, userspacevm.ErrNotSupported) {
		t.Error("ErrNotSupported does not match userspacevm.ErrNotSupported")
	}
	if (Engine{}).Name() != "jit" {
		t.Errorf("Name() = %q", (Engine{}).Name())
	}
}

// TestCloseTwice closes a runner and its code twice and runs after Close.
func TestCloseTwice(t *testing.T) {
	p := prepareConformance(t, "ret", []byte{0xb7, 0, 0, 0, 3, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0}, 0, nil)
	r, err := (Engine{}).Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Run(nil, nil); got != 3 || err != nil {
		t.Errorf("Run = %d, %v", got, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(nil, nil); err == nil {
		t.Error("Run after Close succeeded")
	}
	code := r.(*Runner).Code()
	if code.Bytes() != nil {
		t.Error("Bytes after Close is not nil")
	}
	if err := code.Close(); err != nil {
		t.Error(err)
	}
}
