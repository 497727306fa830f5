package perfring

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// read is ReadInto and ReadContext (ctx nil for ReadInto). The path where a
// record is pending takes the mutex, scans the rings and returns: no
// syscall, no clock read, no allocation.
func (r *Reader) read(ctx context.Context, rec *Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return ErrClosed
	}
	if ctx != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
	}
	r.handBack()
	if ok, err := r.pending(rec); ok || err != nil {
		return err
	}
	_, err := r.wait(ctx, rec, nil)
	return err
}

// wait blocks in epoll_wait until a ring has records, then reads them:
// one record into rec, or, when fn is set, every record the rings hold,
// handed to fn (a batch). Called with r.mu held and all rings found empty.
// A batch read also returns (0, nil) after Wake.
func (r *Reader) wait(ctx context.Context, rec *Record, fn func(*Record)) (int, error) {
	if ctx != nil && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, r.wake)
		defer stop()
	}
	r.blocking.Store(true)
	defer r.blocking.Store(false)
	for {
		// Checked after blocking is set, so Close, SetDeadline, Wake and
		// ctx either happened before this or will wake epoll_wait.
		if r.closed.Load() {
			return 0, ErrClosed
		}
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		if fn != nil && r.woken.Swap(false) {
			return 0, nil
		}
		timeout, expired := r.timeout()
		if expired {
			return 0, os.ErrDeadlineExceeded
		}
		n, err := r.epollWait(timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("perfring: epoll_wait: %w", err)
		}
		for _, ev := range r.events[:n] {
			if ev.Fd == wakeData {
				// Level-triggered: reset the counter. EAGAIN means another
				// wake already drained it.
				_, _ = unix.Read(r.wakefd, r.drain[:])
			}
		}
		if r.closed.Load() {
			return 0, ErrClosed
		}
		if fn != nil {
			if n, err := r.drainAll(rec, fn); n > 0 || err != nil {
				return n, err
			}
			continue
		}
		if ok, err := r.pending(rec); ok || err != nil {
			return 1, err
		}
	}
}

// timeout turns the deadline into epoll_wait's milliseconds, rounded up so
// that we do not wake just before it; -1 means no deadline.
func (r *Reader) timeout() (ms int, expired bool) {
	d := r.deadline.Load()
	if d == 0 {
		return -1, false
	}
	left := d - time.Now().UnixNano()
	if left <= 0 {
		return 0, true
	}
	ms64 := (left + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	return int(min(ms64, math.MaxInt32)), false
}

// Wake makes a blocked ReadBatch return (0, nil), or the next ReadBatch
// return without blocking when none is blocked. It may be called from any
// goroutine; reads of single records are not affected.
func (r *Reader) Wake() {
	r.woken.Store(true)
	r.wake()
}

// wake interrupts epoll_wait. It may be called from any goroutine, also
// after Close has closed the eventfd (a late context.AfterFunc).
func (r *Reader) wake() {
	r.wakeMu.RLock()
	defer r.wakeMu.RUnlock()
	if r.wakefd < 0 {
		return
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(r.wakefd, one[:])
}
