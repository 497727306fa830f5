package afpacket

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Reader reads one interface's packets from a TPACKET_V3 ring. Read and
// Close may be called from different goroutines: Close interrupts a
// waiting Read. Two Reads run one after the other.
type Reader struct {
	ifname  string
	ifindex int
	opts    Options

	mu    sync.Mutex // held by Read for its whole run; Close takes it to unmap
	res   resources
	next  int   // the block the kernel fills next, in ring order
	frame Frame // handed to Read's callback

	closing atomic.Bool
	cleanup runtime.Cleanup
	// wakeMu guards res.wake against Close: a context's AfterFunc may
	// call wakeUp at any time, even after Close.
	wakeMu sync.Mutex

	statsMu sync.Mutex
	stats   Stats
}

// resources are what a Reader must give back: the socket, the eventfd
// that wakes a waiting Read, and the ring. A value, so that the cleanup
// that backs up Close does not keep the Reader reachable.
type resources struct {
	fd, wake int
	ring     []byte
}

func (r resources) release() error {
	var errs []error
	if r.ring != nil {
		errs = append(errs, unix.Munmap(r.ring))
	}
	if r.wake >= 0 {
		errs = append(errs, unix.Close(r.wake))
	}
	if r.fd >= 0 {
		errs = append(errs, unix.Close(r.fd))
	}
	return errors.Join(errs...)
}

// Open opens a packet socket on the interface ifname (in the calling
// thread's network namespace) with a receive ring; opts may be nil. The
// socket receives every protocol (ETH_P_ALL), incoming and outgoing. It
// needs CAP_NET_RAW: the error then wraps os.ErrPermission and says so.
func Open(ifname string, opts *Options) (_ *Reader, err error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("afpacket: open on %s: %w", ifname, err)
	}
	r := &Reader{ifname: ifname, opts: o, res: resources{fd: -1, wake: -1}}
	defer func() {
		if err != nil {
			r.res.release()
		}
	}()
	// Protocol 0: the socket receives nothing until bind names a protocol.
	if r.res.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		return nil, openError(ifname, "socket", err)
	}
	if r.ifindex, err = interfaceIndex(r.res.fd, ifname); err != nil {
		return nil, openError(ifname, "find interface", err)
	}
	if err := r.setupRing(); err != nil {
		return nil, err
	}
	if o.Filter != nil {
		if err := unix.SetsockoptInt(r.res.fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, o.Filter.FD()); err != nil {
			return nil, openError(ifname, "attach filter (SO_ATTACH_BPF)", err)
		}
	}
	if r.res.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, openError(ifname, "eventfd", err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: r.ifindex}
	if err := unix.Bind(r.res.fd, sa); err != nil {
		return nil, openError(ifname, "bind", err)
	}
	r.cleanup = runtime.AddCleanup(r, func(res resources) { res.release() }, r.res)
	return r, nil
}

// setupRing asks for TPACKET_V3 and the ring, and maps it.
func (r *Reader) setupRing() error {
	fd, o := r.res.fd, r.opts
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return openError(r.ifname, "set TPACKET_V3", err)
	}
	req := &unix.TpacketReq3{
		Block_size:     uint32(o.BlockSize),
		Block_nr:       uint32(o.Blocks),
		Frame_size:     uint32(o.FrameSize),
		Frame_nr:       uint32(o.BlockSize / o.FrameSize * o.Blocks),
		Retire_blk_tov: uint32(o.RetireTimeout.Milliseconds()),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, req); err != nil {
		return openError(r.ifname, fmt.Sprintf("set up a ring of %d blocks of %d bytes", o.Blocks, o.BlockSize), err)
	}
	ring, err := unix.Mmap(fd, 0, o.BlockSize*o.Blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return openError(r.ifname, "mmap the ring", err)
	}
	r.res.ring = ring
	return nil
}

// interfaceIndex asks the kernel for ifname's index (SIOCGIFINDEX) through
// fd, in fd's network namespace.
func interfaceIndex(fd int, ifname string) (int, error) {
	ifr, err := unix.NewIfreq(ifname)
	if err != nil {
		return 0, fmt.Errorf("%w (%w)", unix.ENODEV, err) // too long to be a name
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Interface returns the name of the interface the Reader reads.
func (r *Reader) Interface() string { return r.ifname }

// Ifindex returns the index of the interface the Reader reads.
func (r *Reader) Ifindex() int { return r.ifindex }

// Close stops the Reader: it wakes a waiting Read (which returns
// ErrClosed), waits for it to return, then unmaps the ring and closes the
// socket. Frames must not be used after Close.
func (r *Reader) Close() error {
	r.closing.Store(true)
	r.wakeUp()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wakeMu.Lock()
	defer r.wakeMu.Unlock()
	if r.res.fd < 0 {
		return nil
	}
	r.cleanup.Stop()
	err := r.res.release()
	r.res = resources{fd: -1, wake: -1}
	if err != nil {
		return fmt.Errorf("afpacket: close %s: %w", r.ifname, err)
	}
	return nil
}

// wakeUp makes a poll in Read return, by adding to the eventfd it polls.
func (r *Reader) wakeUp() {
	one := [8]byte{1}
	r.wakeMu.Lock()
	defer r.wakeMu.Unlock()
	if r.res.wake >= 0 {
		unix.Write(r.res.wake, one[:])
	}
}
