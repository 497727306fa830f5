package perfring

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// netPoll lets a Reader wait in Go's netpoller: the Reader's epoll fd is
// itself pollable (readable while its ready list is not empty), so it is
// handed to the runtime as an *os.File, and a read that has to wait parks
// its goroutine instead of blocking a thread in epoll_wait. The events are
// then taken with epoll_wait and a zero timeout. RATIONALE.md has the
// numbers that made this the default.
type netPoll struct {
	f        *os.File // owns the Reader's epoll fd
	raw      syscall.RawConn
	deadline int64 // the deadline set on f, UnixNano, 0 for none

	// try is the function raw.Read calls, made once so that a wait does
	// not allocate; n and err are its results, and woken says it was
	// called before in this read, so the netpoller has woken the read.
	try   func(fd uintptr) bool
	n     int
	err   error
	woken bool
}

// newNetPoll hands r's epoll fd to the runtime, or returns nil, leaving the
// fd alone, when the runtime cannot poll it.
func newNetPoll(r *Reader) *netPoll {
	if err := unix.SetNonblock(r.epfd, true); err != nil {
		return nil
	}
	f := os.NewFile(uintptr(r.epfd), "perfring epoll")
	raw, err := f.SyscallConn()
	// SetReadDeadline fails with ErrNoDeadline for a file the netpoller
	// does not poll.
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		// Take the fd back from the File without closing it.
		if fd := f.Fd(); int(fd) == r.epfd {
			_ = unix.SetNonblock(r.epfd, false)
		}
		return nil
	}
	p := &netPoll{f: f, raw: raw}
	events := r.events
	p.try = func(fd uintptr) bool {
		p.n, p.err = unix.EpollWait(int(fd), events, 0)
		// After a wakeup, return even without events: when the runtime's
		// epoll asked whether ours was readable, the kernel polled our
		// ring fds for it, and perf_poll hands each wakeup out once (it
		// exchanges rb->poll with 0), so the event is gone but the
		// records are there. The caller scans every ring after a wait.
		if p.n > 0 || p.err != nil || p.woken {
			return true
		}
		p.woken = true
		return false
	}
	return p
}

// file returns the File that owns the epoll fd, nil for a nil netPoll.
func (p *netPoll) file() *os.File {
	if p == nil {
		return nil
	}
	return p.f
}

func (p *netPoll) close() error { return p.f.Close() }

// epollWait waits for events on the Reader's epoll instance for at most
// timeout ms (-1: no limit) and returns how many it put in r.events; 0
// when the time ran out.
func (r *Reader) epollWait(timeout int) (int, error) {
	p := r.poll
	if p == nil {
		return unix.EpollWait(r.epfd, r.events, timeout)
	}
	// The netpoller takes an absolute deadline: the Reader's own.
	if d := r.deadline.Load(); d != p.deadline {
		var t time.Time
		if d != 0 {
			t = time.Unix(0, d)
		}
		if err := p.f.SetReadDeadline(t); err != nil {
			return 0, err
		}
		p.deadline = d
	}
	p.n, p.err, p.woken = 0, nil, false
	err := p.raw.Read(p.try)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	}
	return p.n, p.err
}
