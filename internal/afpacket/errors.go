package afpacket

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

var (
	// ErrNoInterface is matched by Open's error when the interface does
	// not exist (in the calling thread's network namespace).
	ErrNoInterface = errors.New("no such interface")
	// ErrClosed is returned by Read after Close.
	ErrClosed = errors.New("reader closed")
	// ErrCorrupt is matched by Read's error when a block's headers point
	// outside the block: a kernel this package does not understand.
	ErrCorrupt = errors.New("corrupt ring block")
)

// openError wraps err from step of opening a socket on ifname, with advice
// where the error is the caller's privileges.
func openError(ifname, step string, err error) error {
	switch {
	case errors.Is(err, unix.ENODEV):
		return fmt.Errorf("afpacket: open on %s: %w", ifname, ErrNoInterface)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("afpacket: open on %s: %s: %w (run as root, or grant CAP_NET_RAW)", ifname, step, err)
	}
	return fmt.Errorf("afpacket: open on %s: %s: %w", ifname, step, err)
}
