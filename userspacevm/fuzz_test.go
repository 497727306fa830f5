package userspacevm

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
)

// FuzzInterp feeds arbitrary bytecode to the checked interpreter: whatever
// Decode and Prepare accept must run to a result or an error, never a
// panic or a stray access. The program has a hash map and an array map so
// that map loads and helpers are reachable.
func FuzzInterp(f *testing.F) {
	seeds := [][]byte{
		{0xb7, 0x00, 0, 0, 0x2a, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},                      // r0 = 42; exit
		{0x79, 0x10, 0x08, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},                      // r0 = *(u64 *)(r1 + 8)
		{0x18, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0}, // r1 = map 0
		{0xdb, 0x1a, 0xf8, 0xff, 0x01, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0},                // lock fetch add
		{0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x95, 0, 0, 0, 0, 0, 0, 0},             // call local -1
	}
	for _, s := range seeds {
		f.Add(s, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	}
	specs := []*program.MapSpec{
		{Name: "h", Type: ebpf.Hash, KeySize: 8, ValueSize: 8, MaxEntries: 8},
		{Name: "a", Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 2},
	}
	f.Fuzz(func(t *testing.T, code, mem []byte) {
		insns, err := program.FromBytes(code)
		if err != nil {
			return
		}
		for _, typ := range []program.Type{program.Conformance, program.Tracepoint, program.SocketFilter} {
			fuzzRun(t, &program.Program{Type: typ, Insns: insns, Maps: specs}, mem)
		}
	})
}

func fuzzRun(t *testing.T, prog *program.Program, mem []byte) {
	helpers := DefaultHelpers()
	helpers[asm.FnKtimeGetNs] = func(_ *Call, r1, _, _, _, _ uint64) uint64 { return r1 }
	delete(helpers, asm.FnTracePrintk)
	p, err := Prepare(prog, &LoadOptions{Helpers: helpers})
	if err != nil {
		return
	}
	defer p.Close()
	it, err := NewInterpreter(p, &InterpOptions{MaxInsns: 1 << 12, RunUnverified: true})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	ctx := append(make([]byte, 0, 16), mem...)
	rc := &RunContext{CPU: 1}
	if p.SkBuff {
		// An __sk_buff program: the fuzzer's bytes are the packet, and
		// the start of the context.
		var skb skbuff.Context
		copy(skb.Bytes(), mem)
		ctx, rc.Packet = skb.Bytes(), mem
	}
	_, _ = it.Run(ctx, nil)
	_, _ = it.Run(ctx, rc)
}
