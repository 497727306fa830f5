package maps

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/program"
)

var pageSize = uint64(unix.Getpagesize())

// Map is one eBPF map of the user-space engines: a block of memory off the
// Go heap laid out as Header describes, plus the Go-side state that only
// writers need (locks, free list, retired slots, registered guards).
//
// The Go API (Lookup, Update, Delete, Iterate, ...) copies keys and values
// and may be used from any goroutine while programs run. The program-side
// API (LookupAddr, UpdateFromProgram, ...) is what engines call from a run.
type Map struct {
	spec  program.MapSpec
	hdr   *Header
	block []byte
	base  unsafe.Pointer

	ops        *mapOps
	keySize    uint32
	valueSize  uint32
	maxEntries uint32
	ncpu       uint32
	nslots     uint32
	mask       uint32
	slotsOff   uint64
	slots      unsafe.Pointer
	buckets    unsafe.Pointer
	slotStride uintptr
	valueOff   uintptr
	vstride    uintptr // ValueStride
	cpuStride  uintptr

	locks    []stripe // hash and stack trace maps: lock i guards every bucket b with b&lockMask == i
	lockMask uint32
	h        *hashState
	perf     *perfState

	closed  atomic.Bool
	cleanup runtime.Cleanup
}

// stripe is a lock on its own cache line, so CPUs updating different
// buckets do not bounce one line between them.
type stripe struct {
	sync.Mutex
	_ [64 - unsafe.Sizeof(sync.Mutex{})]byte
}

const maxStripes = 1024

// New creates a map for spec. Types the engines do not implement give an
// error wrapping ErrNotSupported; specs the kernel would refuse give one
// wrapping ErrInvalidSpec. As cilium/ebpf does, a perf event array declared
// with max_entries 0 gets one entry per CPU.
func New(spec *program.MapSpec, opts *Options) (*Map, error) {
	if spec == nil {
		return nil, fmt.Errorf("create map: %w: nil spec", ErrInvalidSpec)
	}
	s := *spec
	ops := opsOf(s.Type)
	ncpu := 1
	if ops != nil && (ops.perCPU || (ops.cpuEntries && s.MaxEntries == 0)) {
		n, err := opts.numCPUs()
		if err != nil {
			return nil, fmt.Errorf("create map %q: %w", s.Name, err)
		}
		ncpu = n
	}
	if ops != nil && ops.cpuEntries && s.MaxEntries == 0 {
		s.MaxEntries = uint32(ncpu)
	}
	if err := validate(&s, ops); err != nil {
		return nil, fmt.Errorf("create map %q: %w", s.Name, err)
	}
	hdr, err := layout(&s, ops, ncpu)
	if err != nil {
		return nil, fmt.Errorf("create map %q: %w", s.Name, err)
	}
	block, err := unix.Mmap(-1, 0, int(hdr.Size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("create map %q: mmap %d bytes: %w", s.Name, hdr.Size, err)
	}
	m := newMap(&s, ops, &hdr, block, opts)
	m.cleanup = runtime.AddCleanup(m, munmap, block)
	// A data section's globals (spec.Data): entry 0 starts with them.
	if s.Data != nil {
		if err := m.Update(make([]byte, s.KeySize), s.Data, UpdateAny); err != nil {
			m.Close()
			return nil, fmt.Errorf("create map %q: initial contents: %w", s.Name, err)
		}
	}
	return m, nil
}

func munmap(block []byte) { _ = unix.Munmap(block) }

func newMap(s *program.MapSpec, ops *mapOps, hdr *Header, block []byte, opts *Options) *Map {
	base := unsafe.Pointer(unsafe.SliceData(block))
	m := &Map{
		spec:       *s,
		hdr:        (*Header)(base),
		block:      block,
		base:       base,
		ops:        ops,
		keySize:    hdr.KeySize,
		valueSize:  hdr.ValueSize,
		maxEntries: hdr.MaxEntries,
		ncpu:       hdr.NumCPUs,
		nslots:     hdr.NumSlots,
		mask:       hdr.BucketMask,
		slotsOff:   hdr.SlotsOff,
		slots:      unsafe.Add(base, hdr.SlotsOff),
		slotStride: uintptr(hdr.SlotStride),
		valueOff:   uintptr(hdr.ValueOffset),
		vstride:    uintptr(hdr.ValueStride),
		cpuStride:  uintptr(hdr.PerCPUStride),
	}
	*m.hdr = *hdr
	ops.init(m, opts)
	return m
}

func (m *Map) initLocks() {
	n := min(uint64(m.mask)+1, maxStripes)
	m.locks = make([]stripe, n)
	m.lockMask = uint32(n - 1)
}

// lockFor is the lock guarding the bucket of hash (or stack id) h.
func (m *Map) lockFor(h uint32) *sync.Mutex { return &m.locks[h&m.lockMask].Mutex }

// Close unmaps the block. Runners using the map must be closed first: after
// Close, addresses into the block are invalid. Closing twice is a no-op.
func (m *Map) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	m.cleanup.Stop()
	if m.perf != nil {
		m.perf.close()
	}
	if err := unix.Munmap(m.block); err != nil {
		return m.opErr("close", err)
	}
	return nil
}

// Spec returns a copy of the spec the map was made from (with a perf event
// array's max_entries filled in).
func (m *Map) Spec() *program.MapSpec {
	s := m.spec
	return &s
}

// Layout returns a copy of the block's header.
func (m *Map) Layout() Header { return *m.hdr }

// NumCPUs is the number of values an entry holds: the CPUs of a per-CPU
// map, 1 otherwise.
func (m *Map) NumCPUs() int { return int(m.ncpu) }

// Len is the number of entries: live entries of a hash map, stored stacks
// of a stack trace map, max_entries of an array, 0 for a perf event array.
func (m *Map) Len() int { return m.ops.length(m) }

// checkKey checks the Go API's arguments.
func (m *Map) checkKey(op string, key []byte) error {
	if m.closed.Load() {
		return m.opErr(op, ErrClosed)
	}
	if len(key) != int(m.keySize) {
		return m.opErr(op, fmt.Errorf("key is %d bytes, want %d: %w", len(key), m.keySize, unix.EINVAL))
	}
	return nil
}

// Lookup returns a copy of the key's value. For per-CPU maps it returns
// every CPU's value, each padded to 8 bytes, as the kernel's
// BPF_MAP_LOOKUP_ELEM does; LookupPerCPU splits them.
func (m *Map) Lookup(key []byte) ([]byte, error) {
	if err := m.checkKey("lookup", key); err != nil {
		return nil, err
	}
	v, code := m.lookupCopy(nil, key)
	return v, m.codeErr("lookup", code)
}

func (m *Map) lookupCopy(dst, key []byte) ([]byte, int64) { return m.ops.lookupCopy(m, dst, key) }

// Update sets the key's value; for per-CPU maps every CPU's value.
func (m *Map) Update(key, value []byte, flags UpdateFlags) error {
	if err := m.checkKey("update", key); err != nil {
		return err
	}
	if len(value) != int(m.valueSize) {
		return m.opErr("update", fmt.Errorf("value is %d bytes, want %d: %w", len(value), m.valueSize, unix.EINVAL))
	}
	return m.codeErr("update", m.goUpdate(key, valueSource{one: value, cpu: -1}, uint64(flags)))
}

// goUpdate is update for the Go API: when a hash map's spare slots are all
// retired, it waits for the runs holding them to end and tries again.
func (m *Map) goUpdate(key []byte, src valueSource, flags uint64) int64 {
	code := m.update(key, src, flags)
	if code == codeENOMEM && m.h != nil {
		m.waitForRuns(updateWait)
		code = m.update(key, src, flags)
	}
	return code
}

func (m *Map) update(key []byte, src valueSource, flags uint64) int64 {
	return m.ops.update(m, key, src, flags)
}

// Delete removes the key. Arrays have no delete (EINVAL, as in the kernel).
func (m *Map) Delete(key []byte) error {
	if err := m.checkKey("delete", key); err != nil {
		return err
	}
	if m.ops.kind == KindArray {
		return m.opErr("delete", fmt.Errorf("array elements cannot be deleted: %w", unix.EINVAL))
	}
	code := m.delete(key)
	if code == 0 && m.h != nil {
		m.throttleDeletes()
	}
	return m.codeErr("delete", code)
}

func (m *Map) delete(key []byte) int64 { return m.ops.delete(m, key) }

// UpdateFlags are BPF_ANY, BPF_NOEXIST and BPF_EXIST.
type UpdateFlags uint64

const (
	UpdateAny     UpdateFlags = 0 // BPF_ANY: create or replace
	UpdateNoExist UpdateFlags = 1 // BPF_NOEXIST: create only
	UpdateExist   UpdateFlags = 2 // BPF_EXIST: replace only
)
