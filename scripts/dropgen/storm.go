package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stormConfig is what the senders share.
type stormConfig struct {
	port    int           // closed UDP port on 127.0.0.1
	senders int           // goroutines, each on its own OS thread
	batch   int           // datagrams per sendmmsg
	size    int           // payload bytes
	d       time.Duration // how long to send
}

// stormResult is what all senders sent between the start and the last
// sender's end.
type stormResult struct {
	sent    uint64
	elapsed time.Duration
}

// storm runs the senders and waits for them. They start together once all
// have their sockets, so that elapsed covers sending only.
func storm(c stormConfig) (stormResult, error) {
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		sent        = make([]uint64, c.senders)
		errs        = make([]error, c.senders)
	)
	ncpu := runtime.NumCPU()
	ready.Add(c.senders)
	done.Add(c.senders)
	var begin time.Time
	for i := range c.senders {
		go func() {
			defer done.Done()
			sent[i], errs[i] = sender(c, i%ncpu, &ready, start, &begin)
		}()
	}
	ready.Wait()
	begin = time.Now() // written before close(start): senders read it after
	close(start)
	done.Wait()
	res := stormResult{elapsed: time.Since(begin)}
	for i := range sent {
		res.sent += sent[i]
	}
	return res, errors.Join(errs...)
}

// sender sends batches until begin+d from one OS thread pinned to cpu.
// It calls ready.Done exactly once, whether or not it could set up.
func sender(c stormConfig, cpu int, ready *sync.WaitGroup, start <-chan struct{}, begin *time.Time) (uint64, error) {
	runtime.LockOSThread() // stays locked: the thread exits with the goroutine
	fd, b, err := setupSender(c, cpu)
	ready.Done()
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	defer b.pin.Unpin()
	<-start
	deadline := begin.Add(c.d)
	var sent uint64
	for time.Now().Before(deadline) {
		n, err := sendmmsg(fd, b.msgs)
		switch {
		case err == nil:
			sent += uint64(n)
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN),
			errors.Is(err, unix.ECONNREFUSED), errors.Is(err, unix.ENOBUFS):
			// ECONNREFUSED cannot come on an unconnected socket without
			// IP_RECVERR; tolerate it anyway, and full queues too.
		default:
			return sent, fmt.Errorf("sendmmsg on cpu %d: %w", cpu, err)
		}
	}
	return sent, nil
}

// batch is one sender's messages, all to the same closed port. The pinner
// keeps the Go memory the kernel reads through nested pointers in place.
type batch struct {
	msgs []unix.Mmsghdr
	pin  runtime.Pinner
}

func setupSender(c stormConfig, cpu int) (int, *batch, error) {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return -1, nil, fmt.Errorf("pin sender to cpu %d: %w", cpu, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, nil, fmt.Errorf("udp socket: %w", err)
	}
	return fd, newBatch(c.port, c.batch, c.size), nil
}

func newBatch(port, n, size int) *batch {
	addr := &unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: [4]byte{127, 0, 0, 1}}
	// sin_port is in network byte order.
	p := (*[2]byte)(unsafe.Pointer(&addr.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	payload := make([]byte, max(size, 1)) // a valid base pointer even for size 0
	copy(payload, "dropgen")
	iov := &unix.Iovec{Base: &payload[0]}
	iov.SetLen(size)

	b := &batch{msgs: make([]unix.Mmsghdr, n)}
	b.pin.Pin(addr)
	b.pin.Pin(&payload[0])
	b.pin.Pin(iov)
	b.pin.Pin(&b.msgs[0])
	for i := range b.msgs {
		h := &b.msgs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(addr))
		h.Namelen = unix.SizeofSockaddrInet4
		h.Iov = iov
		h.SetIovlen(1)
	}
	return b
}

// sendmmsg sends msgs in one call and returns how many went; x/sys/unix has
// no wrapper for it.
func sendmmsg(fd int, msgs []unix.Mmsghdr) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd),
		uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), 0, 0, 0)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}
