package maps

import (
	"encoding/binary"
	"sync/atomic"
)

// Iterator walks a map's entries in slot order. It is safe while programs
// run and other goroutines update the map; like the kernel's
// BPF_MAP_GET_NEXT_KEY walk, it may then miss entries or return one twice
// (an entry deleted and inserted again may land in a slot not yet visited).
// Each entry it returns was live and is copied consistently with respect to
// other Go API and program-side updates of its key (not against a program
// writing through a value pointer).
type Iterator struct {
	m    *Map
	next uint32 // the next slot (array index, stack id) to look at
	err  error
}

// Iterate starts an iteration.
func (m *Map) Iterate() *Iterator { return &Iterator{m: m} }

// Next copies the next entry's key and value into *key and *value, reusing
// their memory, and reports whether there was one. key must not be nil;
// value may be. For
// per-CPU maps the value holds every CPU's value, each padded to 8 bytes.
func (it *Iterator) Next(key, value *[]byte) bool {
	m := it.m
	if it.err != nil {
		return false
	}
	if m.closed.Load() {
		it.err = m.opErr("iterate", ErrClosed)
		return false
	}
	var dst []byte
	if value != nil {
		dst = (*value)[:0]
	}
	k, v, ok := m.ops.next(it, (*key)[:0], dst)
	if ok {
		*key = k
		if value != nil {
			*value = v
		}
	}
	return ok
}

// Err is the error that ended the iteration early, if any.
func (it *Iterator) Err() error { return it.err }

func (it *Iterator) nextArray(key, dst []byte) ([]byte, []byte, bool) {
	m := it.m
	if it.next >= m.maxEntries {
		return nil, nil, false
	}
	idx := it.next
	it.next++
	return binary.LittleEndian.AppendUint32(key, idx), m.copyOut(dst, m.arrayEntry(idx)), true
}

// nextHash finds the next live slot and copies it under its bucket's lock,
// checking again there that it is live: a live slot's hash does not change,
// and while the lock is held it cannot be unlinked or reused.
func (it *Iterator) nextHash(key, dst []byte) ([]byte, []byte, bool) {
	m := it.m
	for used := m.h.unused.Load(); it.next < used; {
		s := m.slot(it.next)
		it.next++
		if atomic.LoadUint32(&s.State) != SlotLive {
			continue
		}
		hash := atomic.LoadUint32(&s.Hash)
		l := m.lockFor(hash)
		l.Lock()
		if atomic.LoadUint32(&s.State) == SlotLive && atomic.LoadUint32(&s.Hash)&m.lockMask == hash&m.lockMask {
			key = append(key, m.slotKey(s)...)
			dst = m.copyOut(dst, m.slotEntry(s))
			l.Unlock()
			return key, dst, true
		}
		l.Unlock()
	}
	return nil, nil, false
}

func (it *Iterator) nextStack(key, dst []byte) ([]byte, []byte, bool) {
	m := it.m
	for it.next <= m.mask {
		id := it.next
		it.next++
		k := binary.LittleEndian.AppendUint32(key, id)
		if v, code := m.stackLookupCopy(dst, k); code == 0 {
			return k, v, true
		}
	}
	return nil, nil, false
}
