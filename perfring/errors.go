package perfring

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

var (
	// ErrClosed is returned by a Reader's reads after Close.
	ErrClosed = errors.New("perfring: reader closed")
	// ErrCorrupt matches every *CorruptError.
	ErrCorrupt = errors.New("perfring: corrupt ring")
	// ErrNotSupported is returned for sample type bits this package cannot decode.
	ErrNotSupported = errors.New("perfring: not supported")

	errNilRing = errors.New("perfring: nil ring")
)

// CorruptError reports a record that breaks the ring's framing or a sample
// whose declared sizes run past its record. The reader has already skipped
// the bad bytes when it returns this error, so the next read goes on with the
// records that follow; the error is reported once.
type CorruptError struct {
	CPU     int    // the ring's CPU
	Offset  uint64 // offset of the bad record in the ring's data area
	Reason  string // what was wrong, in the kernel's vocabulary
	Skipped uint64 // bytes skipped to get past it
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("perfring: cpu %d: corrupt record at offset %#x: %s (skipped %d bytes)",
		e.CPU, e.Offset, e.Reason, e.Skipped)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// mmapError wraps a failed mmap of a ring. EPERM from mmap on a perf fd means
// the pages would exceed the locked memory the kernel grants (perf_mmap in
// kernel/events/core.c: kernel.perf_event_mlock_kb per online CPU, then
// RLIMIT_MEMLOCK, unless CAP_IPC_LOCK), so the error says which knobs to turn.
func mmapError(cpu, pages, pageSize int, err error) error {
	kib := pages * pageSize / 1024
	if !errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("perfring: cpu %d: mmap ring of %d pages (%d KiB): %w", cpu, pages, kib, err)
	}
	return fmt.Errorf("perfring: cpu %d: mmap ring of %d pages (%d KiB): %w "+
		"(locked memory limit: kernel.perf_event_mlock_kb is %s per CPU, RLIMIT_MEMLOCK is %s; "+
		"raise either, use fewer data pages, or run with CAP_IPC_LOCK)",
		cpu, pages, kib, err, mlockKB(), memlockLimit())
}

func mlockKB() string {
	b, err := os.ReadFile("/proc/sys/kernel/perf_event_mlock_kb")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b)) + " KiB"
}

func memlockLimit() string {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return "unknown"
	}
	if lim.Cur == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return strconv.FormatUint(lim.Cur/1024, 10) + " KiB"
}
