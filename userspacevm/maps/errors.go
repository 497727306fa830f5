package maps

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

var (
	// ErrNotSupported: a map type, or an operation on a map type, that the
	// user-space engines do not implement.
	ErrNotSupported = errors.New("not supported")
	// ErrInvalidSpec: a map spec the kernel would refuse too.
	ErrInvalidSpec = errors.New("invalid map spec")
	// ErrClosed: the map was closed.
	ErrClosed = errors.New("map is closed")

	// ErrKeyNotExist: no entry for the key. It matches unix.ENOENT.
	ErrKeyNotExist error = &errnoError{"key does not exist", unix.ENOENT}
	// ErrKeyExist: an entry exists and the update said BPF_NOEXIST. It
	// matches unix.EEXIST.
	ErrKeyExist error = &errnoError{"key already exists", unix.EEXIST}
	// ErrFull: a hash map already holds max_entries entries. It matches
	// unix.E2BIG.
	ErrFull error = &errnoError{"map is full", unix.E2BIG}
)

// errnoError is a sentinel that also matches the errno the kernel returns
// for the same condition, so callers may test for either.
type errnoError struct {
	msg   string
	errno unix.Errno
}

func (e *errnoError) Error() string { return e.msg }

func (e *errnoError) Is(target error) bool {
	errno, ok := target.(unix.Errno)
	return ok && errno == e.errno
}

// Negative errno values, as program-side operations return them.
const (
	codeENOENT     = -int64(unix.ENOENT)
	codeEEXIST     = -int64(unix.EEXIST)
	codeE2BIG      = -int64(unix.E2BIG)
	codeEINVAL     = -int64(unix.EINVAL)
	codeENOMEM     = -int64(unix.ENOMEM)
	codeEFAULT     = -int64(unix.EFAULT)
	codeENOSPC     = -int64(unix.ENOSPC)
	codeEOPNOTSUPP = -int64(unix.EOPNOTSUPP)
	codeEPERM      = -int64(unix.EPERM)
)

// codeErr turns a negative errno from a program-side operation into the
// error the Go API returns.
func (m *Map) codeErr(op string, code int64) error {
	if code == 0 {
		return nil
	}
	var err error
	switch code {
	case codeENOENT:
		err = ErrKeyNotExist
	case codeEEXIST:
		err = ErrKeyExist
	case codeE2BIG:
		if m.ops.kind == KindArray {
			err = fmt.Errorf("index out of range (max_entries %d): %w", m.maxEntries, unix.E2BIG)
		} else {
			err = ErrFull
		}
	case codeEOPNOTSUPP:
		err = fmt.Errorf("%w for %v maps", ErrNotSupported, m.spec.Type)
	default:
		err = unix.Errno(-code)
	}
	return m.opErr(op, err)
}

// opErr adds the context "op map NAME".
func (m *Map) opErr(op string, err error) error {
	return fmt.Errorf("%s map %q: %w", op, m.spec.Name, err)
}
