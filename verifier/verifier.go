package verifier

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/dropmon/dropmon/program"
)

// Options tune a verification.
type Options struct {
	// Unprivileged verifies as an unprivileged loader would be verified
	// (JSON privileged:false, --unprivileged): no loops, no pointer
	// comparisons other than null and packet checks, no pointer leaks.
	Unprivileged bool
	// ContextSize is, for tracepoint programs, the record size from the
	// event's format; 0 means the kernel's limit, 8192.
	ContextSize int
	// LogLevel 0 logs only the error; 1 also every instruction simulated
	// (the path to the error); 2 adds the register state at each.
	LogLevel int
	// MaxProcessed bounds the instructions simulated; 0 means the
	// kernel's 1,000,000 (BPF_COMPLEXITY_LIMIT_INSNS).
	MaxProcessed int
}

// Limits, with the kernel's names.
const (
	complexityLimitInsns = 1_000_000 // BPF_COMPLEXITY_LIMIT_INSNS
	complexityLimitJmps  = 8192      // BPF_COMPLEXITY_LIMIT_JMP_SEQ
	maxBPFStack          = 512       // MAX_BPF_STACK
	maxCallFrames        = 8         // MAX_CALL_FRAMES
	maxLogBytes          = 1 << 20   // the log keeps its first MiB
)

// Verified is a program the verifier proved safe: what engines load.
type Verified struct {
	Program *program.Program
	// Insns is the decoded program, indexed by raw slot. The verifier
	// rewrites nothing: engines run exactly what was proven.
	Insns []program.Insn
	// Processed counts simulated instructions, as the kernel's
	// "processed N insns" does.
	Processed int
	// StackDepth is, per subprogram in order of their first instruction,
	// the deepest stack byte used, rounded up to 8. The combined check
	// along call chains rounds each frame up to 16, as the kernel does
	// for JIT-compiled programs.
	StackDepth []int
	// MaxCtxOffset is the largest off+size of a context read, so that the
	// attach code can check it against the record; 0 if none.
	MaxCtxOffset int
	// CtxWrites says the program writes its context (__sk_buff cb[],
	// mark, ...), which only some program types may.
	CtxWrites bool
	// CallMaps gives, per slot, the map a helper call takes in R1 on
	// every path that reaches it, as an index into Program.Maps; -1 for
	// other slots, for helpers without a map argument, and for calls that
	// see different maps (or an inner map of a map-in-map) on different
	// paths. Engines use it to specialise map helpers for one map, as
	// the kernel's JIT inlines lookups of a map known at the call site.
	CallMaps []int
	// ContextSize is Options.ContextSize: for the conformance type, the
	// length of the memory R1 points to, which every run must provide.
	ContextSize int
	// Log is the verifier log (the statistics line at level 0).
	Log string
}

// ErrRejected is matched by every *Error that rejects a program (all but
// the Internal ones).
var ErrRejected = errors.New("program rejected by the verifier")

// Error is a rejection (or, with Internal, a verifier bug) located at an
// instruction. Error() is one line; %+v prints the whole log.
type Error struct {
	Insn     int
	Msg      string
	Log      string
	Internal bool
	cause    error // the decoder's *program.InsnError, when it rejected
}

func (e *Error) Error() string {
	if e.Insn < 0 {
		return e.Msg
	}
	return fmt.Sprintf("insn %d: %s", e.Insn, e.Msg)
}

// Is makes errors.Is(err, ErrRejected) hold for rejections.
func (e *Error) Is(target error) bool { return target == ErrRejected && !e.Internal }

// Unwrap returns the decoder's error when the decoder rejected the
// program, so errors.Is(err, program.ErrInvalid) works too.
func (e *Error) Unwrap() error { return e.cause }

// Format implements fmt.Formatter: %+v prints the message and the log.
func (e *Error) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('+'):
		io.WriteString(f, e.Error())
		if e.Log != "" {
			io.WriteString(f, "\n")
			io.WriteString(f, strings.TrimRight(e.Log, "\n"))
		}
	case verb == 'q':
		fmt.Fprintf(f, "%q", e.Error())
	default:
		io.WriteString(f, e.Error())
	}
}

// Verify proves p safe or says why it cannot. It never panics: a bug of
// its own comes back as an *Error with Internal set.
func Verify(p *program.Program, opts *Options) (v *Verified, err error) {
	if opts == nil {
		opts = &Options{}
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, &Error{Insn: -1, Internal: true,
				Msg: fmt.Sprintf("BUG: verifier panic: %v", r), Log: string(debug.Stack())}
		}
	}()
	if p == nil {
		return nil, &Error{Insn: -1, Msg: "no program"}
	}
	env := newEnv(p, opts)
	if err := env.run(); err != nil {
		return nil, err
	}
	return env.verified(), nil
}

// run is the pipeline: each phase is a small pass that may reject.
func (env *env) run() error {
	phases := []func() error{
		env.checkJumpRanges, // raw jumps, before the decoder's own message
		env.decode,
		env.resolveMaps,
		env.findSubprogs,
		env.checkCFG,
		env.computeLiveness,
		env.doCheck,
		env.checkStackDepth,
	}
	for _, phase := range phases {
		if err := phase(); err != nil {
			return err
		}
	}
	return nil
}

func (env *env) verified() *Verified {
	depths := make([]int, len(env.subprogs))
	for i, sp := range env.subprogs {
		depths[i] = roundUp(sp.stackDepth, 8)
	}
	env.logStats()
	return &Verified{
		Program:      env.prog,
		Insns:        env.insns,
		Processed:    env.processed,
		StackDepth:   depths,
		MaxCtxOffset: env.maxCtxOffset,
		CtxWrites:    env.ctxWrites,
		CallMaps:     env.finalCallMaps(),
		ContextSize:  env.opts.ContextSize,
		Log:          env.log.String(),
	}
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }
