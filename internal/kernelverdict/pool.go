package kernelverdict

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// nobody is the user the children run as (65534 on every distribution
// that has one, and the overflow uid of the kernel).
const nobody = 65534

var returnZero = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}

// capsOf are the ambient capabilities a mode's children keep. CAP_NET_ADMIN
// is in both because the kernel asks it of cgroup_skb loaders
// (is_net_admin_prog_type); the verifier never looks at it.
var capsOf = map[Mode][]uintptr{
	BPFOnly:      {unix.CAP_BPF, unix.CAP_NET_ADMIN},
	Unprivileged: {unix.CAP_NET_ADMIN},
}

// executable is a copy of this process's executable that nobody may run:
// a go test binary lives in a directory only root may enter.
type executable struct {
	dir, path string
}

func copyExecutable() (*executable, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dropmon-kernelverdict-")
	if err != nil {
		return nil, err
	}
	exe := &executable{dir: dir, path: filepath.Join(dir, filepath.Base(self))}
	if err := copyFile(self, exe.path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy %s for the children: %w", self, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return exe, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// pool is the children of one mode; idle holds those not loading.
type pool struct {
	mode Mode
	path string
	idle chan *child

	mu  sync.Mutex
	all map[*child]bool
}

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	bw    *bufio.Writer
	enc   *gob.Encoder
	dec   *gob.Decoder
}

func startPool(path string, mode Mode, n int) (*pool, error) {
	pl := &pool{mode: mode, path: path, idle: make(chan *child, n), all: map[*child]bool{}}
	for range n {
		c, err := pl.start()
		if err != nil {
			pl.close()
			return nil, err
		}
		pl.idle <- c
	}
	return pl, nil
}

// start runs one child as nobody with the mode's capabilities and checks
// what it says it holds.
func (pl *pool) start() (*child, error) {
	cmd := exec.Command(pl.path)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}},
		AmbientCaps: capsOf[pl.mode],
		Pdeathsig:   syscall.SIGKILL,
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start %v child: %w", ErrUnavailable, pl.mode, err)
	}
	bw := bufio.NewWriter(stdin)
	c := &child{cmd: cmd, stdin: stdin, bw: bw, enc: gob.NewEncoder(bw), dec: gob.NewDecoder(bufio.NewReader(stdout))}
	var h hello
	if err := c.dec.Decode(&h); err != nil {
		c.stop()
		return nil, fmt.Errorf("%w: %v child said nothing: %w", ErrUnavailable, pl.mode, err)
	}
	if err := checkCaps(pl.mode, &h); err != nil {
		c.stop()
		return nil, err
	}
	pl.mu.Lock()
	pl.all[c] = true
	pl.mu.Unlock()
	return c, nil
}

// Capability bits of CapEff.
const (
	capSysAdmin = 1 << unix.CAP_SYS_ADMIN
	capPerfmon  = 1 << unix.CAP_PERFMON
	capBPF      = 1 << unix.CAP_BPF
)

func checkCaps(mode Mode, h *hello) error {
	if h.Err != "" {
		return fmt.Errorf("%v child: %s", mode, h.Err)
	}
	bad := h.UID != nobody || h.CapEff&(capSysAdmin|capPerfmon) != 0
	if mode == BPFOnly {
		bad = bad || h.CapEff&capBPF == 0
	} else {
		bad = bad || h.CapEff&capBPF != 0
	}
	if bad {
		return fmt.Errorf("%w: %v child runs as uid %d with capabilities %#x", ErrUnavailable, mode, h.UID, h.CapEff)
	}
	return nil
}

// load sends req to an idle child. A child that fails is replaced.
func (pl *pool) load(req *request) (response, error) {
	c, ok := <-pl.idle
	if !ok {
		return response{}, ErrClosed
	}
	resp, err := c.roundTrip(req)
	if err == nil {
		pl.idle <- c
		return resp, nil
	}
	pl.forget(c)
	c.stop()
	if fresh, serr := pl.start(); serr == nil {
		pl.idle <- fresh
	} else {
		err = errors.Join(err, serr)
		pl.idle <- c // a dead child: the next load fails again
	}
	return response{}, err
}

func (c *child) roundTrip(req *request) (response, error) {
	var resp response
	if err := c.enc.Encode(req); err != nil {
		return resp, err
	}
	if err := c.bw.Flush(); err != nil {
		return resp, err
	}
	err := c.dec.Decode(&resp)
	return resp, err
}

func (pl *pool) forget(c *child) {
	pl.mu.Lock()
	delete(pl.all, c)
	pl.mu.Unlock()
}

// stop ends a child: end of input makes it exit.
func (c *child) stop() error {
	c.stdin.Close()
	return c.cmd.Wait()
}

func (pl *pool) close() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var errs []error
	for c := range pl.all {
		if err := c.stop(); err != nil {
			errs = append(errs, fmt.Errorf("%v child: %w", pl.mode, err))
		}
	}
	pl.all = nil
	return errors.Join(errs...)
}
