package maps

import (
	"fmt"

	"github.com/dropmon/dropmon/program"
)

// Header is the start of every map's block. New fills it once; after that
// it is read-only, so generated code may read it without synchronisation.
// Machine code addresses its fields with the HeaderOff* constants.
type Header struct {
	Magic        uint32 // HeaderMagic: lets a debugger or a JIT assertion recognise a block
	Type         uint32 // the kernel's BPF_MAP_TYPE_* number
	KeySize      uint32 // bytes of a key, as declared
	ValueSize    uint32 // bytes of one value, as declared
	MaxEntries   uint32 // as declared (for a perf event array with 0, the number of CPUs)
	Flags        uint32 // the declared map flags
	NumCPUs      uint32 // values per entry: the possible CPUs for per-CPU maps, 1 otherwise
	NumSlots     uint32 // slots in the slot array
	BucketMask   uint32 // buckets-1 for hash and stack trace maps (a power of two less one), else 0
	KeyOffset    uint32 // offset of the key in a hash slot (SlotOffKey), else 0
	ValueOffset  uint32 // offset of the first value in a slot
	ValueStride  uint32 // ValueSize rounded up to 8
	SlotStride   uint64 // bytes from one slot (or array element) to the next
	PerCPUStride uint64 // bytes from CPU c's value to CPU c+1's value of one entry; 0 when not per-CPU
	BucketsOff   uint64 // offset of the bucket array (uint32 slot index+1, 0 = empty), 0 when none
	SlotsOff     uint64 // offset of slot 0 (array element 0)
	Size         uint64 // bytes mapped for the block
}

// The Go/machine-code contract: offsets of the Header fields, checked
// against unsafe.Offsetof by TestLayoutOffsets. They are literal numbers on
// purpose: a change to Header that moves a field fails the test instead of
// silently moving what generated code reads.
const (
	HeaderOffMagic        = 0
	HeaderOffType         = 4
	HeaderOffKeySize      = 8
	HeaderOffValueSize    = 12
	HeaderOffMaxEntries   = 16
	HeaderOffFlags        = 20
	HeaderOffNumCPUs      = 24
	HeaderOffNumSlots     = 28
	HeaderOffBucketMask   = 32
	HeaderOffKeyOffset    = 36
	HeaderOffValueOffset  = 40
	HeaderOffValueStride  = 44
	HeaderOffSlotStride   = 48
	HeaderOffPerCPUStride = 56
	HeaderOffBucketsOff   = 64
	HeaderOffSlotsOff     = 72
	HeaderOffSize         = 80

	// HeaderSize is the space reserved for the header: whatever follows
	// starts on its own cache line.
	HeaderSize = 128

	// HeaderMagic is "DMAP" read as a little-endian uint32.
	HeaderMagic = 0x50414d44
)

// SlotHeader starts every hash map slot; the key follows at SlotOffKey and
// the value(s) at Header.ValueOffset.
type SlotHeader struct {
	State uint32 // SlotFree, SlotLive or SlotDeleted; loaded atomically by lookups
	Hash  uint32 // Hash(key); compared before the key
	Next  uint32 // next slot in the bucket's chain as index+1, 0 = end of chain
	Ref   uint32 // LRU reference bit: lookups store 1 if it is 0; the clock hand clears it
}

// Offsets in a hash slot, checked against unsafe.Offsetof.
const (
	SlotOffState = 0
	SlotOffHash  = 4
	SlotOffNext  = 8
	SlotOffRef   = 12
	SlotOffKey   = 16
)

// Slot states. A lookup returns a slot only in state SlotLive.
const (
	SlotFree    = 0 // on the free list, never used, or being filled by an insert
	SlotLive    = 1 // linked into its bucket's chain
	SlotDeleted = 2 // unlinked, waiting until no runner can hold a pointer into it
)

// StackHeader starts every stack trace map slot; Nr instruction pointers
// (uint64) follow at StackOffIPs.
type StackHeader struct {
	Hash uint32 // hash of the stored ips
	Nr   uint32 // number of stored ips; 0 = empty
}

// Offsets in a stack trace slot, checked against unsafe.Offsetof.
const (
	StackOffHash = 0
	StackOffNr   = 4
	StackOffIPs  = 8
)

func roundUp(n, to uint64) uint64 { return (n + to - 1) / to * to }

func roundUpPow2(n uint64) uint64 {
	p := uint64(1)
	for p < n {
		p <<= 1
	}
	return p
}

// maxBlockSize bounds a map's block. Pages are only touched when used
// (MAP_NORESERVE), but address space and page tables are not free.
const maxBlockSize = 1 << 40

// slack is how many slots a hash map has beyond max_entries, so that inserts
// find a free slot while deleted ones wait for runners to move on.
func slack(maxEntries uint64) uint64 { return max(64, maxEntries/8) }

// layout computes the header of a validated spec: the fields every type
// shares here, the rest in the type's ops.layout.
func layout(spec *program.MapSpec, ops *mapOps, ncpu int) (Header, error) {
	h := Header{
		Magic:       HeaderMagic,
		Type:        uint32(spec.Type),
		KeySize:     spec.KeySize,
		ValueSize:   spec.ValueSize,
		MaxEntries:  spec.MaxEntries,
		Flags:       spec.Flags,
		NumCPUs:     1,
		ValueStride: uint32(roundUp(uint64(spec.ValueSize), 8)),
		SlotsOff:    HeaderSize,
	}
	if ops.perCPU {
		h.NumCPUs = uint32(ncpu)
	}
	size, err := ops.layout(&h, ops.perCPU)
	if err != nil {
		return Header{}, err
	}
	if size > maxBlockSize {
		return Header{}, fmt.Errorf("%w: map needs %d bytes, more than the limit of %d", ErrInvalidSpec, size, uint64(maxBlockSize))
	}
	h.Size = roundUp(size, pageSize)
	return h, nil
}

// layoutArray returns the size of an array's block.
func layoutArray(h *Header, perCPU bool) (uint64, error) {
	maxE, vstride, ncpus := uint64(h.MaxEntries), uint64(h.ValueStride), uint64(h.NumCPUs)
	h.NumSlots = h.MaxEntries
	h.SlotStride = vstride
	if perCPU {
		// CPU-major: each CPU's values are contiguous and start on
		// their own cache line, so CPUs do not share lines.
		h.PerCPUStride = roundUp(maxE*vstride, 64)
	}
	return h.SlotsOff + ncpus*max(h.PerCPUStride, maxE*vstride), nil
}

// layoutHash returns the size of a hash map's block.
func layoutHash(h *Header, perCPU bool) (uint64, error) {
	maxE, vstride, ncpus := uint64(h.MaxEntries), uint64(h.ValueStride), uint64(h.NumCPUs)
	nslots := maxE + slack(maxE)
	if nslots >= 1<<32-1 {
		return 0, fmt.Errorf("%w: max_entries %d is too large", ErrInvalidSpec, maxE)
	}
	nbuckets := roundUpPow2(maxE)
	h.NumSlots = uint32(nslots)
	h.BucketMask = uint32(nbuckets - 1)
	h.KeyOffset = SlotOffKey
	h.ValueOffset = uint32(SlotOffKey + roundUp(uint64(h.KeySize), 8))
	if perCPU {
		h.PerCPUStride = vstride
	}
	h.SlotStride = uint64(h.ValueOffset) + ncpus*vstride
	h.BucketsOff = HeaderSize
	h.SlotsOff = roundUp(HeaderSize+nbuckets*4, 64)
	return h.SlotsOff + nslots*h.SlotStride, nil
}

// layoutStack returns the size of a stack trace map's block.
func layoutStack(h *Header, _ bool) (uint64, error) {
	nbuckets := roundUpPow2(uint64(h.MaxEntries))
	if nbuckets > 1<<31 {
		return 0, fmt.Errorf("%w: max_entries %d is too large", ErrInvalidSpec, h.MaxEntries)
	}
	h.NumSlots = uint32(nbuckets)
	h.BucketMask = uint32(nbuckets - 1)
	h.ValueOffset = StackOffIPs
	h.SlotStride = StackOffIPs + uint64(h.ValueSize)
	return h.SlotsOff + nbuckets*h.SlotStride, nil
}

// layoutPerf: a perf event array is its header.
func layoutPerf(h *Header, _ bool) (uint64, error) { return h.SlotsOff, nil }
