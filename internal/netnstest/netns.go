package netnstest

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// threadNetNS is the calling thread's network namespace. The thread's, not
// the process's (/proc/self): setns and unshare change one thread only.
const threadNetNS = "/proc/thread-self/ns/net"

// Namespace is a network namespace held open by a file descriptor.
type Namespace struct {
	fd int
}

// NewNamespace creates a network namespace without entering it: the
// calling goroutine's thread unshares its namespace and returns to the one
// it had. A permission error (unshare needs CAP_SYS_ADMIN) wraps
// os.ErrPermission.
func NewNamespace() (*Namespace, error) {
	ns := &Namespace{fd: -1}
	err := onLockedThread(func() (restore func() error, err error) {
		orig, err := unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("netns: open %s: %w", threadNetNS, err)
		}
		restore = func() error {
			defer unix.Close(orig)
			if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("netns: return to the original namespace: %w", err)
			}
			return nil
		}
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			unix.Close(orig)
			return nil, fmt.Errorf("netns: unshare: %w (creating a network namespace needs root or CAP_SYS_ADMIN)", err)
		}
		if ns.fd, err = unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			err = fmt.Errorf("netns: open the new namespace: %w", err)
		}
		return restore, err
	})
	if err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// FD returns the namespace's file descriptor, for setns(2) and for
// libraries that take a namespace handle.
func (ns *Namespace) FD() int { return ns.fd }

// Do runs fn on an OS thread that is inside the namespace, and returns its
// error. Sockets fn creates stay in the namespace after Do returns; network
// interfaces fn looks up by name are the namespace's. Goroutines fn starts
// run on other threads, outside it. If the thread cannot return to its
// namespace, it is not reused: the runtime ends it.
func (ns *Namespace) Do(fn func() error) error {
	var fnErr error
	err := onLockedThread(func() (func() error, error) {
		orig, err := unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("netns: open %s: %w", threadNetNS, err)
		}
		restore := func() error {
			defer unix.Close(orig)
			if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("netns: return to the original namespace: %w", err)
			}
			return nil
		}
		if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
			unix.Close(orig)
			return nil, fmt.Errorf("netns: enter namespace: %w", err)
		}
		fnErr = fn()
		return restore, nil
	})
	return errors.Join(err, fnErr)
}

// Close releases the namespace; it disappears, with its interfaces, once
// no socket or process holds it either.
func (ns *Namespace) Close() error {
	if ns == nil || ns.fd < 0 {
		return nil
	}
	err := unix.Close(ns.fd)
	ns.fd = -1
	if err != nil {
		return fmt.Errorf("netns: close: %w", err)
	}
	return nil
}

// onLockedThread runs fn on a fresh goroutine locked to its OS thread, then
// the restore function fn returns (when fn returns one). The thread is
// unlocked, and so reused, only when restore succeeds; otherwise the
// goroutine exits still locked and the runtime ends the thread, so that no
// other goroutine ever runs in a namespace it did not ask for.
func onLockedThread(fn func() (restore func() error, err error)) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restore, err := fn()
		if restore != nil {
			if rerr := restore(); rerr != nil {
				done <- errors.Join(err, rerr)
				return // still locked: the thread ends with the goroutine
			}
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}
