package userspacevm

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/dropmon/dropmon/program"
)

// memSizes is program.Op.MemSize as a table, for the loads and stores.
var memSizes = func() (t [program.NumOps]uint8) {
	for op := range program.NumOps {
		t[op] = uint8(op.MemSize())
	}
	return t
}()

// load performs an LDX, zero- or sign-extending; false when no region
// allows the read.
func (it *Interpreter) load(r *regs, in *program.Insn) bool {
	p := it.mem.Pointer(r[in.Src]+uint64(in.Off), uint64(memSizes[in.Op]), false)
	if p == nil {
		return false
	}
	var v uint64
	switch in.Op {
	case program.LdxB:
		v = uint64(*(*uint8)(p))
	case program.LdxH:
		v = uint64(*(*uint16)(p))
	case program.LdxW:
		v = uint64(*(*uint32)(p))
	case program.LdxDW:
		v = *(*uint64)(p)
	case program.LdxSB:
		v = uint64(*(*int8)(p))
	case program.LdxSH:
		v = uint64(*(*int16)(p))
	case program.LdxSW:
		v = uint64(*(*int32)(p))
	}
	r[in.Dst] = v
	return true
}

// store performs an ST or STX of v's low bytes at base+off; false when no
// region allows the write.
func (it *Interpreter) store(base uint64, in *program.Insn, v uint64) bool {
	size := memSizes[in.Op]
	p := it.mem.Pointer(base+uint64(in.Off), uint64(size), true)
	if p == nil {
		return false
	}
	switch size {
	case 1:
		*(*uint8)(p) = uint8(v)
	case 2:
		*(*uint16)(p) = uint16(v)
	case 4:
		*(*uint32)(p) = uint32(v)
	default:
		*(*uint64)(p) = v
	}
	return true
}

// fault builds the *AccessError for a load or store the regions refused.
func (it *Interpreter) fault(pc int, in *program.Insn, r *regs) error {
	base, write := r[in.Dst], true
	if in.Op.IsLoadX() {
		base, write = r[in.Src], false
	}
	addr := base + uint64(in.Off)
	if err := it.mem.Check(pc, "", addr, uint64(memSizes[in.Op]), write); err != nil {
		return err
	}
	return &RunError{PC: pc, Err: fmt.Errorf("BUG: access at %#x refused, then allowed", addr)}
}

// packetLoad performs LD_ABS or LD_IND over the run's bytes: a big-endian
// value zero-extended into R0. The offset is imm (plus src for LD_IND) as
// a 32-bit signed sum, as in the kernel; false when it is outside the
// bytes, which ends the program with R0 = 0.
func (it *Interpreter) packetLoad(r *regs, in *program.Insn) (uint64, bool) {
	off := int64(int32(in.Imm))
	if in.Op >= program.LdIndB {
		off = int64(int32(uint32(in.Imm) + uint32(r[in.Src])))
	}
	size := int64(memSizes[in.Op])
	if off < 0 || off+size > int64(len(it.pkt)) {
		return 0, false
	}
	b := it.pkt[off : off+size]
	switch size {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), true
	}
	return uint64(binary.BigEndian.Uint32(b)), true
}

// atomic performs an atomic read-modify-write with sync/atomic on the
// region's memory. The address must be aligned to the operation's size:
// the kernel's verifier insists on it, and not every architecture (nor
// sync/atomic on every one) supports misaligned atomics.
func (it *Interpreter) atomic(r *regs, in *program.Insn, pc int) error {
	addr := r[in.Dst] + uint64(in.Off)
	size := uint64(memSizes[in.Op])
	if addr%size != 0 {
		return &RunError{PC: pc, Err: fmt.Errorf("%s at %#x: %w", in.Op, addr, ErrMisaligned)}
	}
	p := it.mem.Pointer(addr, size, true)
	if p == nil {
		return it.mem.Check(pc, "", addr, size, true)
	}
	if size == 4 {
		atomic32(r, in, (*uint32)(p))
	} else {
		atomic64(r, in, (*uint64)(p))
	}
	return nil
}

// atomic64: the FETCH forms put the old value in src; cmpxchg compares
// with R0, stores src on a match and always puts the old value in R0.
func atomic64(r *regs, in *program.Insn, p *uint64) {
	v := r[in.Src]
	switch in.Op {
	case program.AtomicAdd64:
		atomic.AddUint64(p, v)
	case program.AtomicOr64:
		atomic.OrUint64(p, v)
	case program.AtomicAnd64:
		atomic.AndUint64(p, v)
	case program.AtomicXor64:
		xor64(p, v)
	case program.AtomicFetchAdd64:
		r[in.Src] = atomic.AddUint64(p, v) - v
	case program.AtomicFetchOr64:
		r[in.Src] = atomic.OrUint64(p, v)
	case program.AtomicFetchAnd64:
		r[in.Src] = atomic.AndUint64(p, v)
	case program.AtomicFetchXor64:
		r[in.Src] = xor64(p, v)
	case program.AtomicXchg64:
		r[in.Src] = atomic.SwapUint64(p, v)
	case program.AtomicCmpXchg64:
		r[0] = cmpxchg64(p, r[0], v)
	}
}

// atomic32 is atomic64 on the low halves; old values are zero-extended.
func atomic32(r *regs, in *program.Insn, p *uint32) {
	v := uint32(r[in.Src])
	switch in.Op {
	case program.AtomicAdd32:
		atomic.AddUint32(p, v)
	case program.AtomicOr32:
		atomic.OrUint32(p, v)
	case program.AtomicAnd32:
		atomic.AndUint32(p, v)
	case program.AtomicXor32:
		xor32(p, v)
	case program.AtomicFetchAdd32:
		r[in.Src] = uint64(atomic.AddUint32(p, v) - v)
	case program.AtomicFetchOr32:
		r[in.Src] = uint64(atomic.OrUint32(p, v))
	case program.AtomicFetchAnd32:
		r[in.Src] = uint64(atomic.AndUint32(p, v))
	case program.AtomicFetchXor32:
		r[in.Src] = uint64(xor32(p, v))
	case program.AtomicXchg32:
		r[in.Src] = uint64(atomic.SwapUint32(p, v))
	case program.AtomicCmpXchg32:
		r[0] = uint64(cmpxchg32(p, uint32(r[0]), v))
	}
}

// xor64 is the atomic xor sync/atomic lacks; it returns the old value.
func xor64(p *uint64, v uint64) uint64 {
	for {
		old := atomic.LoadUint64(p)
		if atomic.CompareAndSwapUint64(p, old, old^v) {
			return old
		}
	}
}

func xor32(p *uint32, v uint32) uint32 {
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, old^v) {
			return old
		}
	}
}

// cmpxchg64 returns the value it found, whether or not it stored.
func cmpxchg64(p *uint64, expect, v uint64) uint64 {
	for {
		old := atomic.LoadUint64(p)
		if old != expect || atomic.CompareAndSwapUint64(p, old, v) {
			return old
		}
	}
}

func cmpxchg32(p *uint32, expect, v uint32) uint32 {
	for {
		old := atomic.LoadUint32(p)
		if old != expect || atomic.CompareAndSwapUint32(p, old, v) {
			return old
		}
	}
}
