//go:build amd64 && linux

package jit

import (
	"math"
	"math/bits"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// maxInlineKey is the largest key a lookup of a known hash map hashes and
// compares with unrolled code; larger keys take the generic lookup.
const maxInlineKey = 64

// emitMapLookup inlines bpf_map_lookup_elem. When the verifier saw one map
// in R1 at this call on every path (Verified.CallMaps), the code is
// specialised for that map: its layout becomes immediates and the key's
// size unrolls the hash and the comparison, as the kernel's JIT does for
// array maps. Otherwise the code finds the map's type at run time.
func (c *compiler) emitMapLookup(pc int, in *program.Insn) {
	m := c.callMap(pc)
	if m == nil {
		c.emitGenericLookup(pc, in)
		return
	}
	h := m.Layout()
	var done, null []int
	switch m.Kind() {
	case maps.KindArray:
		c.emitKnownArrayLookup(m, &h, &null)
	case maps.KindHash:
		if h.KeySize > maxInlineKey {
			c.emitGenericLookup(pc, in)
			return
		}
		c.emitKnownHashLookup(m, &h, &done, &null)
	default:
		// Stack traces and perf event arrays: the helper returns NULL,
		// as the kernel's does.
		c.emitHelperExit(pc, in)
		return
	}
	done = append(done, c.jmp32())
	for _, n := range null {
		c.patch32(n, c.pos())
	}
	c.aluRR(0, opXor, regMap[0], regMap[0])
	for _, d := range done {
		c.patch32(d, c.pos())
	}
}

// callMap returns the map R1 holds at the call at pc on every path, or nil.
func (c *compiler) callMap(pc int) *maps.Map {
	if pc >= len(c.callMaps) || c.callMaps[pc] < 0 || c.callMaps[pc] >= len(c.maps) {
		return nil
	}
	return c.maps[c.callMaps[pc]]
}

// emitKnownArrayLookup: R0 = key < MaxEntries ? slots + key*SlotStride
// (+ cpu*PerCPUStride) : 0, with the layout as immediates. It falls
// through with R0 set; the jumps to the NULL result go to null.
func (c *compiler) emitKnownArrayLookup(m *maps.Map, h *maps.Header, null *[]int) {
	key, r0 := regMap[2], regMap[0]
	c.rm(0, opMovLd, rax, key, 0) // mov eax, [key]
	c.aluRI(0, extCmp, rax, int32(h.MaxEntries))
	*null = append(*null, c.jcc32(ccAE))
	c.mulImm(rax, rax, h.SlotStride)
	if h.PerCPUStride != 0 {
		c.emitCPUOffset(h, null)
		c.aluRR(fW, opAdd, rax, rdx)
	}
	c.movabs(r0, m.Pointer()+h.SlotsOff)
	c.aluRR(fW, opAdd, r0, rax)
}

// emitCPUOffset puts cpu*PerCPUStride in RDX, or jumps to null when the
// run's CPU is not below NumCPUs (maps.LookupAddr returns 0 then).
func (c *compiler) emitCPUOffset(h *maps.Header, null *[]int) {
	c.loadCPU(rdx)
	c.aluRI(fW, extCmp, rdx, int32(h.NumCPUs))
	*null = append(*null, c.jcc32(ccAE))
	c.mulImm(rdx, rdx, h.PerCPUStride)
}

// loadCPU loads the run's CPU, which Go stores in the context only for
// code that reads it (compiled.readsCPU).
func (c *compiler) loadCPU(dst reg) {
	c.readsCPU = true
	c.load64(dst, ctxReg, offCPU)
}

// mulImm sets dst = src * k for a layout constant k: a shift when k is a
// power of two, else IMUL with an immediate (layout strides are far
// below 2^31; larger ones are multiplied through a register).
func (c *compiler) mulImm(dst, src reg, k uint64) {
	switch {
	case k != 0 && k&(k-1) == 0:
		if dst != src {
			c.movRR(fW, dst, src)
		}
		if n := bits.TrailingZeros64(k); n > 0 {
			c.shiftRI(fW, extShl, dst, uint8(n))
		}
	case k <= math.MaxInt32:
		c.imulRI(fW, dst, src, int32(k))
	default:
		c.movabs(rcx, k)
		if dst != src {
			c.movRR(fW, dst, src)
		}
		c.rr(fW, opImul, dst, rcx)
	}
}

// emitKnownHashLookup is maps' lock-free lookup (hashmap.go) for one map:
// the key's KeySize bytes hashed with unrolled words (maps.Hash), the
// bucket's chain walked comparing hash, state and the key word by word,
// then the value's address in R0 (the run's CPU's for a per-CPU map; an
// LRU entry marked referenced). The key is R2; RAX holds the hash, R9 the
// slot, and R1, R3-R5, RCX and RDX serve as scratch (the verifier proves
// R1-R5 unread after a call).
func (c *compiler) emitKnownHashLookup(m *maps.Map, h *maps.Header, done, null *[]int) {
	key, r0 := regMap[2], regMap[0]
	percpu := h.PerCPUStride != 0
	if percpu {
		// Checked first: the lookup itself has no effect to undo.
		c.emitCPUOffset(h, null)
		c.movRR(fW, regMap[1], rdx) // R1 keeps cpu*PerCPUStride
	}
	c.emitUnrolledHash(key, int(h.KeySize))

	// RCX = buckets[hash & BucketMask]: a slot index + 1, 0 = empty.
	c.movRR(0, rcx, rax)
	c.aluRI(0, extAnd, rcx, int32(h.BucketMask))
	c.shiftRI(fW, extShl, rcx, 2)
	c.movabs(rdx, m.Pointer()+h.BucketsOff)
	c.aluRR(fW, opAdd, rcx, rdx)
	c.rm(0, opMovLd, rcx, rcx, 0)
	// R10 = the address of slot -1, so that slot i-1 is R10 + i*stride.
	c.movabs(r10, m.Pointer()+h.SlotsOff-h.SlotStride)

	chain := c.pos()
	c.aluRR(0, opTest, rcx, rcx)
	*null = append(*null, c.jcc32(ccE))
	c.mulImm(r9, rcx, h.SlotStride)
	c.aluRR(fW, opAdd, r9, r10)
	var next []int
	c.rm(0, []byte{0x3b}, rax, r9, maps.SlotOffHash) // cmp eax, [slot.Hash]
	next = append(next, c.jcc32(ccNE))
	c.aluMI(0, extCmp, r9, maps.SlotOffState, maps.SlotLive)
	next = append(next, c.jcc32(ccNE))
	c.emitUnrolledKeyCompare(key, r9, int(h.KeySize), &next)
	if m.MarksReferenced() {
		// Mark the entry referenced, writing only when the bit is clear.
		c.aluMI(0, extCmp, r9, maps.SlotOffRef, 0)
		marked := c.jcc8(ccNE)
		c.rm(0, opMovImm, 0, r9, maps.SlotOffRef)
		c.imm32(1)
		c.patch8(marked)
	}
	c.rm(fW, opLea, r0, r9, int32(h.ValueOffset))
	if percpu {
		c.aluRR(fW, opAdd, r0, regMap[1])
	}
	*done = append(*done, c.jmp32())
	for _, n := range next {
		c.patch32(n, c.pos())
	}
	c.rm(0, opMovLd, rcx, r9, maps.SlotOffNext)
	c.jmpBack(chain)
}

// zeroExtendingLoad is, by size, the opcode loading that many bytes into
// a 32-bit register, zero-extended to 64 bits.
var zeroExtendingLoad = [5][]byte{1: opMovzx8, 2: opMovzx6, 4: opMovLd}

// emitUnrolledHash computes maps.Hash of the n bytes at key into EAX
// (zero-extended): whole little-endian words, then the last n%8 bytes
// read as 4, 2 and 1-byte loads (never past the key) into one word. R3
// holds the multiplier.
func (c *compiler) emitUnrolledHash(key reg, n int) {
	mul := regMap[3]
	c.movRI(0, rax, int32(n)) // h = len(key)
	c.movabs(mul, hashMul)
	mix := func() {
		c.rr(fW, opImul, rax, mul)
		c.movRR(fW, rcx, rax)
		c.shiftRI(fW, extShr, rcx, 29)
		c.aluRR(fW, opXor, rax, rcx)
	}
	off := 0
	for ; n-off >= 8; off += 8 {
		c.rm(fW, []byte{0x33}, rax, key, int32(off)) // xor rax, [key+off]
		mix()
	}
	if rest := n - off; rest > 0 {
		c.aluRR(0, opXor, rcx, rcx)
		shift := 0
		for _, size := range []int{4, 2, 1} {
			if rest&size == 0 {
				continue
			}
			c.rm(0, zeroExtendingLoad[size], rdx, key, int32(off))
			if shift > 0 {
				c.shiftRI(fW, extShl, rdx, uint8(shift))
			}
			c.aluRR(fW, opOr, rcx, rdx)
			off, shift = off+size, shift+8*size
		}
		c.aluRR(fW, opXor, rax, rcx)
		mix()
	}
	c.movRR(fW, rcx, rax)
	c.shiftRI(fW, extShr, rcx, 32)
	c.aluRR(0, opXor, rax, rcx) // 32-bit: zero-extends
}

// emitUnrolledKeyCompare compares the n bytes at key with the slot's key,
// 8, 4, 2 and 1 bytes at a time; a difference jumps to next (rel32s to
// patch).
func (c *compiler) emitUnrolledKeyCompare(key, slot reg, n int, next *[]int) {
	off := 0
	for ; n-off >= 8; off += 8 {
		c.load64(rdx, key, int32(off))
		c.rm(fW, []byte{0x3b}, rdx, slot, maps.SlotOffKey+int32(off)) // cmp rdx, [slot.Key+off]
		*next = append(*next, c.jcc32(ccNE))
	}
	for _, size := range []int{4, 2, 1} {
		if (n-off)&size == 0 {
			continue
		}
		c.rm(0, zeroExtendingLoad[size], rdx, key, int32(off))
		c.rm(0, zeroExtendingLoad[size], rcx, slot, maps.SlotOffKey+int32(off))
		c.aluRR(0, opCmp, rdx, rcx)
		*next = append(*next, c.jcc32(ccNE))
		off += size
	}
}
