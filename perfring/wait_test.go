package perfring

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestDeadline(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, s *synthRing, rd *Reader)
		deadline time.Duration // from now; 0 means none
		wantRaw  string
		wantErr  error
		minWait  time.Duration
	}{
		{name: "empty ring", deadline: 30 * time.Millisecond, wantErr: os.ErrDeadlineExceeded, minWait: 30 * time.Millisecond},
		{name: "passed deadline returns a pending record first", deadline: -time.Second, wantRaw: "pending",
			setup: func(t *testing.T, s *synthRing, rd *Reader) { s.w.Write(rawSample([]byte("pending"))) }},
		{name: "record below the watermark after a deadline", deadline: -time.Second, wantRaw: "quiet",
			setup: func(t *testing.T, s *synthRing, rd *Reader) {
				var rec Record
				if err := rd.ReadInto(&rec); !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("ReadInto on an empty ring: %v", err)
				}
				s.w.NoWake = true
				s.w.Write(rawSample([]byte("quiet")))
			}},
		{name: "record below the watermark while blocked", deadline: 50 * time.Millisecond, wantRaw: "quiet",
			setup: func(t *testing.T, s *synthRing, rd *Reader) {
				s.w.NoWake = true
				later(t, 5*time.Millisecond, func() { s.w.Write(rawSample([]byte("quiet"))) })
			}},
		{name: "set while blocked", wantErr: os.ErrDeadlineExceeded, minWait: 20 * time.Millisecond,
			setup: func(t *testing.T, s *synthRing, rd *Reader) {
				later(t, 20*time.Millisecond, func() { rd.SetDeadline(time.Now()) })
			}},
		{name: "zero time clears", wantRaw: "late", minWait: 20 * time.Millisecond,
			setup: func(t *testing.T, s *synthRing, rd *Reader) {
				rd.SetDeadline(time.Now().Add(-time.Second))
				rd.SetDeadline(time.Time{})
				later(t, 20*time.Millisecond, func() { s.w.Write(rawSample([]byte("late"))) })
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
			rd := newTestReader(t, s.Ring)
			if tt.deadline != 0 {
				rd.SetDeadline(time.Now().Add(tt.deadline))
			}
			start := time.Now()
			if tt.setup != nil {
				tt.setup(t, s, rd)
			}
			var rec Record
			err := rd.ReadInto(&rec)
			if waited := time.Since(start); waited < tt.minWait || waited > 10*time.Second {
				t.Errorf("returned after %v, want at least %v", waited, tt.minWait)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ReadInto: %v, want %v", err, tt.wantErr)
			}
			if string(rec.Raw) != tt.wantRaw {
				t.Fatalf("raw %q, want %q", rec.Raw, tt.wantRaw)
			}
			if tt.wantRaw != "" && tt.deadline < 0 {
				if err := rd.ReadInto(&rec); !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("second ReadInto: %v, want the deadline", err)
				}
			}
		})
	}
}

func TestCloseUnblocks(t *testing.T) {
	for _, closers := range []int{1, 3} {
		s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
		rd, err := NewReader(s.Ring)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error)
		go func() {
			var rec Record
			errc <- rd.ReadInto(&rec)
		}()
		time.Sleep(20 * time.Millisecond)
		var wg sync.WaitGroup
		for range closers {
			wg.Go(func() {
				if err := rd.Close(); err != nil {
					t.Error(err)
				}
			})
		}
		select {
		case err := <-errc:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("blocked ReadInto: %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not unblock ReadInto")
		}
		wg.Wait()
		var rec Record
		if err := rd.ReadInto(&rec); !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadInto after Close: %v", err)
		}
		if ok, err := rd.ReadPending(&rec); ok || !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadPending after Close: %v, %v", ok, err)
		}
		if err := rd.ReadContext(context.Background(), &rec); !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadContext after Close: %v", err)
		}
		if err := rd.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		rd.SetDeadline(time.Now()) // harmless after Close
	}
}

func TestReadContext(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     func(t *testing.T) (context.Context, context.CancelFunc)
		setup   func(t *testing.T, s *synthRing, rd *Reader)
		wantRaw string
		wantErr error
	}{
		{name: "cancel while blocked", wantErr: context.Canceled,
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				later(t, 20*time.Millisecond, cancel)
				return ctx, cancel
			}},
		{name: "context deadline", wantErr: context.DeadlineExceeded,
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 20*time.Millisecond)
			}},
		{name: "done context wins over a pending record", wantErr: context.Canceled,
			ctx:   func(t *testing.T) (context.Context, context.CancelFunc) { return cancelled, func() {} },
			setup: func(t *testing.T, s *synthRing, rd *Reader) { s.w.Write(rawSample([]byte("x"))) }},
		{name: "record while blocked", wantRaw: "woken",
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				return context.WithCancel(context.Background())
			},
			setup: func(t *testing.T, s *synthRing, rd *Reader) {
				later(t, 20*time.Millisecond, func() { s.w.Write(rawSample([]byte("woken"))) })
			}},
		{name: "reader deadline first", wantErr: os.ErrDeadlineExceeded,
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), time.Hour)
			},
			setup: func(t *testing.T, s *synthRing, rd *Reader) { rd.SetDeadline(time.Now().Add(10 * time.Millisecond)) }},
		{name: "background", wantRaw: "bg",
			ctx:   func(t *testing.T) (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			setup: func(t *testing.T, s *synthRing, rd *Reader) { s.w.Write(rawSample([]byte("bg"))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
			rd := newTestReader(t, s.Ring)
			ctx, cancel := tt.ctx(t)
			defer cancel()
			if tt.setup != nil {
				tt.setup(t, s, rd)
			}
			var rec Record
			err := rd.ReadContext(ctx, &rec)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("ReadContext: %v, want %v", err, tt.wantErr)
			}
			if string(rec.Raw) != tt.wantRaw {
				t.Fatalf("raw %q, want %q", rec.Raw, tt.wantRaw)
			}
		})
	}
}

// later runs f after d in its own goroutine; the test waits for it before
// its rings are unmapped.
func later(t *testing.T, d time.Duration, f func()) {
	done := make(chan struct{})
	timer := time.AfterFunc(d, func() { defer close(done); f() })
	t.Cleanup(func() {
		if timer.Stop() {
			return
		}
		<-done
	})
}

// TestBlockInSyscall runs the tests of waiting again with readers that
// block in epoll_wait instead of parking in Go's netpoller.
func TestBlockInSyscall(t *testing.T) {
	testReaderOptions = &ReaderOptions{BlockInSyscall: true}
	defer func() { testReaderOptions = nil }()
	for name, test := range map[string]func(*testing.T){
		"Deadline":          TestDeadline,
		"CloseUnblocks":     TestCloseUnblocks,
		"ReadContext":       TestReadContext,
		"SlowReader":        TestSlowReader,
		"SeveralCPUs":       TestSeveralCPUs,
		"ReadBatchWake":     TestReadBatchWake,
		"ReadBatchDeadline": TestReadBatchDeadline,
		"RealPerfEvent":     TestRealPerfEvent,
	} {
		t.Run(name, test)
	}
}

// TestNetPoll checks that readers park in the netpoller where the runtime
// can poll an epoll fd (always, on Linux), and not with BlockInSyscall.
func TestNetPoll(t *testing.T) {
	s := newSynthRing(t, 0, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd := newTestReader(t, s.Ring)
	if rd.poll == nil {
		t.Fatal("the reader blocks in epoll_wait; want Go's netpoller")
	}
	s2 := newSynthRing(t, 1, 1, unix.PERF_SAMPLE_RAW, 0, false)
	rd2, err := NewReaderWithOptions(&ReaderOptions{BlockInSyscall: true}, s2.Ring)
	if err != nil {
		t.Fatal(err)
	}
	defer rd2.Close()
	if rd2.poll != nil {
		t.Fatal("BlockInSyscall reader uses the netpoller")
	}
}
