package kernelverdict

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/dropmon/dropmon/program"
)

// Options tune a Loader.
type Options struct {
	// LogLevel is the kernel log's level. 0 loads with statistics only
	// and loads a rejection again with ebpf.LogLevelBranch, so that the
	// log holds the instructions of the failing path, unless the kernel
	// simulated more than 100,000 instructions.
	LogLevel ebpf.LogLevel
	// Children is the number of child processes per mode, which bounds
	// how many loads of one mode run at once; 0 means GOMAXPROCS.
	Children int
}

// Loader loads programs into the running kernel in any Mode. Its methods
// are safe for concurrent use. Children are started at the first load of
// their mode, and the sysctl is lowered only then.
type Loader struct {
	opts Options

	mu     sync.Mutex
	closed bool
	pools  map[Mode]*pool
	exe    *executable
	unpriv bool // holds unprivGate
	// exeCancel unregisters the removal of exe on a signal.
	exeCancel func()
}

// NewLoader returns a Loader. It fails with ErrUnavailable when this
// process cannot load programs privileged (no privileges, which the error
// also matches os.ErrPermission for, or no BPF).
func NewLoader(opts *Options) (*Loader, error) {
	if opts == nil {
		opts = &Options{}
	}
	l := &Loader{opts: *opts, pools: map[Mode]*pool{}}
	if l.opts.Children <= 0 {
		l.opts.Children = runtime.GOMAXPROCS(0)
	}
	if err := probe(); err != nil {
		return nil, err
	}
	return l, nil
}

// probe checks that this process holds what Privileged promises and
// loads a trivial program.
func probe() error {
	caps, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if caps&capSysAdmin == 0 && caps&(capBPF|capPerfmon) != capBPF|capPerfmon {
		return fmt.Errorf("%w: privileged loads need CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON "+
			"(run as root): %w", ErrUnavailable, os.ErrPermission)
	}
	_ = rlimit.RemoveMemlock()
	p := &program.Program{Type: program.SocketFilter, Insns: returnZero}
	req, err := encode(p, 0)
	if err != nil {
		return err
	}
	v, log, err := loadProgram(req)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case v != Accept:
		return fmt.Errorf("%w: the kernel rejects a trivial program: %s", ErrUnavailable, log)
	}
	return nil
}

// Load loads p in this process, with its privileges (those of Privileged
// when it runs as root), and a log of the given level (see
// Options.LogLevel).
func Load(p *program.Program, level ebpf.LogLevel) (Verdict, string, error) {
	req, err := encode(p, level)
	if err != nil {
		return Reject, "", err
	}
	return loadProgram(req)
}

// Load loads p in the given mode. It returns the kernel's verdict and, for
// rejections, its log. err is for failures that are not verdicts: a map
// the kernel would not create, a program cilium cannot encode, a mode the
// machine does not allow (ErrUnavailable), a child that died.
func (l *Loader) Load(p *program.Program, mode Mode) (v Verdict, log string, err error) {
	req, err := encode(p, l.opts.LogLevel)
	if err != nil {
		return Reject, "", err
	}
	var resp response
	if mode == Privileged {
		resp = load(req)
	} else {
		pl, err := l.pool(mode)
		if err != nil {
			return Reject, "", err
		}
		if resp, err = pl.load(req); err != nil {
			return Reject, "", fmt.Errorf("%v child: %w", mode, err)
		}
	}
	if resp.Err != "" {
		return Reject, "", fmt.Errorf("%v load: %s", mode, resp.Err)
	}
	return resp.Verdict, resp.Log, nil
}

// pool returns the children of mode, starting them on first use.
func (l *Loader) pool(mode Mode) (*pool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	if pl := l.pools[mode]; pl != nil {
		return pl, nil
	}
	if mode != BPFOnly && mode != Unprivileged {
		return nil, fmt.Errorf("mode %v: %w", mode, errors.ErrUnsupported)
	}
	if mode == Unprivileged && !l.unpriv {
		if err := unprivGate.acquire(); err != nil {
			return nil, err
		}
		l.unpriv = true
	}
	if l.exe == nil {
		exe, err := copyExecutable()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		l.exe = exe
		l.exeCancel = atSignal(func() { os.RemoveAll(exe.dir) })
	}
	pl, err := startPool(l.exe.path, mode, l.opts.Children)
	if err != nil {
		return nil, err
	}
	l.pools[mode] = pl
	return pl, nil
}

// Close stops the children, removes their executable and restores the
// sysctl.
func (l *Loader) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, pl := range l.pools {
		errs = append(errs, pl.close())
	}
	if l.exe != nil {
		errs = append(errs, os.RemoveAll(l.exe.dir))
		l.exeCancel()
	}
	if l.unpriv {
		errs = append(errs, unprivGate.release())
	}
	return errors.Join(errs...)
}

// Available starts mode's children if need be and says whether loads in
// mode can work; the error matches ErrUnavailable when the machine does
// not allow them.
func (l *Loader) Available(mode Mode) error {
	if mode == Privileged {
		return nil
	}
	_, err := l.pool(mode)
	return err
}
