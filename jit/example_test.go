//go:build amd64 && linux

package jit_test

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// A program is verified, prepared and loaded into a JIT runner like into
// the interpreter; it then runs once per record.
func Example() {
	prog := &program.Program{Name: "sum", Type: program.Conformance, Insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word),
		asm.Add.Reg(asm.R0, asm.R3),
		asm.Return(),
	}}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := userspacevm.PrepareVerified(v, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	r, err := jit.Engine{}.Load(p)
	if err != nil {
		fmt.Println(err) // errors.Is(err, jit.ErrNotSupported): use userspacevm.Interp
		return
	}
	defer r.Close()
	r0, err := r.Run([]byte{1, 0, 0, 0, 2, 0, 0, 0}, nil)
	fmt.Println(r0, err)
	// Output: 3 <nil>
}
