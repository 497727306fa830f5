package afpacket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Offsets in a block's header, struct tpacket_block_desc with its
// struct tpacket_hdr_v1 (include/uapi/linux/if_packet.h).
const (
	blockStatus     = 8
	blockNumPkts    = 12
	blockFirstFrame = 16
)

// TP_STATUS values of a block's status word. The kernel sets
// TP_STATUS_USER (with other bits) when it hands the block over; user
// space writes TP_STATUS_KERNEL to give it back.
const (
	statusKernel = 0 // TP_STATUS_KERNEL
	statusUser   = 1 // TP_STATUS_USER
)

// block returns the i-th block of the ring.
func (r *Reader) block(i int) []byte {
	bs := r.opts.BlockSize
	return r.res.ring[i*bs : (i+1)*bs : (i+1)*bs]
}

// status is the block's status word, shared with the kernel: read and
// written atomically, which orders the reads of the block's packets after
// the read that sees TP_STATUS_USER, and the kernel's reuse of the block
// after them.
func status(block []byte) *uint32 {
	return (*uint32)(unsafe.Pointer(&block[blockStatus]))
}

// Read waits until the kernel hands over a block of packets, or ctx ends,
// or the Reader is closed. It then calls fn with every frame of every
// block ready in the ring (at most one lap of it), in order, gives the
// blocks back to the kernel, and returns how many frames it read. The
// Frame passed to fn, and the bytes it points to, are valid only until fn
// returns; fn must not call Read or Close.
//
// Read makes at most one poll(2) when the next block is not ready yet,
// none when it is, and allocates nothing (unless ctx can be cancelled:
// then one small allocation a call, for the wakeup). When ctx ends first
// it returns 0 and ctx.Err(); after Close, ErrClosed.
func (r *Reader) Read(ctx context.Context, fn func(*Frame)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing.Load() || r.res.fd < 0 {
		return 0, ErrClosed
	}
	for atomic.LoadUint32(status(r.block(r.next)))&statusUser == 0 {
		if err := r.wait(ctx); err != nil {
			return 0, err
		}
	}
	f := &r.frame // reused: a local would escape to fn and be allocated
	total := 0
	for range r.opts.Blocks {
		b := r.block(r.next)
		st := status(b)
		if atomic.LoadUint32(st)&statusUser == 0 {
			break
		}
		n, ok := readBlock(b, f, fn)
		total += n
		atomic.StoreUint32(st, statusKernel)
		r.next = (r.next + 1) % r.opts.Blocks
		if !ok {
			return total, fmt.Errorf("afpacket: read on %s: %w", r.ifname, ErrCorrupt)
		}
	}
	return total, nil
}

// readBlock calls fn with each frame of the block, reusing f. It reports
// false, after the frames it could read, when a frame lies outside the
// block.
func readBlock(b []byte, f *Frame, fn func(*Frame)) (int, bool) {
	ne := binary.NativeEndian
	num := ne.Uint32(b[blockNumPkts:])
	off := ne.Uint32(b[blockFirstFrame:])
	for i := range num {
		if !decodeFrame(f, b, off) {
			return int(i), false
		}
		fn(f)
		next := ne.Uint32(b[off+hdrNextOffset:])
		if next == 0 && i+1 < num {
			return int(i + 1), false
		}
		off += next
	}
	return int(num), true
}

// wait polls the socket and the wakeup eventfd once. It returns nil when
// the socket is readable (or the poll was interrupted): the caller checks
// the block again.
func (r *Reader) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, r.wakeUp)
		defer stop()
	}
	fds := [2]unix.PollFd{
		{Fd: int32(r.res.fd), Events: unix.POLLIN | unix.POLLERR},
		{Fd: int32(r.res.wake), Events: unix.POLLIN},
	}
	_, err := unix.Poll(fds[:], -1)
	if err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("afpacket: poll %s: %w", r.ifname, err)
	}
	if fds[1].Revents&unix.POLLIN != 0 {
		var buf [8]byte
		unix.Read(r.res.wake, buf[:]) // reset the eventfd's count
		if r.closing.Load() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// A late wakeup meant for an earlier context: wait again.
	}
	if fds[0].Revents&unix.POLLERR != 0 {
		if serr, err := unix.GetsockoptInt(r.res.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && serr != 0 {
			return fmt.Errorf("afpacket: read on %s: %w", r.ifname, unix.Errno(serr))
		}
	}
	return nil
}

// Stats are a Reader's counts since it was opened, from the kernel
// (PACKET_STATISTICS).
type Stats struct {
	// Packets counts the packets that reached the socket (those its
	// filter passed), including the dropped ones.
	Packets uint64
	// Drops counts the packets the ring had no room for.
	Drops uint64
	// FreezeQueueCount counts the times the ring was full, so that the
	// kernel stopped filling it until user space returned a block.
	FreezeQueueCount uint64
}

// Stats returns the counts since Open. The kernel resets its counts each
// time they are read, so the Reader keeps the sum.
func (r *Reader) Stats() (Stats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	r.wakeMu.Lock() // keeps Close from closing the socket meanwhile
	defer r.wakeMu.Unlock()
	if r.res.fd < 0 {
		return r.stats, nil
	}
	s, err := unix.GetsockoptTpacketStatsV3(r.res.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return r.stats, fmt.Errorf("afpacket: statistics of %s: %w", r.ifname, err)
	}
	r.stats.Packets += uint64(s.Packets)
	r.stats.Drops += uint64(s.Drops)
	r.stats.FreezeQueueCount += uint64(s.Freeze_q_cnt)
	return r.stats, nil
}
