package vgen

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/kernelverdict/kvtest"
	"github.com/dropmon/dropmon/program"
)

// testSeed and testCount are the fixed set the tests check the mix of.
const (
	testSeed  = 1
	testCount = 1200
)

func TestDeterministic(t *testing.T) {
	a, b := Generate(7, 50), Generate(7, 50)
	for i := range a {
		if fmt.Sprint(a[i].Prog.Insns) != fmt.Sprint(b[i].Prog.Insns) || !reflect.DeepEqual(a[i].Prog.Maps, b[i].Prog.Maps) {
			t.Fatalf("program %d differs between two runs of seed 7", i)
		}
	}
	if c := At(8, 3); fmt.Sprint(c.Prog.Insns) == fmt.Sprint(a[3].Prog.Insns) {
		t.Errorf("seeds 7 and 8 give the same program 3")
	}
}

// TestWellFormed checks that every program decodes, ends in exit and
// names only its own maps.
func TestWellFormed(t *testing.T) {
	shares := map[Class]int{}
	for _, c := range Generate(testSeed, testCount) {
		shares[c.Class]++
		p := c.Prog
		if p.Type != program.SocketFilter && p.Type != program.CgroupSKB {
			t.Fatalf("%s: type %v", c.Name(), p.Type)
		}
		if _, err := program.Decode(p.Insns); err != nil && !strings.Contains(err.Error(), "frame pointer") {
			t.Fatalf("%s: %v\n%v", c.Name(), err, p.Insns)
		}
		if last := p.Insns[len(p.Insns)-1]; last.OpCode.JumpOp() != asm.Exit {
			t.Fatalf("%s ends in %v", c.Name(), last)
		}
		if _, err := p.MapRefs(); err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
	}
	for _, class := range Classes {
		if 100*shares[class] < 5*testCount {
			t.Errorf("class %v: %d of %d programs, want at least 5%%", class, shares[class], testCount)
		}
	}
}

// TestKernelMix loads the fixed set into the kernel in every mode the
// machine allows and checks that it is hard in each: the kernel accepts
// between 30 and 70% of it, and at least 5% of every class.
func TestKernelMix(t *testing.T) {
	l, modes, _ := kvtest.Loader(t, nil)
	cases := Generate(testSeed, testCount)
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) { checkMix(t, l, mode, cases) })
	}
}

func checkMix(t *testing.T, l *kernelverdict.Loader, mode kernelverdict.Mode, cases []Case) {
	var accepted, careful, carefulAccepted [numClasses]int
	total := 0
	for i := range cases {
		c := &cases[i]
		v, _, err := l.Load(c.Prog, mode)
		if err != nil {
			t.Fatalf("%s: %v", c.Name(), err)
		}
		if c.Careful {
			careful[c.Class]++
		}
		if v == kernelverdict.Accept {
			accepted[c.Class]++
			total++
			if c.Careful {
				carefulAccepted[c.Class]++
			}
		}
	}
	per := len(cases) / len(Classes)
	for _, class := range Classes {
		share := 100 * float64(accepted[class]) / float64(per)
		t.Logf("%-14v kernel accepts %5.1f%% (careful %5.1f%% of %d, others %5.1f%%)", class, share,
			pct(carefulAccepted[class], careful[class]), careful[class],
			pct(accepted[class]-carefulAccepted[class], per-careful[class]))
		if share < 5 {
			t.Errorf("%v: the kernel accepts %.1f%% of class %v, want at least 5%%", mode, share, class)
		}
	}
	share := 100 * float64(total) / float64(len(cases))
	t.Logf("all: kernel accepts %.1f%% of %d programs", share, len(cases))
	if share < 30 || share > 70 {
		t.Errorf("%v: the kernel accepts %.1f%% of the fixed set, want 30-70%%", mode, share)
	}
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

func TestShrink(t *testing.T) {
	c := At(testSeed, 2) // map access
	// Keep programs that still look a value up: the shrunk one is the
	// lookup alone plus what a label needs.
	keep := func(p *program.Program) bool {
		for _, ins := range p.Insns {
			if ins.IsBuiltinCall() && ins.Constant == int64(asm.FnMapLookupElem) {
				return true
			}
		}
		return false
	}
	small := Shrink(c.Prog, keep, 1000)
	if !keep(small) {
		t.Fatal("the shrunk program lost what keep asks for")
	}
	if len(small.Insns) > 3 || len(small.Insns) >= len(c.Prog.Insns) {
		t.Errorf("shrunk %d instructions to %d:\n%v", len(c.Prog.Insns), len(small.Insns), small.Insns)
	}
}
