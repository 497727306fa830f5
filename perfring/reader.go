package perfring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// wakeData tags the eventfd's epoll entry; ring entries carry their index.
const wakeData = -1

// Reader reads records from one or more rings. One Reader over every CPU's
// ring makes an epoll loop; one Reader per ring, each in its own goroutine,
// reads per CPU. Both run the same code.
//
// Reads are serialised by a mutex, held while a read blocks, so that Close
// can wait for a blocked read to leave. The methods are safe to call from
// several goroutines, but records are views, so one goroutine should read.
type Reader struct {
	mu    sync.Mutex // held for a whole read; Close takes it to wait for readers
	rings []*Ring
	next  int   // ring to look at first, for round-robin
	last  *Ring // ring whose last record is still handed out
	// batchRec is the record ReadBatch fills; a field, so that handing its
	// address to fn does not make it escape per call.
	batchRec Record
	epfd     int
	// poll parks a read in Go's netpoller instead of in epoll_wait; nil
	// when the reader blocks in the syscall (ReaderOptions.BlockInSyscall,
	// or a runtime that cannot poll the epoll fd).
	poll   *netPoll
	events []unix.EpollEvent
	drain  [8]byte

	// wakeMu guards wakefd against Close, for wakes from other goroutines.
	wakeMu sync.RWMutex
	wakefd int // eventfd that interrupts epoll_wait; -1 once closed

	deadline atomic.Int64 // UnixNano, 0 for none
	blocking atomic.Bool  // a read is in, or about to enter, epoll_wait
	woken    atomic.Bool  // Wake was called: a batch read returns
	closed   atomic.Bool
	cleanup  runtime.Cleanup
}

// ReaderOptions tune a Reader. The zero value is the default.
type ReaderOptions struct {
	// BlockInSyscall makes a read that has to wait block its thread in
	// epoll_wait, as a C reader would, instead of parking its goroutine in
	// Go's netpoller. Kept for measurements (RATIONALE.md): the syscall
	// costs the Go scheduler a thread handoff on every wait.
	BlockInSyscall bool
}

// NewReader makes a Reader over rings. It creates an epoll instance and an
// eventfd for wakeups; it does not own the rings, which must stay mapped
// until the Reader is closed. A ring can belong to one open Reader only.
func NewReader(rings ...*Ring) (*Reader, error) {
	return NewReaderWithOptions(nil, rings...)
}

// NewReaderWithOptions is NewReader with options; nil means the defaults.
func NewReaderWithOptions(opts *ReaderOptions, rings ...*Ring) (_ *Reader, err error) {
	if opts == nil {
		opts = &ReaderOptions{}
	}
	if len(rings) == 0 {
		return nil, errors.New("perfring: new reader: no rings")
	}
	r := &Reader{
		rings:  append([]*Ring(nil), rings...),
		epfd:   -1,
		wakefd: -1,
		events: make([]unix.EpollEvent, len(rings)+1),
	}
	claimed := 0
	defer func() {
		if err != nil {
			for _, ring := range r.rings[:claimed] {
				ring.release()
			}
			if r.poll != nil {
				r.poll.close()
				r.epfd = -1
			}
			closeFDs(r.epfd, r.wakefd)
		}
	}()
	for _, ring := range r.rings {
		if ring == nil {
			return nil, errNilRing
		}
		if err := ring.claim(); err != nil {
			return nil, fmt.Errorf("perfring: new reader: %w", err)
		}
		claimed++
	}
	if r.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("perfring: epoll_create1: %w", err)
	}
	if r.wakefd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("perfring: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeData}
	if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, r.wakefd, &ev); err != nil {
		return nil, fmt.Errorf("perfring: epoll_ctl add eventfd: %w", err)
	}
	for i, ring := range r.rings {
		// Edge-triggered: perf_poll hands out each wakeup once anyway, and
		// every wakeup is followed by a scan of all rings.
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(i)}
		if err := unix.EpollCtl(r.epfd, unix.EPOLL_CTL_ADD, ring.fd, &ev); err != nil {
			return nil, fmt.Errorf("perfring: cpu %d: epoll_ctl add fd %d: %w", ring.cpu, ring.fd, err)
		}
	}
	if !opts.BlockInSyscall {
		// Where the runtime cannot poll the epoll fd, reads block in
		// epoll_wait instead; both work.
		r.poll = newNetPoll(r)
	}
	// A net under Close: an unreachable Reader closes its fds and lets go
	// of its rings, so that they can be closed.
	r.cleanup = runtime.AddCleanup(r, leak, leaked{r.epfd, r.wakefd, r.poll.file(), r.rings})
	return r, nil
}

type leaked struct {
	epfd, wakefd int
	epFile       *os.File // owns epfd when the netpoller polls it
	rings        []*Ring
}

func leak(l leaked) {
	if l.epFile != nil {
		_ = l.epFile.Close()
		l.epfd = -1
	}
	closeFDs(l.epfd, l.wakefd)
	for _, ring := range l.rings {
		ring.release()
	}
}

// ReadInto reads the next record into rec. It returns a record already
// pending in any ring first, taking the rings in turn so a busy CPU cannot
// starve the others, and only then blocks until a ring's fd wakes it, the
// deadline passes (os.ErrDeadlineExceeded) or the Reader is closed
// (ErrClosed). A *CorruptError (errors.Is ErrCorrupt) reports bytes that were
// skipped; reading may go on. On error rec holds nothing useful.
func (r *Reader) ReadInto(rec *Record) error {
	return r.read(nil, rec)
}

// ReadContext is ReadInto that also returns ctx.Err() once ctx is done, even
// if records are pending (drain them with ReadPending).
func (r *Reader) ReadContext(ctx context.Context, rec *Record) error {
	return r.read(ctx, rec)
}

// ReadPending reads a record that is already in a ring, without blocking. It
// returns false when every ring is empty.
func (r *Reader) ReadPending(rec *Record) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return false, ErrClosed
	}
	r.handBack()
	return r.pending(rec)
}

// SetDeadline sets when blocked and future reads give up with
// os.ErrDeadlineExceeded. The zero time means no deadline.
func (r *Reader) SetDeadline(t time.Time) {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	r.deadline.Store(ns)
	// Pairs with read: it sets blocking before loading the deadline, so
	// either it sees ns or we see it blocking and wake it.
	if r.blocking.Load() {
		r.wake()
	}
}

// Lost returns the records lost on all the Reader's rings.
func (r *Reader) Lost() uint64 {
	var n uint64
	for _, ring := range r.rings {
		n += ring.Lost()
	}
	return n
}

// Close wakes a blocked read, which returns ErrClosed, waits for it to leave
// and closes the epoll instance and the eventfd. Once Close returns no read
// touches the rings, so they may be unmapped. Close is idempotent.
func (r *Reader) Close() error {
	if !r.closed.CompareAndSwap(false, true) {
		// Already closed, or closing: wait until no read is inside.
		r.mu.Lock()
		r.mu.Unlock()
		return nil
	}
	r.wake()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handBack()
	for _, ring := range r.rings {
		ring.release()
	}
	r.cleanup.Stop()
	r.wakeMu.Lock()
	wakefd := r.wakefd
	r.wakefd = -1
	r.wakeMu.Unlock()
	var errs []error
	if err := unix.Close(wakefd); err != nil {
		errs = append(errs, fmt.Errorf("perfring: close eventfd: %w", err))
	}
	if r.poll != nil {
		if err := r.poll.close(); err != nil {
			errs = append(errs, fmt.Errorf("perfring: close epoll: %w", err))
		}
	} else if err := unix.Close(r.epfd); err != nil {
		errs = append(errs, fmt.Errorf("perfring: close epoll: %w", err))
	}
	return errors.Join(errs...)
}

// handBack publishes data_tail for the record handed out by the previous
// read, whose view is no longer promised.
func (r *Reader) handBack() {
	if r.last != nil {
		r.last.publish()
		r.last = nil
	}
}

// pending reads one record from the first non-empty ring, starting after the
// ring the previous record came from.
func (r *Reader) pending(rec *Record) (bool, error) {
	n := len(r.rings)
	for i := 0; i < n; i++ {
		idx := r.next + i
		if idx >= n {
			idx -= n
		}
		ring := r.rings[idx]
		ok, err := ring.next(rec)
		if !ok && err == nil {
			continue
		}
		if r.next = idx + 1; r.next == n {
			r.next = 0
		}
		if ok {
			r.last = ring
		}
		return ok, err
	}
	return false, nil
}

func closeFDs(fds ...int) {
	for _, fd := range fds {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
	}
}
