package vdiff

import (
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/vgen"
	"github.com/dropmon/dropmon/verifier"
)

func TestNormalize(t *testing.T) {
	got := Normalize("invalid access to map value, value_size=48 off=-8 size=0x8 R3")
	if want := "invalid access to map value, value_size=N off=N size=N RN"; got != want {
		t.Errorf("Normalize = %q, want %q", got, want)
	}
}

func TestKindsAndGroups(t *testing.T) {
	leak := "0: (bf) r0 = r1\n1: (95) exit\nR0 leaks addr as return value\nprocessed 2 insns\n"
	rs := []Result{
		{Class: vgen.PointerArith, Mode: kernelverdict.Unprivileged, Kernel: kernelverdict.Reject, KernelLog: leak, Ours: kernelverdict.Accept},
		{Class: vgen.PointerArith, Mode: kernelverdict.BPFOnly, Kernel: kernelverdict.Reject, KernelLog: leak, Ours: kernelverdict.Accept},
		{Class: vgen.Loop, Mode: kernelverdict.Privileged, Kernel: kernelverdict.Accept,
			OurErr: &verifier.Error{Insn: 3, Msg: "back-edge from insn 3 to 1"}},
		{Class: vgen.Loop, Mode: kernelverdict.Privileged, Kernel: kernelverdict.Reject, KernelLog: leak,
			OurErr: &verifier.Error{Insn: 1, Msg: "R0 leaks addr as return value"}},
	}
	wantKinds := []Kind{FalseAccept, FalseAccept, FalseReject, Agree}
	var stats Stats
	for i := range rs {
		if k := rs[i].Kind(); k != wantKinds[i] {
			t.Errorf("result %d: %v, want %v", i, k, wantKinds[i])
		}
		stats.Add(&rs[i])
	}
	if same, ok := rs[3].SameInsn(); !ok || !same {
		t.Errorf("SameInsn = %v, %v; want true, true", same, ok)
	}
	groups := GroupResults(rs[:3])
	if len(groups) != 2 || groups[0].Count() != 2 || groups[0].Message != "kernel: RN leaks addr as return value" {
		t.Fatalf("groups: %+v", groups)
	}
	if c := stats.Mode(kernelverdict.Privileged); c.Programs != 2 || c.FalseRejects != 1 || c.InsnCompared != 1 {
		t.Errorf("privileged counts %+v", c)
	}
	var b strings.Builder
	stats.Format(&b)
	if !strings.Contains(b.String(), "unprivileged") {
		t.Errorf("table lacks a mode:\n%s", &b)
	}
}
