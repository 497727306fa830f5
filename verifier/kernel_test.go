package verifier

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/kernelverdict/kvtest"
)

// TestKernelVerdicts loads every case of the table into the running kernel
// and checks that Linux gives the verdict the table says, and that its log
// holds the case's message. It needs privileges (CAP_BPF and CAP_PERFMON or
// root) and skips without them, unless DROPMON_REQUIRE_PRIVILEGED=1.
//
// Unprivileged cases are loaded by a child without CAP_BPF (which lowers
// kernel.unprivileged_bpf_disabled from 2 to 0 while the test runs), and
// withoutPerfmon cases by a child with CAP_BPF only; see package
// kernelverdict. Where that is impossible (the sysctl is 1), the cases the
// table accepts are loaded privileged (a privileged load accepts whatever
// a less privileged one does) and the rejections are skipped.
func TestKernelVerdicts(t *testing.T) {
	l, _, unavailable := kvtest.Loader(t, &kernelverdict.Options{
		// Errors and statistics only: a per-instruction log of a
		// million-instruction run would not fit.
		LogLevel: ebpf.LogLevelStats,
	})
	t.Logf("Spectre mitigations: %s", kernelverdict.Mitigations())

	counts := map[verdict]int{}
	for _, c := range slicesConcat(verifierCases, withoutPerfmonCases) {
		t.Run(c.name, func(t *testing.T) {
			want := c.kernelWant()
			mode := c.kernelMode()
			if why := unavailable[mode]; why != nil {
				if want == reject {
					t.Skipf("%v case the kernel should reject cannot be loaded %v (%v), "+
						"and a privileged load would accept it", mode, mode, why)
				}
				mode = kernelverdict.Privileged
			}
			v, log, err := l.Load(c.program(), mode)
			if err != nil {
				t.Fatal(err)
			}
			got := verdict(v)
			counts[got]++
			if got != want {
				t.Fatalf("kernel (%v): %s, table: %s (%s); log:\n%s", mode, got, want, c.msg, log)
			}
			if got == reject && log != "" && !strings.Contains(log, c.msg) {
				t.Errorf("kernel log does not contain %q:\n%s", c.msg, log)
			}
		})
	}
	t.Logf("kernel: %d accepted, %d rejected", counts[accept], counts[reject])
}

// kernelMode is the privilege the kernel loads the case with.
func (c *verifierCase) kernelMode() kernelverdict.Mode {
	switch {
	case c.unprivileged:
		return kernelverdict.Unprivileged
	case c.withoutPerfmon:
		return kernelverdict.BPFOnly
	}
	return kernelverdict.Privileged
}
