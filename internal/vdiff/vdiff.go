package vdiff

import (
	"errors"
	"regexp"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/vgen"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/verifier"
)

// OptionsFor is the verifier.Options matching a kernel mode.
func OptionsFor(mode kernelverdict.Mode) *verifier.Options {
	switch mode {
	case kernelverdict.BPFOnly:
		return &verifier.Options{WithoutPerfmon: true}
	case kernelverdict.Unprivileged:
		return &verifier.Options{Unprivileged: true}
	}
	return &verifier.Options{}
}

// Kind sorts a comparison.
type Kind int

const (
	Agree       Kind = iota
	FalseAccept      // dropmon accepts what the kernel rejects
	FalseReject      // dropmon rejects what the kernel accepts
	Failed           // no kernel verdict: Result.Err says why
)

func (k Kind) String() string {
	return [...]string{"agree", "false accept", "false reject", "failed"}[k]
}

// Result is one program compared in one mode.
type Result struct {
	Class vgen.Class
	Name  string
	Mode  kernelverdict.Mode
	Prog  *program.Program

	Kernel    kernelverdict.Verdict
	KernelLog string
	Ours      kernelverdict.Verdict
	OurErr    *verifier.Error // dropmon's rejection
	Err       error           // the kernel gave no verdict
}

// MaxProcessed bounds the instructions dropmon's verifier simulates for a
// comparison, instead of the kernel's 1,000,000: vgen's programs need at
// most a few thousand in the kernel, and a verifier that loops to a
// million (a pruning bug) would take a minute per program under the race
// detector. Such a program shows as a false reject "BPF program is too
// large".
const MaxProcessed = 25_000

// Compare verifies p with both verifiers in mode.
func Compare(l *kernelverdict.Loader, p *program.Program, mode kernelverdict.Mode) Result {
	r := Result{Mode: mode, Prog: p}
	r.Kernel, r.KernelLog, r.Err = l.Load(p, mode)
	if r.Err != nil {
		return r
	}
	opts := OptionsFor(mode)
	opts.MaxProcessed = MaxProcessed
	_, err := verifier.Verify(p, opts)
	r.Ours = err == nil
	if err != nil && !errors.As(err, &r.OurErr) {
		r.OurErr = &verifier.Error{Insn: -1, Msg: err.Error(), Internal: true}
	}
	return r
}

// CompareCase is Compare for a generated case.
func CompareCase(l *kernelverdict.Loader, c *vgen.Case, mode kernelverdict.Mode) Result {
	r := Compare(l, c.Prog, mode)
	r.Class, r.Name = c.Class, c.Name()
	return r
}

// Kind says whether the verdicts agree.
func (r *Result) Kind() Kind {
	switch {
	case r.Err != nil:
		return Failed
	case r.Kernel == r.Ours:
		return Agree
	case r.Ours == kernelverdict.Accept:
		return FalseAccept
	}
	return FalseReject
}

// KernelInsn is the instruction the kernel's log blames, or -1.
func (r *Result) KernelInsn() int {
	if r.Kernel == kernelverdict.Accept {
		return -1
	}
	n, ok := kernelverdict.FailedInsn(r.KernelLog)
	if !ok {
		return -1
	}
	return n
}

// SameInsn reports, for a program both reject, whether both blame the
// same instruction; ok is false when the comparison does not apply.
func (r *Result) SameInsn() (same, ok bool) {
	if r.Kind() != Agree || r.Kernel == kernelverdict.Accept || r.OurErr == nil {
		return false, false
	}
	k := r.KernelInsn()
	if k < 0 {
		return false, false
	}
	return k == r.OurErr.Insn, true
}

// KernelMessage is the kernel's error line with numbers replaced by N, for
// grouping.
func (r *Result) KernelMessage() string {
	if r.Kernel == kernelverdict.Accept {
		return ""
	}
	return Normalize(kernelverdict.ErrorLine(r.KernelLog))
}

// OurMessage is dropmon's error with numbers replaced by N.
func (r *Result) OurMessage() string {
	if r.OurErr == nil {
		return ""
	}
	return Normalize(r.OurErr.Msg)
}

var numbers = regexp.MustCompile(`-?(0x[0-9a-fA-F]+|\d+)`)

// Normalize replaces the numbers of a message by N.
func Normalize(msg string) string { return numbers.ReplaceAllString(msg, "N") }

// Shrink cuts a disagreeing result's program down to the fewest
// instructions that still disagree the same way (same kind, same
// normalised message from the side that rejects), loading at most budget
// candidates.
func Shrink(l *kernelverdict.Loader, r *Result, budget int) Result {
	kind, kmsg, omsg := r.Kind(), r.KernelMessage(), r.OurMessage()
	if kind != FalseAccept && kind != FalseReject {
		return *r
	}
	keep := func(p *program.Program) bool {
		c := Compare(l, p, r.Mode)
		return c.Kind() == kind && c.KernelMessage() == kmsg && c.OurMessage() == omsg
	}
	small := vgen.Shrink(r.Prog, keep, budget)
	out := Compare(l, small, r.Mode)
	out.Class, out.Name = r.Class, r.Name
	return out
}
