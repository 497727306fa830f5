package verifier_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/kernelverdict/kvtest"
	"github.com/dropmon/dropmon/internal/vdiff"
	"github.com/dropmon/dropmon/internal/vgen"
)

// The fixed set of TestDifferential: programs [0, differentialCount) of
// differentialSeed, each in every mode the machine allows.
// scripts/verifier-diff runs the same comparison at scale.
const (
	differentialSeed  = 1
	differentialCount = 1200
)

// TestDifferential compares dropmon's verdicts with the running kernel's
// on generated programs, privileged, with CAP_BPF but not CAP_PERFMON, and
// unprivileged. Any false accept fails, and false rejects above 1% of a
// mode's programs, and so does a set that is not hard in some mode (see
// checkMix). Rejections both verifiers agree on should blame the same
// instruction; the share that does is logged.
func TestDifferential(t *testing.T) {
	l, modes, _ := kvtest.Loader(t, nil)
	t.Logf("Spectre mitigations: %s", kernelverdict.Mitigations())
	start := time.Now()
	var (
		stats vdiff.Stats
		mu    sync.Mutex
		dis   []vdiff.Result
	)
	vdiff.Run(l, differentialSeed, 0, differentialCount, modes, 0, &stats, func(r *vdiff.Result) {
		if k := r.Kind(); k != vdiff.Agree {
			mu.Lock()
			dis = append(dis, *r)
			mu.Unlock()
		}
	})
	var table strings.Builder
	stats.Format(&table)
	t.Logf("%d programs in %d modes in %v:\n%s", differentialCount, len(modes), time.Since(start).Round(time.Millisecond), &table)

	groups := vdiff.GroupResults(dis)
	for _, g := range groups {
		r := &g.Results[0]
		if g.Kind == vdiff.Failed {
			t.Errorf("%s (%v): no kernel verdict: %v", r.Name, r.Mode, r.Err)
			continue
		}
		t.Logf("%v / %v / %s: %d, e.g. %s (%v)", g.Kind, g.Class, g.Message, g.Count(), r.Name, r.Mode)
	}
	for _, mode := range modes {
		c := stats.Mode(mode)
		if c.FalseAccepts > 0 {
			t.Errorf("%v: %d false accepts (dropmon accepts what the kernel rejects)", mode, c.FalseAccepts)
		}
		if c.FalseRejectPct() > 1 {
			t.Errorf("%v: %d false rejects, %.1f%% of %d programs (at most 1%%)", mode, c.FalseRejects,
				c.FalseRejectPct(), c.Programs)
		}
		checkMix(t, &stats, mode)
	}
	if t.Failed() {
		t.Logf("go run ./scripts/verifier-diff -n %d -seed %d -o report.txt shrinks and lists every disagreement",
			differentialCount, differentialSeed)
	}
}

// checkMix fails unless the fixed set is hard in mode: the kernel accepts
// between 30 and 70% of it, and at least 5% of every class. A set the
// kernel mostly rejects (or accepts) says little about where the
// verifiers draw the line.
func checkMix(t *testing.T, stats *vdiff.Stats, mode kernelverdict.Mode) {
	t.Helper()
	if c := stats.Mode(mode); c.KernelAcceptPct() < 30 || c.KernelAcceptPct() > 70 {
		t.Errorf("%v: the kernel accepts %.1f%% of the fixed set, want 30-70%%", mode, c.KernelAcceptPct())
	}
	for _, class := range vgen.Classes {
		if c := stats.Get(vdiff.Key{Class: class, Mode: mode}); c.KernelAcceptPct() < 5 {
			t.Errorf("%v: the kernel accepts %.1f%% of class %v, want at least 5%%", mode, c.KernelAcceptPct(), class)
		}
	}
}
