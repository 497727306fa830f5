package program

import "fmt"

// InsnError is a problem with one instruction, located by its raw offset
// (the slot number that jumps count in, and that kernel and uBPF messages
// use). Its Error() is one line: "insn 3: unknown opcode 0x8d".
type InsnError struct {
	Insn int
	Err  error // matches ErrInvalid or ErrNotSupported
}

func (e *InsnError) Error() string { return fmt.Sprintf("insn %d: %v", e.Insn, e.Err) }

func (e *InsnError) Unwrap() error { return e.Err }

// reason is a message that matches a sentinel without printing it.
type reason struct {
	msg  string
	kind error
}

func (r *reason) Error() string { return r.msg }

func (r *reason) Unwrap() error { return r.kind }

func invalidf(format string, args ...any) error {
	return &reason{msg: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

func unsupportedf(format string, args ...any) error {
	return &reason{msg: fmt.Sprintf(format, args...), kind: ErrNotSupported}
}

// insnErr locates err at slot pc.
func insnErr(pc int, err error) error {
	if err == nil {
		return nil
	}
	return &InsnError{Insn: pc, Err: err}
}
