package perfring

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Offsets in struct perf_event_mmap_page (include/uapi/linux/perf_event.h).
const (
	offDataHead   = 1024
	offDataTail   = 1032
	offDataOffset = 1040
	offDataSize   = 1048
)

// Ring states: free, claimed by an open Reader, closed.
const (
	ringFree int32 = iota
	ringInReader
	ringClosed
)

// Ring is one CPU's mmap'd perf ring buffer: a meta page (struct
// perf_event_mmap_page) followed by a power-of-two data area. It does not own
// its fd. A Ring is read by at most one Reader at a time.
type Ring struct {
	fd, cpu    int
	sampleType uint64
	layout     sampleLayout

	mem   []byte  // the whole mapping
	data  []byte  // the data area, len is a power of two
	mask  uint64  // len(data) - 1
	headp *uint64 // &meta.Data_head: written by the kernel, loaded with acquire
	tailp *uint64 // &meta.Data_tail: written by us, stored with release

	// Reader state, guarded by the owning Reader's mutex.
	head    uint64   // last data_head loaded
	tail    uint64   // position just past the last record handed out
	dirty   bool     // tail not yet published to data_tail
	scratch []byte   // reassembles records that wrap, 8-byte aligned
	chain   []uint64 // callchains that are not 8-byte aligned in the ring

	lost      atomic.Uint64 // sum of PERF_RECORD_LOST counts
	corrupted atomic.Uint64 // corrupt records skipped
	state     atomic.Int32  // ringFree, ringInReader or ringClosed
	unmap     bool          // Close munmaps mem
	cleanup   runtime.Cleanup
}

// NewRing maps the ring of a perf event opened on cpu: one meta page and
// dataPages data pages, which must be a power of two. sampleType is the
// event's perf_event_attr.sample_type; it fixes how samples are decoded.
func NewRing(fd int, cpu int, dataPages int, sampleType uint64) (*Ring, error) {
	if dataPages < 1 || dataPages&(dataPages-1) != 0 {
		return nil, fmt.Errorf("perfring: cpu %d: %d data pages: must be a power of two >= 1", cpu, dataPages)
	}
	if _, err := checkSampleType(sampleType); err != nil {
		return nil, fmt.Errorf("perfring: cpu %d: %w", cpu, err)
	}
	pageSize := os.Getpagesize()
	mem, err := unix.Mmap(fd, 0, (1+dataPages)*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, mmapError(cpu, 1+dataPages, pageSize, err)
	}
	r, err := NewRingFromMemory(mem, fd, cpu, sampleType)
	if err != nil {
		_ = unix.Munmap(mem)
		return nil, err
	}
	r.unmap = true
	// A net under Close: the mapping goes away with an unreachable Ring.
	r.cleanup = runtime.AddCleanup(r, func(m []byte) { _ = unix.Munmap(m) }, mem)
	return r, nil
}

// NewRingFromMemory makes a Ring over mem, laid out as a perf mmap: meta page
// first, data area where data_offset/data_size say (page size and the rest of
// mem when they are zero, as before Linux 4.1). The caller owns mem and fd:
// Close unmaps nothing. fd is what a Reader polls (an eventfd, say). Tests,
// benchmarks and rings mapped by other means use it; NewRing maps a perf
// event's ring itself.
func NewRingFromMemory(mem []byte, fd, cpu int, sampleType uint64) (*Ring, error) {
	_, err := checkSampleType(sampleType)
	if err != nil {
		return nil, fmt.Errorf("perfring: cpu %d: %w", cpu, err)
	}
	pageSize := os.Getpagesize()
	if len(mem) < 2*pageSize {
		return nil, fmt.Errorf("perfring: cpu %d: ring of %d bytes: want a meta page and at least one data page", cpu, len(mem))
	}
	if uintptr(unsafe.Pointer(&mem[0]))%8 != 0 {
		return nil, fmt.Errorf("perfring: cpu %d: ring memory is not 8-byte aligned", cpu)
	}
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&mem[0]))
	off, size := meta.Data_offset, meta.Data_size
	if size == 0 {
		off, size = uint64(pageSize), uint64(len(mem)-pageSize)
	}
	if size&(size-1) != 0 || off%8 != 0 || off < offDataSize+8 || off > uint64(len(mem)) || size > uint64(len(mem))-off {
		return nil, fmt.Errorf("perfring: cpu %d: data area at %d of %d bytes does not fit a %d-byte mapping as a power of two",
			cpu, off, size, len(mem))
	}
	r := &Ring{
		fd:         fd,
		cpu:        cpu,
		sampleType: sampleType,
		layout:     newSampleLayout(sampleType),
		mem:        mem,
		data:       mem[off : off+size : off+size],
		mask:       size - 1,
		headp:      &meta.Data_head,
		tailp:      &meta.Data_tail,
	}
	r.tail = atomic.LoadUint64(r.tailp)
	r.head = r.tail
	return r, nil
}

// CPU returns the CPU the ring belongs to.
func (r *Ring) CPU() int { return r.cpu }

// FD returns the perf event fd the ring was mapped from.
func (r *Ring) FD() int { return r.fd }

// Lost returns how many records the kernel dropped on this ring, as reported
// by the PERF_RECORD_LOST records read so far. It is safe to call from any
// goroutine.
func (r *Ring) Lost() uint64 { return r.lost.Load() }

// Close unmaps the ring. It fails while an open Reader still reads the ring:
// close the Reader first. Close is idempotent.
func (r *Ring) Close() error {
	if !r.state.CompareAndSwap(ringFree, ringClosed) {
		if r.state.Load() == ringClosed {
			return nil
		}
		return fmt.Errorf("perfring: cpu %d: close ring: still read by an open reader (close the reader first)", r.cpu)
	}
	if !r.unmap {
		return nil
	}
	r.cleanup.Stop()
	if err := unix.Munmap(r.mem); err != nil {
		return fmt.Errorf("perfring: cpu %d: munmap ring: %w", r.cpu, err)
	}
	return nil
}

// claim marks the ring as read by a Reader.
func (r *Ring) claim() error {
	if r.state.CompareAndSwap(ringFree, ringInReader) {
		return nil
	}
	if r.state.Load() == ringClosed {
		return fmt.Errorf("perfring: cpu %d: ring is closed", r.cpu)
	}
	return fmt.Errorf("perfring: cpu %d: ring is already read by another reader", r.cpu)
}

// release undoes claim.
func (r *Ring) release() { r.state.Store(ringFree) }

// publish hands the space of the records read so far back to the kernel.
// The release store orders our reads of those records before the kernel's
// next writes over them (perf_event_open(2), "data_tail").
func (r *Ring) publish() {
	if r.dirty {
		atomic.StoreUint64(r.tailp, r.tail)
		r.dirty = false
	}
}

// next reads the record at the ring's tail into rec and returns true, or
// returns false when the ring is empty. The record's tail is not published
// until the next publish, so views into the ring stay valid until then.
func (r *Ring) next(rec *Record) (bool, error) {
	if r.tail == r.head {
		// Acquire: the record bytes below data_head are visible once we see it.
		r.head = atomic.LoadUint64(r.headp)
		if r.tail == r.head {
			r.publish()
			return false, nil
		}
	}
	off := r.tail & r.mask
	avail := r.head - r.tail
	if avail > uint64(len(r.data)) {
		return false, r.resync(off, fmt.Sprintf("data_head %d is %d bytes past data_tail %d in a %d-byte ring",
			r.head, int64(avail), r.tail, len(r.data)))
	}
	if avail < headerSize {
		return false, r.resync(off, fmt.Sprintf("%d bytes before data_head, less than a header", avail))
	}
	size := uint64(r.headerSize(off))
	switch {
	case size < headerSize:
		return false, r.resync(off, fmt.Sprintf("header size %d is less than %d", size, headerSize))
	case size > uint64(len(r.data)):
		return false, r.resync(off, fmt.Sprintf("header size %d exceeds the %d-byte data area", size, len(r.data)))
	case size > avail:
		return false, r.resync(off, fmt.Sprintf("header size %d runs past data_head (%d bytes available)", size, avail))
	}
	b := r.record(off, size)
	r.tail += size
	r.dirty = true
	if err := r.decode(rec, b, off); err != nil {
		// The framing is intact, so only this record is skipped; it is
		// not handed out, so its space goes back at once.
		r.publish()
		return false, err
	}
	return true, nil
}

// headerSize reads perf_event_header.size of the record at off. Kernel
// records are 8-byte aligned, so the header never wraps, but a corrupt tail
// could make it.
func (r *Ring) headerSize(off uint64) uint16 {
	if off+headerSize <= uint64(len(r.data)) {
		return binary.NativeEndian.Uint16(r.data[off+6:])
	}
	var h [headerSize]byte
	n := copy(h[:], r.data[off:])
	copy(h[n:], r.data)
	return binary.NativeEndian.Uint16(h[6:])
}

// record returns the size bytes at off: a view of the ring when they are
// contiguous, else a copy into the scratch buffer, reassembled across the end
// of the data area.
func (r *Ring) record(off, size uint64) []byte {
	end := off + size
	if end <= uint64(len(r.data)) {
		return r.data[off:end:end]
	}
	if uint64(len(r.scratch)) < size {
		r.scratch = alignedBytes(size)
	}
	b := r.scratch[:size:size]
	n := copy(b, r.data[off:])
	copy(b[n:], r.data)
	return b
}

// resync skips to data_head after corruption: the framing is lost, so the
// only known record boundary is where the kernel will write next.
func (r *Ring) resync(off uint64, reason string) error {
	head := atomic.LoadUint64(r.headp)
	skipped := head - r.tail
	r.head, r.tail, r.dirty = head, head, true
	r.publish()
	return r.corrupt(off, skipped, reason)
}

// alignedBytes returns n bytes (rounded up to a power of two, at least 256)
// backed by []uint64, so callchains in it can be viewed as []uint64.
func alignedBytes(n uint64) []byte {
	c := uint64(256)
	for c < n {
		c *= 2
	}
	words := make([]uint64, c/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), c)
}
