package verifier

import (
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// TestCallMaps checks Verified.CallMaps: the map a helper call takes on
// every path, by index, and -1 where paths bring different maps, where
// the map is an inner map, and at every slot that is not such a call.
func TestCallMaps(t *testing.T) {
	hash := mapOf(ebpf.Hash, 8, 8, 4)
	outer := &program.MapSpec{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2, InnerMap: mapOf(ebpf.Array, 4, 8, 1)}
	// pick loads map a into R1, or map b when R6 (a random number) is 0.
	pick := func(a, b int) asm.Instructions {
		return cat(random, stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
			asm.LoadMapPtr(asm.R1, a), asm.JNE.Imm(asm.R6, 0, "call"), asm.LoadMapPtr(asm.R1, b),
			asm.FnMapLookupElem.Call().WithSymbol("call"), ret0)
	}
	tests := []struct {
		name  string
		maps  []*program.MapSpec
		insns asm.Instructions
		want  map[int]int // slot of a call: its map; every other slot -1
	}{
		{"one map", []*program.MapSpec{hash}, cat(lookup(0), ret0), map[int]int{5: 0}},
		{"second of two maps", []*program.MapSpec{hash, mapOf(ebpf.Array, 4, 8, 1)}, cat(lookup(1), ret0), map[int]int{5: 1}},
		{"one map on both paths", []*program.MapSpec{hash, mapOf(ebpf.Hash, 8, 8, 4)}, pick(1, 1), map[int]int{10: 1}},
		{"two maps", []*program.MapSpec{hash, mapOf(ebpf.Hash, 8, 8, 4)}, pick(0, 1), map[int]int{10: -1}},
		{"one spec in two entries", []*program.MapSpec{hash, hash}, cat(lookup(1), ret0), map[int]int{5: -1}},
		{"inner map", []*program.MapSpec{outer}, cat(lookupChecked(0), asm.Mov.Reg(asm.R1, asm.R0),
			asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.FnMapLookupElem.Call(), ret0, out),
			map[int]int{5: 0, 10: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := &program.Program{Name: "callmaps", Type: program.Tracepoint, License: "GPL", Maps: tt.maps, Insns: tt.insns}
			v, err := Verify(prog, &Options{ContextSize: 64})
			if err != nil {
				t.Fatalf("%+v", err)
			}
			if len(v.CallMaps()) != len(v.Insns()) {
				t.Fatalf("%d CallMaps for %d slots", len(v.CallMaps()), len(v.Insns()))
			}
			for pc, got := range v.CallMaps() {
				want, ok := tt.want[pc]
				if !ok {
					want = -1
				}
				if got != want {
					t.Errorf("CallMaps[%d] = %d, want %d (%v)", pc, got, want, v.Insns()[pc].Op)
				}
			}
		})
	}
}
