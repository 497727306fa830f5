package perfdata

import (
	"errors"
	"fmt"
)

var (
	// ErrFormat marks input that is not a well-formed perf.data file
	// (truncated, corrupt, sizes pointing outside the file).
	ErrFormat = errors.New("malformed perf.data")
	// ErrNotSupported marks valid perf.data variants this package does not
	// read: pipe mode, big-endian, compressed records.
	ErrNotSupported = errors.New("perf.data variant not supported")
	// ErrNoKallsyms is returned by FindKallsyms when no source of kernel
	// symbols matches the capture.
	ErrNoKallsyms = errors.New("no kallsyms for this capture")
)

// FormatError locates a problem in a perf.data file: the byte offset and
// what is wrong there. It matches ErrFormat, or ErrNotSupported when the
// file is valid but of a variant this package cannot read.
type FormatError struct {
	Offset      int64
	What        string
	Advice      string // what to do; may be empty
	unsupported bool
}

func (e *FormatError) Error() string {
	msg := fmt.Sprintf("perf.data at offset %d (%#x): %s", e.Offset, e.Offset, e.What)
	if e.Advice != "" {
		msg += " (" + e.Advice + ")"
	}
	return msg
}

// Is matches ErrFormat, or ErrNotSupported for unsupported variants.
func (e *FormatError) Is(target error) bool {
	if e.unsupported {
		return target == ErrNotSupported
	}
	return target == ErrFormat
}

// corrupt reports malformed input at off.
func corrupt(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, What: fmt.Sprintf(format, args...),
		Advice: "the file is truncated or corrupt; record it again"}
}

// unsupported reports a valid variant the reader does not handle.
func unsupported(off int64, what, advice string) error {
	return &FormatError{Offset: off, What: what, Advice: advice, unsupported: true}
}
