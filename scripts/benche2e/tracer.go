package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// line is one line a tracer printed and when the harness read it.
type line struct {
	at   time.Time
	text string
}

// tracer is a running tracer process whose stdout and stderr the harness
// reads line by line, noting when each line arrived.
type tracer struct {
	cmd     *exec.Cmd
	readers sync.WaitGroup

	mu     sync.Mutex
	stdout []line
	stderr []line
	ready  chan time.Time // gets the arrival of the first line readyLine accepts

	exited  chan struct{} // closed when the process has ended and been waited for
	waitErr error         // cmd.Wait's result, set before exited is closed
	stopped bool
}

// readyLine says whether a line, from stdout or not, shows the tracer
// attached.
type readyLine func(stdout bool, text string) bool

// startTracer starts argv in its own process group, so that a Ctrl-C on the
// terminal reaches the harness only, which then stops the tracer itself.
func startTracer(argv []string, isReady readyLine) (*tracer, error) {
	t := &tracer{
		cmd:    exec.Command(argv[0], argv[1:]...),
		ready:  make(chan time.Time, 1),
		exited: make(chan struct{}),
	}
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := t.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	errPipe, err := t.cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	t.readers.Add(2)
	go t.read(out, true, isReady)
	go t.read(errPipe, false, isReady)
	go func() {
		t.readers.Wait() // exec: read the pipes to the end before Wait
		t.waitErr = t.cmd.Wait()
		close(t.exited)
	}()
	return t, nil
}

func (t *tracer) read(r io.Reader, stdout bool, isReady readyLine) {
	defer t.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := line{at: time.Now(), text: sc.Text()}
		t.mu.Lock()
		if stdout {
			t.stdout = append(t.stdout, l)
		} else {
			t.stderr = append(t.stderr, l)
		}
		if isReady != nil && isReady(stdout, l.text) {
			select {
			case t.ready <- l.at:
			default:
			}
		}
		t.mu.Unlock()
	}
	io.Copy(io.Discard, r) // a line past the buffer: keep the pipe drained
}

// waitReady waits for the tracer's ready line, its death or the timeout.
func (t *tracer) waitReady(ctx context.Context, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		select {
		case at := <-t.ready:
			return at, nil
		case <-t.exited:
			return time.Time{}, fmt.Errorf("%s exited before it was attached (%v):\n%s", t.cmd.Args[0], t.waitErr, t.tail(8))
		case <-deadline:
			return time.Time{}, fmt.Errorf("%s not attached after %s:\n%s", t.cmd.Args[0], timeout, t.tail(8))
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// cpu is the process's CPU time so far, from /proc/PID/stat.
func (t *tracer) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", t.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("tracer cpu time: %w", err)
	}
	return parseProcStatCPU(string(b))
}

// errKilled is returned by stop when the tracer had to be killed.
var errKilled = errors.New("did not exit after SIGINT, killed")

// stop sends SIGINT and waits for the exit, killing the tracer after
// timeout. An exit status other than 0 or death by SIGINT (perf re-raises
// it) is an error. The rusage is in t.cmd.ProcessState afterwards.
func (t *tracer) stop(timeout time.Duration) error {
	if t.stopped {
		return nil
	}
	t.stopped = true
	t.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-t.exited:
	case <-time.After(timeout):
		syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
		<-t.exited
		return fmt.Errorf("%s %w after %s", t.cmd.Args[0], errKilled, timeout)
	}
	err := t.waitErr
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
			return nil
		}
		return fmt.Errorf("%s: %w:\n%s", t.cmd.Args[0], err, t.tail(8))
	}
	return err
}

// rusage is the ended process's resource use, with that of any children
// it waited for.
func (t *tracer) rusage() *syscall.Rusage {
	select {
	case <-t.exited:
	default:
		return nil
	}
	ru, _ := t.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru
}

// lines returns what the tracer printed so far.
func (t *tracer) lines() (stdout, stderr []line) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.stdout), slices.Clone(t.stderr)
}

// tail returns the last n lines of stderr, then stdout, for messages.
func (t *tracer) tail(n int) string {
	out, errs := t.lines()
	var b strings.Builder
	for _, ls := range [][]line{errs, out} {
		for _, l := range ls[max(0, len(ls)-n):] {
			b.WriteString("  " + l.text + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func texts(ls []line) []string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = l.text
	}
	return s
}
