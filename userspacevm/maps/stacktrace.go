package maps

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

// Stack trace maps hold call chains for bpf_get_stackid: a power-of-two
// number of slots [StackHeader | ips], the stack id being the slot number,
// hash & BucketMask, as in the kernel's stackmap.c. Programs cannot read
// them (the kernel's lookup from a program fails too); user space reads the
// ips by id. Each slot is written in place under its stripe lock.

// bpf_get_stackid flags.
const (
	flagSkipMask     = 0xff    // BPF_F_SKIP_FIELD_MASK: frames to skip
	flagUserStack    = 1 << 8  // BPF_F_USER_STACK
	flagFastStackCmp = 1 << 9  // BPF_F_FAST_STACK_CMP: compare by hash only
	flagReuseStackID = 1 << 10 // BPF_F_REUSE_STACKID: overwrite on collision
)

// perf's callchain context markers (PERF_CONTEXT_*) are the values from
// (u64)-4095 up; user-space frames follow PERF_CONTEXT_USER.
const (
	perfContextMax       = ^uint64(4095) + 1 // (u64)-4095
	perfContextUser      = ^uint64(512) + 1  // (u64)-512
	perfContextGuestUser = ^uint64(2560) + 1 // (u64)-2560
)

func (m *Map) stackSlot(id uint32) *StackHeader {
	return (*StackHeader)(unsafe.Add(m.slots, uintptr(id)*m.slotStride))
}

func (m *Map) stackIPs(s *StackHeader) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Add(unsafe.Pointer(s), StackOffIPs)), m.valueSize/8)
}

// GetStackID is bpf_get_stackid for a kernel call chain as perf samples
// give it: context markers are dropped and user frames ignored; then, as in
// the kernel, flags&0xff frames are skipped, at most value_size/8 frames are
// kept, and the id is the hash of the frames masked to the slot count. It
// returns the id, or -EINVAL (unknown flags), -EFAULT (no frames left, or a
// user stack asked for: samples here carry kernel chains only) or -EEXIST
// (another stack holds the id and BPF_F_REUSE_STACKID is not set).
func (m *Map) GetStackID(callchain []uint64, flags uint64) int64 {
	if m.ops.kind != KindStackTrace ||
		flags&^(flagSkipMask|flagUserStack|flagFastStackCmp|flagReuseStackID) != 0 {
		return codeEINVAL
	}
	if flags&flagUserStack != 0 {
		return codeEFAULT
	}
	skip := int(flags & flagSkipMask)
	var buf [perfMaxStack]uint64
	n := kernelFrames(callchain, buf[:min(int(m.valueSize/8)+skip, perfMaxStack)])
	if n <= skip {
		return codeEFAULT
	}
	ips := buf[skip:n]
	hash := hashWords(ips)
	id := hash & m.mask
	l := m.lockFor(id)
	l.Lock()
	defer l.Unlock()
	s := m.stackSlot(id)
	matches := s.Nr != 0 && s.Hash == hash
	if matches && flags&flagFastStackCmp != 0 {
		return int64(id)
	}
	stored := m.stackIPs(s)
	if matches && int(s.Nr) == len(ips) && slices.Equal(stored[:s.Nr], ips) {
		return int64(id)
	}
	if s.Nr != 0 && flags&flagReuseStackID == 0 {
		return codeEEXIST
	}
	copy(stored, ips)
	s.Hash, s.Nr = hash, uint32(len(ips))
	return int64(id)
}

// kernelFrames copies the kernel frames of a perf call chain into out and
// returns how many it copied.
func kernelFrames(chain, out []uint64) int {
	n := 0
	for _, ip := range chain {
		if ip >= perfContextMax {
			if ip == perfContextUser || ip == perfContextGuestUser {
				break
			}
			continue
		}
		if n == len(out) {
			break
		}
		out[n] = ip
		n++
	}
	return n
}

// stackID decodes a stack trace map key.
func (m *Map) stackID(key []byte) (uint32, bool) {
	id := binary.LittleEndian.Uint32(key)
	return id, id <= m.mask
}

// stackLookupCopy appends the stored ips (little-endian), zero-filled to
// value_size, as the kernel's bpf_stackmap_copy does.
func (m *Map) stackLookupCopy(dst, key []byte) ([]byte, int64) {
	id, ok := m.stackID(key)
	if !ok {
		return nil, codeENOENT
	}
	l := m.lockFor(id)
	l.Lock()
	defer l.Unlock()
	s := m.stackSlot(id)
	if s.Nr == 0 {
		return nil, codeENOENT
	}
	for _, ip := range m.stackIPs(s)[:s.Nr] {
		dst = binary.LittleEndian.AppendUint64(dst, ip)
	}
	return append(dst, make([]byte, int(m.valueSize)-8*int(s.Nr))...), 0
}

func (m *Map) stackDelete(key []byte) int64 {
	id, ok := m.stackID(key)
	if !ok {
		return codeENOENT
	}
	l := m.lockFor(id)
	l.Lock()
	defer l.Unlock()
	s := m.stackSlot(id)
	if s.Nr == 0 {
		return codeENOENT
	}
	s.Nr = 0
	return 0
}

func (m *Map) stackLen() int {
	n := 0
	for id := range m.mask + 1 {
		l := m.lockFor(id)
		l.Lock()
		if m.stackSlot(id).Nr != 0 {
			n++
		}
		l.Unlock()
	}
	return n
}
