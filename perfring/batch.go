package perfring

import (
	"context"
	"sync/atomic"
	"unsafe"
)

// ReadBatch hands fn every record the rings hold, ring after ring, and
// publishes each ring's data_tail once, after the last record of its batch.
// A ring's batch is what lay below its data_head when the batch began, so a
// busy CPU cannot keep the others waiting. When every ring is empty,
// ReadBatch first blocks until a ring's fd wakes it (the kernel wakes on
// every record, or once a ring holds its wakeup watermark), Wake is called
// (then it returns 0, nil), the deadline passes (os.ErrDeadlineExceeded,
// after handing out any records below the watermark), ctx is done
// (ctx.Err()) or the Reader is closed (ErrClosed).
//
// The *Record passed to fn, and its views into the ring, are valid only
// until fn returns. fn must not call the Reader. ReadBatch returns how many
// records it handed out; records of every type are handed out, lost-record
// notifications included. A corrupt record does not end the batch: its bytes
// are skipped, the records after it are still handed out, and the first
// *CorruptError (errors.Is ErrCorrupt) is returned with the count.
func (r *Reader) ReadBatch(ctx context.Context, fn func(*Record)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return 0, ErrClosed
	}
	if ctx != nil {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
	}
	r.handBack()
	if n, err := r.drainAll(&r.batchRec, fn); n > 0 || err != nil {
		return n, err
	}
	return r.wait(ctx, &r.batchRec, fn)
}

// Drain is ReadBatch without blocking: it hands fn the records the rings
// hold now and returns how many, 0 when every ring is empty.
func (r *Reader) Drain(fn func(*Record)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return 0, ErrClosed
	}
	r.handBack()
	return r.drainAll(&r.batchRec, fn)
}

// Corrupt returns how many corrupt records the Reader's rings skipped.
func (r *Reader) Corrupt() uint64 {
	var n uint64
	for _, ring := range r.rings {
		n += ring.corrupted.Load()
	}
	return n
}

// drainAll drains every ring once, starting after the ring the last batch
// started with, so that no ring is always last.
func (r *Reader) drainAll(rec *Record, fn func(*Record)) (int, error) {
	var total int
	var first error
	n := len(r.rings)
	start := r.next
	for i := 0; i < n; i++ {
		idx := start + i
		if idx >= n {
			idx -= n
		}
		got, err := r.rings[idx].drain(rec, fn)
		total += got
		if err != nil && first == nil {
			first = err
		}
	}
	if r.next = start + 1; r.next >= n {
		r.next = 0
	}
	return total, first
}

// drain hands fn every record below the data_head loaded on entry and then
// publishes data_tail once. Framing errors resync to data_head (see next),
// which also ends the batch.
func (r *Ring) drain(rec *Record, fn func(*Record)) (int, error) {
	// Acquire: the record bytes below data_head are visible once we see it.
	r.head = atomic.LoadUint64(r.headp)
	var n int
	var first error
	for r.tail != r.head {
		if r.fastSample(rec) {
			fn(rec)
			n++
			continue
		}
		ok, err := r.next(rec)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		if !ok {
			break
		}
		fn(rec)
		n++
		// fastSample sets only the fields its samples carry: clear what
		// this record (a lost-record notification, say) left behind.
		*rec = Record{}
	}
	r.publish()
	return n, first
}

// fastSample decodes the record at the tail when it is the common case: an
// 8-byte aligned sample without a callchain that lies whole before the end
// of the data area. It reads the fixed fields at the offsets of the ring's
// layout, makes Raw a view, and moves the tail. It returns false, having
// changed nothing, for every other record, which next decodes with all its
// checks. It writes only the fields such a sample has, so the caller clears
// rec after any record next decoded.
func (r *Ring) fastSample(rec *Record) bool {
	l := &r.layout
	if l.callchain {
		return false
	}
	off := r.tail & r.mask
	avail := r.head - r.tail
	end := uint64(l.fixedEnd)
	if l.raw {
		end += 4
	}
	if off%8 != 0 || off+end > uint64(len(r.data)) || avail < end {
		return false
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(r.data)), off)
	hdr := *(*uint64)(p) // type u32, misc u16, size u16
	size := hdr >> 48
	if uint32(hdr) != RecordSample || size < end || size > avail || off+size > uint64(len(r.data)) {
		return false
	}
	if l.raw {
		n := uint64(*(*uint32)(unsafe.Add(p, l.fixedEnd)))
		if end+n > size {
			return false // a raw size past the record: next reports it
		}
		start := off + end
		rec.Raw = r.data[start : start+n : start+n]
	}
	rec.CPU, rec.Type, rec.Misc = r.cpu, RecordSample, uint16(hdr>>32)
	if l.fixedEnd > headerSize {
		l.readFixed(rec, r.data[off:off+size])
	}
	r.tail += size
	r.dirty = true
	return true
}
