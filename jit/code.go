//go:build amd64 && linux

package jit

import (
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
	"github.com/dropmon/dropmon/verifier"
)

// Code is a program compiled to x86-64 machine code in executable memory.
// Any number of runners may share it; close it after them.
type Code struct {
	mem      []byte // the executable mapping; nil after Close
	size     int    // bytes of code in mem
	addrs    []int
	resume   int  // offset of the resume stub, where Go re-enters after a helper (a new run enters at 0)
	batch    int  // offset of the batch entry (RunBatch)
	readsCPU bool // the code reads the run's CPU from the context
	cleanup  runtime.Cleanup
}

// Compile compiles a verified program. Errors match ErrNotSupported when
// the process may not map executable memory, and
// userspacevm.ErrNotVerified for a program the verifier did not accept.
func Compile(p *userspacevm.Prepared) (*Code, error) { return compileCode(p, false) }

func compileCode(p *userspacevm.Prepared, exclusive bool) (*Code, error) {
	if p == nil || p.Program == nil || len(p.Insns) == 0 {
		return nil, fmt.Errorf("jit: %w: not a prepared program", userspacevm.ErrInvalid)
	}
	if p.Verified() == nil {
		return nil, fmt.Errorf("jit: program %s: %w", p.Program.Name, userspacevm.ErrNotVerified)
	}
	opts := compileOptions(p)
	opts.exclusive = exclusive
	out, err := compile(p.Insns, opts)
	if err != nil {
		return nil, fmt.Errorf("jit: program %s: %w", p.Program.Name, err)
	}
	mem, err := execMemory(out.code)
	if err != nil {
		return nil, fmt.Errorf("jit: program %s: %w", p.Program.Name, err)
	}
	c := &Code{mem: mem, size: len(out.code), addrs: out.addrs, resume: out.resume, batch: out.batch, readsCPU: out.readsCPU}
	// A net under Close: code dropped without Close still unmaps.
	c.cleanup = runtime.AddCleanup(c, func(m []byte) { _ = freeMemory(m) }, mem)
	return c, nil
}

// compileOptions are what the code for p depends on besides its
// instructions.
func compileOptions(p *userspacevm.Prepared) options {
	var ctxPointers []verifier.RegType
	if p.SkBuff {
		ctxPointers = make([]verifier.RegType, len(p.Insns))
		for pc := range p.Insns {
			ctxPointers[pc], _ = p.Verified().CtxPointer(pc)
		}
	}
	return options{
		ctxPointers:   ctxPointers,
		inlineLookup:  defaultLookup(p),
		maps:          p.Maps,
		callMaps:      p.Verified().CallMaps(),
		conformance:   p.Program.Type == program.Conformance,
		skb:           p.SkBuff,
		flowDissector: p.Program.Type == program.FlowDissector,
		guard:         p.HasHashMaps,
		lockFreeGuard: p.HasHashMaps && maps.AsymmetricFences(),
	}
}

// defaultLookup reports whether p binds map_lookup_elem to the default
// implementation, whose semantics the inline array lookup reproduces; a
// table that replaces it keeps every lookup an exit.
func defaultLookup(p *userspacevm.Prepared) bool {
	fn := p.HelperFunc(asm.FnMapLookupElem)
	def := userspacevm.DefaultHelpers()[asm.FnMapLookupElem]
	return fn != nil && def != nil && reflect.ValueOf(fn).Pointer() == reflect.ValueOf(def).Pointer()
}

// Bytes returns the machine code (a view of the executable mapping; do
// not keep it past Close), nil after Close.
func (c *Code) Bytes() []byte {
	if c.mem == nil {
		return nil
	}
	return c.mem[:c.size:c.size]
}

// Addrs returns the code offset of each eBPF slot, and one more: the end
// of the body. The second slot of an LDDW has the offset of what follows.
func (c *Code) Addrs() []int { return c.addrs }

// Close unmaps the code. Runners using it must be closed first.
func (c *Code) Close() error {
	if c.mem == nil {
		return nil
	}
	c.cleanup.Stop()
	err := freeMemory(c.mem)
	c.mem = nil
	return err
}

// addr returns the absolute address of a code offset.
func (c *Code) addr(off int) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(c.mem)))) + uint64(off)
}
