package kernelverdict

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// unprivSysctl is kernel.unprivileged_bpf_disabled: 0 lets users without
// CAP_BPF load socket filters; 2 forbids it until root writes 0; 1
// forbids it until reboot.
const unprivSysctl = "/proc/sys/kernel/unprivileged_bpf_disabled"

// Lowering the sysctl changes the whole machine, and test binaries of
// several packages run at once. Each process that needs it lowered holds
// a shared flock on usersName for as long as it does; the last one out
// (the one that gets the lock exclusively) restores it. stateName's lock
// serialises lowering and restoring, and savedName keeps the value to
// restore, so that a run killed outright (a test timeout) leaves the next
// run what to put back.
const (
	usersName = "dropmon-kernelverdict.users"
	stateName = "dropmon-kernelverdict.state"
	savedName = "dropmon-kernelverdict.saved"
)

// gate keeps the sysctl lowered for as long as any Loader of this process
// needs unprivileged loads.
type gate struct {
	mu     sync.Mutex
	refs   int
	users  *os.File // shared lock on usersName while refs > 0
	cancel func()   // unregisters the signal handler
}

var unprivGate gate

func tmp(name string) string { return filepath.Join(os.TempDir(), name) }

func readSysctl() (string, error) {
	b, err := os.ReadFile(unprivSysctl)
	return strings.TrimSpace(string(b)), err
}

// acquire makes unprivileged loads possible, or says why they are not.
func (g *gate) acquire() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refs > 0 {
		g.refs++
		return nil
	}
	cur, err := readSysctl()
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrUnavailable, unprivSysctl, err)
	}
	if cur == "1" {
		return fmt.Errorf("%w: kernel.unprivileged_bpf_disabled is 1, which only a reboot lowers", ErrUnavailable)
	}
	users, err := lockFile(usersName, unix.LOCK_SH)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := lower(); err != nil {
		users.Close()
		return err
	}
	g.users, g.refs = users, 1
	g.cancel = atSignal(func() {
		// A release in progress holds mu and restores by itself.
		if g.mu.TryLock() {
			defer g.mu.Unlock()
			g.leave()
		}
	})
	return nil
}

// release undoes one acquire.
func (g *gate) release() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refs == 0 {
		return nil
	}
	if g.refs--; g.refs > 0 {
		return nil
	}
	err := g.leave()
	g.cancel()
	return err
}

// leave drops this process's use and restores the sysctl if no other
// process uses it.
func (g *gate) leave() error {
	users := g.users
	if users == nil {
		return nil
	}
	g.users = nil
	defer users.Close()
	if err := unix.Flock(int(users.Fd()), unix.LOCK_UN); err != nil {
		return err
	}
	if unix.Flock(int(users.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return nil // another process still loads unprivileged
	}
	return restore()
}

func lockFile(name string, how int) (*os.File, error) {
	f, err := os.OpenFile(tmp(name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return f, nil
}

// lower saves the sysctl's value, unless a value is saved already (by a
// process that still uses it, or one that was killed), and writes 0.
func lower() error {
	state, err := lockFile(stateName, unix.LOCK_EX)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer state.Close()
	cur, err := readSysctl()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if _, err := os.Stat(tmp(savedName)); err == nil || cur == "0" {
		return nil
	}
	if err := os.WriteFile(tmp(savedName), []byte(cur+"\n"), 0o600); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := os.WriteFile(unprivSysctl, []byte("0\n"), 0); err != nil {
		os.Remove(tmp(savedName))
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w: lower kernel.unprivileged_bpf_disabled (run as root): %w", ErrUnavailable, err)
		}
		return fmt.Errorf("%w: lower kernel.unprivileged_bpf_disabled: %w", ErrUnavailable, err)
	}
	return nil
}

// restore writes the saved value back, if there is one.
func restore() error {
	state, err := lockFile(stateName, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer state.Close()
	b, err := os.ReadFile(tmp(savedName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(unprivSysctl, b, 0); err != nil {
		return fmt.Errorf("restore kernel.unprivileged_bpf_disabled to %s: %w", strings.TrimSpace(string(b)), err)
	}
	return os.Remove(tmp(savedName))
}
