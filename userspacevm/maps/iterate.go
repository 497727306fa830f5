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
	var ok bool
	switch m.kind {
	case kindArray:
		ok = it.nextArray(key, &dst)
	case kindHash:
		ok = it.nextHash(key, &dst)
	case kindStack:
		ok = it.nextStack(key, &dst)
	}
	if ok && value != nil {
		*value = dst
	}
	return ok
}

// Err is the error that ended the iteration early, if any.
func (it *Iterator) Err() error { return it.err }

func (it *Iterator) nextArray(key *[]byte, dst *[]byte) bool {
	m := it.m
	if it.next >= m.maxEntries {
		return false
	}
	idx := it.next
	it.next++
	*key = binary.LittleEndian.AppendUint32((*key)[:0], idx)
	*dst = m.copyOut(*dst, m.arrayEntry(idx))
	return true
}

// nextHash finds the next live slot and copies it under its bucket's lock,
// checking again there that it is live: a live slot's hash does not change,
// and while the lock is held it cannot be unlinked or reused.
func (it *Iterator) nextHash(key *[]byte, dst *[]byte) bool {
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
			*key = append((*key)[:0], m.slotKey(s)...)
			*dst = m.copyOut(*dst, m.slotEntry(s))
			l.Unlock()
			return true
		}
		l.Unlock()
	}
	return false
}

func (it *Iterator) nextStack(key *[]byte, dst *[]byte) bool {
	m := it.m
	for it.next <= m.mask {
		id := it.next
		it.next++
		k := binary.LittleEndian.AppendUint32((*key)[:0], id)
		if v, code := m.stackLookupCopy(*dst, k); code == 0 {
			*key, *dst = k, v
			return true
		}
	}
	return false
}
