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
	// WithoutPerfmon verifies as a loader with CAP_BPF but without
	// CAP_PERFMON would be verified: bounded loops, the 1,000,000
	// instruction limit and every helper that needs only CAP_BPF, but the
	// pointer rules of unprivileged loaders (the kernel's allow_ptr_leaks,
	// allow_uninit_stack, bypass_spec_v1 and bypass_spec_v4 are false).
	// Unprivileged implies it.
	WithoutPerfmon bool
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
	complexityLimitInsns  = 1_000_000 // BPF_COMPLEXITY_LIMIT_INSNS
	complexityLimitJmps   = 8192      // BPF_COMPLEXITY_LIMIT_JMP_SEQ
	complexityLimitStates = 64        // BPF_COMPLEXITY_LIMIT_STATES: states per insn without CAP_BPF
	maxBPFStack           = 512       // MAX_BPF_STACK
	maxCallFrames         = 8         // MAX_CALL_FRAMES
	maxLogBytes           = 1 << 20   // the log keeps its first MiB
)

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
	// The verifier proves its own copy, which the Verified keeps: the
	// caller may change p afterwards without changing what runs.
	env := newEnv(p.Clone(), opts)
	if err := env.run(); err != nil {
		return nil, err
	}
	return env.verified(), nil
}

// run is the pipeline: each phase is a small pass that may reject.
func (env *env) run() error {
	phases := []func() error{
		env.checkProgramSize, // bpf_prog_load's E2BIG, before any verification
		env.checkJumpRanges,  // raw jumps, before the decoder's own message
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
		program:      env.prog,
		insns:        env.insns,
		processed:    env.processed,
		stackDepth:   depths,
		maxCtxOffset: env.maxCtxOffset,
		ctxWrites:    env.ctxWrites,
		ctxPointers:  env.ctxPointers,
		callMaps:     env.finalCallMaps(),
		contextSize:  env.opts.ContextSize,
		log:          env.log.String(),
	}
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }
