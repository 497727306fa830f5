//go:build amd64 && linux

package jit

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// execMemory maps code W^X: anonymous read-write pages receive the code,
// then mprotect makes them read-execute. The pages are never writable and
// executable at once.
func execMemory(code []byte) ([]byte, error) {
	size := (len(code) + unix.Getpagesize() - 1) &^ (unix.Getpagesize() - 1)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, refused("mmap", size, err)
	}
	copy(mem, code)
	if err := unix.Mprotect(mem, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		_ = unix.Munmap(mem)
		return nil, refused("mprotect", size, err)
	}
	return mem, nil
}

// refused makes an error of a failed mapping; a policy that forbids
// executable memory (SELinux execmem, a seccomp filter, PaX MPROTECT)
// also matches ErrNotSupported, so that callers fall back to the
// interpreter.
func refused(call string, size int, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%s %d bytes of executable memory: %w (%w)", call, size, err, ErrNotSupported)
	}
	return fmt.Errorf("%s %d bytes of executable memory: %w", call, size, err)
}

// freeMemory unmaps memory from execMemory or the stack.
func freeMemory(mem []byte) error { return unix.Munmap(mem) }

// stackMemory maps a runner's eBPF stack: off the Go heap, at a fixed
// address, read-write only.
func stackMemory() ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, stackSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mmap a %d-byte stack: %w", stackSize, err)
	}
	return mem, nil
}
