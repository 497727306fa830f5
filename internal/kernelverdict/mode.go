package kernelverdict

import (
	"errors"
	"fmt"
)

// Mode is the privilege a program is loaded with.
type Mode int

const (
	// Privileged loads as root, in-process: CAP_BPF, CAP_PERFMON and
	// CAP_SYS_ADMIN. dropmon's verifier.Options{}.
	Privileged Mode = iota
	// BPFOnly loads from a child running as nobody with CAP_BPF but not
	// CAP_PERFMON: the privileged instruction limit and bounded loops, but
	// no pointer leaks, no pointer comparisons, no reads of uninitialised
	// stack and Spectre v1/v4 hardening. verifier.Options{WithoutPerfmon: true}.
	BPFOnly
	// Unprivileged loads from a child running as nobody without CAP_BPF
	// (only socket_filter and cgroup_skb programs, at most 4096
	// instructions). verifier.Options{Unprivileged: true}.
	Unprivileged
)

// Modes lists every mode, in order.
var Modes = []Mode{Privileged, BPFOnly, Unprivileged}

func (m Mode) String() string {
	switch m {
	case Privileged:
		return "privileged"
	case BPFOnly:
		return "bpf-only"
	case Unprivileged:
		return "unprivileged"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Verdict is what the kernel's verifier made of a program.
type Verdict bool

const (
	Reject Verdict = false
	Accept Verdict = true
)

func (v Verdict) String() string {
	if v {
		return "accept"
	}
	return "reject"
}

var (
	// ErrUnavailable is matched by errors for modes this machine cannot
	// load in: not root, no BPF, or kernel.unprivileged_bpf_disabled=1
	// (which only a reboot lowers). Tests skip on it.
	ErrUnavailable = errors.New("kernel loading unavailable")
	// ErrClosed is returned by a closed Loader.
	ErrClosed = errors.New("loader closed")
)
