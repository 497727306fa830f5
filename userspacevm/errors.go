package userspacevm

import (
	"errors"
	"fmt"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

var (
	// ErrNotSupported is matched by errors for programs that use what the
	// user-space engines do not implement: a helper missing from the
	// table, a map type, a kfunc call. It is program.ErrNotSupported, and
	// errors from maps.New that match maps.ErrNotSupported match it too.
	ErrNotSupported = program.ErrNotSupported
	// ErrInvalid is matched by errors for programs no engine may run. It
	// is program.ErrInvalid.
	ErrInvalid = program.ErrInvalid

	// ErrNotVerified refuses a program that no verifier accepted: engines
	// run what verifier.Verify returned, through PrepareVerified.
	ErrNotVerified = errors.New("program not verified (verify it with verifier.Verify and load it with PrepareVerified)")

	// ErrShortContext refuses a run over a context shorter than what the
	// program was verified to read.
	ErrShortContext = errors.New("context shorter than verified")

	// ErrInsnLimit ends a run that executed more instructions than its
	// budget (InterpOptions.MaxInsns): an unverified program's endless
	// loop, say.
	ErrInsnLimit = errors.New("instruction budget exhausted")
	// ErrCallDepth ends a run whose bpf-to-bpf calls nest deeper than
	// MaxFrames frames.
	ErrCallDepth = errors.New("call stack too deep")
	// ErrShortPacket refuses a flow dissector run over a packet shorter
	// than an Ethernet header, which BPF_PROG_TEST_RUN refuses too
	// (EINVAL): the engines take n_proto from it.
	ErrShortPacket = errors.New("packet shorter than an Ethernet header (14 bytes)")
	// ErrMisaligned ends a run at an atomic operation on an address not
	// aligned to its size.
	ErrMisaligned = errors.New("misaligned atomic access")
)

// RunError is a run that an engine stopped at an instruction for a reason
// other than a memory access (those are *AccessError): the budget, the
// call depth, a misaligned atomic, a helper's failure.
type RunError struct {
	PC  int // instruction slot
	Err error
}

func (e *RunError) Error() string { return fmt.Sprintf("insn %d: %v", e.PC, e.Err) }

func (e *RunError) Unwrap() error { return e.Err }

// kindError gives an error a second sentinel to match without changing
// its message: maps.ErrNotSupported errors also match ErrNotSupported.
type kindError struct {
	err  error
	kind error
}

func (e *kindError) Error() string { return e.err.Error() }

func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// notSupportedf is an error that matches ErrNotSupported without saying
// "not supported" twice.
func notSupportedf(format string, args ...any) error {
	return &kindError{err: fmt.Errorf(format, args...), kind: ErrNotSupported}
}

// withMapKinds makes an error from the maps package match this package's
// sentinels too.
func withMapKinds(err error) error {
	if errors.Is(err, maps.ErrNotSupported) && !errors.Is(err, ErrNotSupported) {
		return &kindError{err: err, kind: ErrNotSupported}
	}
	return err
}
