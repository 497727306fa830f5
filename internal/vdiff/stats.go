package vdiff

import (
	"fmt"
	"io"
	"sync"
	"text/tabwriter"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/vgen"
)

// Counts are the results of one class in one mode.
type Counts struct {
	Programs      int
	KernelAccepts int
	FalseAccepts  int
	FalseRejects  int
	Failed        int // no kernel verdict
	InsnCompared  int // rejected by both, the kernel naming an instruction
	SameInsn      int // of those, blamed on the same instruction
}

func (c *Counts) add(o *Counts) {
	c.Programs += o.Programs
	c.KernelAccepts += o.KernelAccepts
	c.FalseAccepts += o.FalseAccepts
	c.FalseRejects += o.FalseRejects
	c.Failed += o.Failed
	c.InsnCompared += o.InsnCompared
	c.SameInsn += o.SameInsn
}

// KernelAcceptPct is the share of programs the kernel accepted.
func (c *Counts) KernelAcceptPct() float64 { return pct(c.KernelAccepts, c.Programs-c.Failed) }

// SameInsnPct is the share of common rejections blamed on the same
// instruction.
func (c *Counts) SameInsnPct() float64 { return pct(c.SameInsn, c.InsnCompared) }

// FalseRejectPct is false rejects among the programs the kernel accepted.
func (c *Counts) FalseRejectPct() float64 { return pct(c.FalseRejects, c.Programs-c.Failed) }

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// Key selects the counts of one class in one mode.
type Key struct {
	Class vgen.Class
	Mode  kernelverdict.Mode
}

// Stats gather counts by class and mode; safe for concurrent use.
type Stats struct {
	mu sync.Mutex
	by map[Key]*Counts
}

// Add counts one result.
func (s *Stats) Add(r *Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[Key]*Counts{}
	}
	c := s.by[Key{r.Class, r.Mode}]
	if c == nil {
		c = &Counts{}
		s.by[Key{r.Class, r.Mode}] = c
	}
	c.Programs++
	switch r.Kind() {
	case Failed:
		c.Failed++
		return
	case FalseAccept:
		c.FalseAccepts++
	case FalseReject:
		c.FalseRejects++
	}
	if r.Kernel == kernelverdict.Accept {
		c.KernelAccepts++
	}
	if same, ok := r.SameInsn(); ok {
		c.InsnCompared++
		if same {
			c.SameInsn++
		}
	}
}

// Get returns the counts of one class in one mode.
func (s *Stats) Get(k Key) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.by[k]; c != nil {
		return *c
	}
	return Counts{}
}

// Mode sums the counts of every class in mode.
func (s *Stats) Mode(mode kernelverdict.Mode) Counts {
	var sum Counts
	for _, class := range vgen.Classes {
		c := s.Get(Key{class, mode})
		sum.add(&c)
	}
	return sum
}

// Format writes a table of the counts, one row per mode and class, with a
// total row per mode.
func (s *Stats) Format(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tclass\tprograms\tkernel accept\tfalse accepts\tfalse rejects\tfailed\tsame insn\t")
	for _, mode := range kernelverdict.Modes {
		rows := 0
		for _, class := range vgen.Classes {
			c := s.Get(Key{class, mode})
			if c.Programs == 0 {
				continue
			}
			rows++
			row(tw, mode.String(), class.String(), &c)
		}
		if rows > 0 {
			c := s.Mode(mode)
			row(tw, mode.String(), "all", &c)
		}
	}
	tw.Flush()
}

func row(w io.Writer, mode, class string, c *Counts) {
	fmt.Fprintf(w, "%s\t%s\t%d\t%.1f%%\t%d\t%d\t%d\t%.1f%% of %d\t\n", mode, class, c.Programs,
		c.KernelAcceptPct(), c.FalseAccepts, c.FalseRejects, c.Failed, c.SameInsnPct(), c.InsnCompared)
}
