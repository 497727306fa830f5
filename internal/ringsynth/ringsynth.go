// Package ringsynth writes perf ring buffers in memory the way the kernel
// does, so that readers (perfring, the monitor's pipeline) can be tested and
// benchmarked without a kernel: anonymous shared memory laid out as
// struct perf_event_mmap_page plus data pages, an eventfd standing in for
// the perf fd, and a Writer that follows kernel/events/ring_buffer.c in
// non-overwrite mode.
package ringsynth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// HeaderSize is sizeof(struct perf_event_header).
const HeaderSize = 8

// LostRecordSize is the size of a PERF_RECORD_LOST record without sample_id.
const LostRecordSize = HeaderSize + 16

// Ring is a synthetic perf mmap and its writer.
type Ring struct {
	Mem []byte // the whole mapping: meta page, then the data area
	FD  int    // eventfd the writer signals, as the kernel wakes a perf fd
	*Writer
}

// New maps a ring of dataPages data pages whose head and tail start at pos.
// When legacy is set, data_offset and data_size stay zero, as before Linux
// 4.1, and readers must fall back to the page size.
func New(dataPages int, pos uint64, legacy bool) (*Ring, error) {
	page := os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, (1+dataPages)*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("ringsynth: mmap %d pages: %w", 1+dataPages, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("ringsynth: eventfd: %w", err)
	}
	meta := (*unix.PerfEventMmapPage)(unsafe.Pointer(&mem[0]))
	if !legacy {
		meta.Data_offset, meta.Data_size = uint64(page), uint64(dataPages*page)
	}
	meta.Data_head, meta.Data_tail = pos, pos
	w := &Writer{
		Data:  mem[page : page+dataPages*page],
		headp: &meta.Data_head,
		tailp: &meta.Data_tail,
		Head:  pos,
		fd:    efd,
	}
	return &Ring{Mem: mem, FD: efd, Writer: w}, nil
}

// Close unmaps the memory and closes the eventfd.
func (r *Ring) Close() error {
	return errors.Join(unix.Close(r.FD), unix.Munmap(r.Mem))
}

// Writer writes records as kernel/events/ring_buffer.c does without
// overwrite: free space is checked against data_tail, bytes go at head
// modulo the size and wrap, data_head is published with a release store
// after the bytes, and the fd is signalled. A record that does not fit is
// dropped and counted; the count goes out as PERF_RECORD_LOST{id, lost} in
// front of the next record that fits together with it.
type Writer struct {
	Data   []byte // the data area
	Head   uint64 // where the next byte goes, not yet published until Commit
	ID     uint64 // event id written in PERF_RECORD_LOST
	NoWake bool   // do not signal the fd (records below the watermark)
	Total  uint64 // records dropped in all

	headp, tailp *uint64
	fd           int
	dropped      uint64 // dropped since the last PERF_RECORD_LOST
}

// Write emits rec (a whole record, header included) and reports whether it
// made it into the ring.
func (w *Writer) Write(rec []byte) bool {
	need := uint64(len(rec))
	if w.dropped > 0 {
		need += LostRecordSize
	}
	if w.Free() < need {
		w.dropped++
		w.Total++
		return false
	}
	if w.dropped > 0 {
		w.Put(LostRecord(w.ID, w.dropped))
		w.dropped = 0
	}
	w.Put(rec)
	w.Commit()
	return true
}

// FlushLost emits the pending PERF_RECORD_LOST alone, if there is space.
// The kernel waits for the next record instead; tests use this to account
// for every record at the end.
func (w *Writer) FlushLost() bool {
	if w.dropped == 0 {
		return true
	}
	if w.Free() < LostRecordSize {
		return false
	}
	w.Put(LostRecord(w.ID, w.dropped))
	w.dropped = 0
	w.Commit()
	return true
}

// Free loads data_tail (the kernel's READ_ONCE plus smp_mb, pairing with
// the reader's release store) and returns the free bytes.
func (w *Writer) Free() uint64 {
	return uint64(len(w.Data)) - (w.Head - atomic.LoadUint64(w.tailp))
}

// Put copies b at Head, wrapping around the end of the data area, without
// publishing it. Corruption tests use it to write arbitrary bytes.
func (w *Writer) Put(b []byte) {
	off := w.Head % uint64(len(w.Data))
	n := copy(w.Data[off:], b)
	copy(w.Data, b[n:])
	w.Head += uint64(len(b))
}

// Commit publishes data_head and signals the reader.
func (w *Writer) Commit() {
	atomic.StoreUint64(w.headp, w.Head)
	if !w.NoWake {
		w.Wake()
	}
}

// Wake signals the fd, as the kernel's wakeup does.
func (w *Writer) Wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(w.fd, one[:])
}

// Rewind moves an idle ring (everything read) to position pos: data_head,
// data_tail and Head.
func (w *Writer) Rewind(pos uint64) {
	atomic.StoreUint64(w.headp, pos)
	atomic.StoreUint64(w.tailp, pos)
	w.Head = pos
}

// Header encodes a perf_event_header with room for size bytes.
func Header(typ uint32, misc uint16, size int) []byte {
	b := make([]byte, HeaderSize, max(size, HeaderSize))
	binary.NativeEndian.PutUint32(b, typ)
	binary.NativeEndian.PutUint16(b[4:], misc)
	binary.NativeEndian.PutUint16(b[6:], uint16(size))
	return b
}

// LostRecord encodes PERF_RECORD_LOST{id, lost}.
func LostRecord(id, lost uint64) []byte {
	b := Header(unix.PERF_RECORD_LOST, 0, LostRecordSize)
	b = binary.NativeEndian.AppendUint64(b, id)
	return binary.NativeEndian.AppendUint64(b, lost)
}
