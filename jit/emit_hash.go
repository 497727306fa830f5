//go:build amd64 && linux

package jit

import (
	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// hashMul is maps' hash multiplier (maps/hash.go).
const hashMul = 0x9E3779B97F4A7C15

// emitHashLookup inlines bpf_map_lookup_elem for BPF_MAP_TYPE_HASH maps,
// following maps/hash.go and the slot layout of maps/layout.go: hash the
// key, walk the bucket's chain, compare hash, state (SlotLive) and key,
// and return the slot's value address; 0 when absent. Like the Go lookup
// it takes no lock: the runner's maps.Guard keeps deleted slots from being
// reused during the run. The map is known only at run time, so the code
// checks the header's type and takes the helper exit for other maps.
//
// After a helper call R1-R5 are unreadable (the verifier proves it), so
// their registers serve as scratch: RDI the map, RSI the key, R8-R10,
// with RAX (the hash), RCX and RDX.
func (c *compiler) emitHashLookup(pc int, in *program.Insn, done *[]int) {
	m, key, r0 := regMap[1], regMap[2], regMap[0]
	c.aluMI(0, extCmp, m, maps.HeaderOffType, int32(ebpf.Hash))
	notHash := c.jcc32(ccNE)

	c.emitKeyHash(m, key)

	// i = buckets[h & BucketMask] (slot index + 1, 0 = empty)
	c.movRR(0, rcx, rax)
	c.rm(0, []byte{0x23}, rcx, m, maps.HeaderOffBucketMask) // and ecx, [mask]
	c.shiftRI(fW, extShl, rcx, 2)
	c.rm(fW, []byte{0x03}, rcx, m, maps.HeaderOffBucketsOff) // add rcx, [BucketsOff]
	c.aluRR(fW, opAdd, rcx, m)
	c.rm(0, opMovLd, rcx, rcx, 0)

	chain := c.pos()
	c.aluRR(0, opTest, rcx, rcx)
	miss := c.jcc32(ccE)
	// slot = m + SlotsOff + (i-1)*SlotStride
	c.aluRI(0, extSub, rcx, 1)
	c.movRR(fW, r9, rcx)
	c.rm(fW, opImul, r9, m, maps.HeaderOffSlotStride)
	c.rm(fW, []byte{0x03}, r9, m, maps.HeaderOffSlotsOff)
	c.aluRR(fW, opAdd, r9, m)
	c.rm(0, []byte{0x3b}, rax, r9, maps.SlotOffHash) // cmp eax, [slot.Hash]
	next1 := c.jcc32(ccNE)
	c.aluMI(0, extCmp, r9, maps.SlotOffState, maps.SlotLive)
	next2 := c.jcc32(ccNE)
	// compare KeySize bytes of the slot's key with the program's
	c.rm(0, opMovLd, r10, m, maps.HeaderOffKeySize)
	c.rm(fW, opLea, r8, r9, maps.SlotOffKey)
	c.movRR(fW, rdx, key)
	loop := c.pos()
	c.rm(0, opMovzx8, rcx, r8, 0)
	c.rm(0, []byte{0x3a}, rcx, rdx, 0) // cmp cl, [rdx]
	next3 := c.jcc32(ccNE)
	c.rr(fW, []byte{0xff}, 0, r8) // inc r8
	c.rr(fW, []byte{0xff}, 0, rdx)
	c.rr(fW, []byte{0xff}, 1, r10) // dec r10
	c.jccBack(ccNE, loop)
	// found: R0 = slot + ValueOffset
	c.rm(0, opMovLd, rcx, m, maps.HeaderOffValueOffset)
	c.aluRR(fW, opAdd, rcx, r9)
	c.movRR(fW, r0, rcx)
	*done = append(*done, c.jmp32())

	next := c.pos()
	for _, j := range []int{next1, next2, next3} {
		c.patch32(j, next)
	}
	c.rm(0, opMovLd, rcx, r9, maps.SlotOffNext)
	c.jmpBack(chain)

	c.patch32(miss, c.pos())
	c.aluRR(0, opXor, r0, r0)
	*done = append(*done, c.jmp32())
	c.patch32(notHash, c.pos())
}

// emitKeyHash computes maps.Hash of the KeySize bytes at key into EAX:
// whole little-endian words, then the remaining bytes (read one by one,
// never past the key) as a zero-padded word.
func (c *compiler) emitKeyHash(m, key reg) {
	c.rm(0, opMovLd, r10, m, maps.HeaderOffKeySize) // remaining bytes
	c.movRR(fW, rax, r10)                           // h = len(key)
	c.movRR(fW, r9, key)
	words := c.pos()
	c.aluRI(fW, extCmp, r10, 8)
	tail := c.jcc32(ccB)
	c.rm(fW, []byte{0x33}, rax, r9, 0) // xor rax, [r9]
	c.emitHashMix()
	c.aluRI(fW, extAdd, r9, 8)
	c.aluRI(fW, extSub, r10, 8)
	c.jmpBack(words)

	c.patch32(tail, c.pos())
	c.aluRR(fW, opTest, r10, r10)
	fin := c.jcc32(ccE)
	c.aluRR(fW, opAdd, r9, r10) // one past the last byte
	c.aluRR(0, opXor, rdx, rdx)
	bytes := c.pos()
	c.rr(fW, []byte{0xff}, 1, r9) // dec r9
	c.shiftRI(fW, extShl, rdx, 8)
	c.rm(0, opMovzx8, rcx, r9, 0)
	c.aluRR(fW, opOr, rdx, rcx)
	c.rr(fW, []byte{0xff}, 1, r10)
	c.jccBack(ccNE, bytes)
	c.aluRR(fW, opXor, rax, rdx)
	c.emitHashMix()

	c.patch32(fin, c.pos())
	c.movRR(fW, rcx, rax)
	c.shiftRI(fW, extShr, rcx, 32)
	c.aluRR(0, opXor, rax, rcx) // 32-bit: zero-extends
}

// emitHashMix is h = (h ^ w) * hashMul; h ^= h >> 29, with h ^ w already
// in RAX.
func (c *compiler) emitHashMix() {
	c.movabs(rdx, hashMul)
	c.rr(fW, opImul, rax, rdx)
	c.movRR(fW, rcx, rax)
	c.shiftRI(fW, extShr, rcx, 29)
	c.aluRR(fW, opXor, rax, rcx)
}
