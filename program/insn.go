package program

// Insn is one decoded instruction slot. A program decodes into a slice of
// them indexed by raw instruction offset: a 64-bit load fills two slots, the
// second of which is an LdDWHi filler that is never executed.
type Insn struct {
	Op  Op
	Dst uint8
	Src uint8
	// Off is the signed byte offset of loads, stores and atomics, and the
	// absolute target slot of jumps (JA and the conditional jumps) and of
	// local calls.
	Off int32
	// Imm is the immediate sign-extended to 64 bits (32-bit operations use
	// its low half); the whole value of LdDW; the helper number of
	// CallHelper; for LdMapFD and LdMapValue the raw 64-bit constant (map
	// index or fd in the low half, value offset in the high half). For byte
	// swaps the width is in the Op, and Imm is 16, 32 or 64 as encoded.
	Imm int64
}

// Target returns the slot a jump or local call goes to.
func (in *Insn) Target() int { return int(in.Off) }

// Operation groups, as ranges of the dense Op enum.

// IsALU64 reports an ALU64-class operation other than a byte swap.
func (o Op) IsALU64() bool { return o >= Add64Imm && o <= MovSX32To64 }

// IsALU32 reports an ALU-class (32-bit) operation other than a byte swap.
func (o Op) IsALU32() bool { return o >= Add32Imm && o <= MovSX16To32 }

// IsSwap reports a byte-order operation (le, be, bswap).
func (o Op) IsSwap() bool { return o >= Le16 && o <= BSwap64 }

// IsCondJump reports a conditional jump, JMP or JMP32 class.
func (o Op) IsCondJump() bool { return o >= JEqImm && o <= JSet32Reg }

// IsJump32 reports a conditional jump that compares 32-bit halves.
func (o Op) IsJump32() bool { return o >= JEq32Imm && o <= JSet32Reg }

// HasTarget reports an operation whose Off is a target slot.
func (o Op) HasTarget() bool { return o == JA || o.IsCondJump() || o == CallLocal }

// IsLoad64 reports the 64-bit immediate loads (LdDW and its map forms).
func (o Op) IsLoad64() bool { return o == LdDW || o == LdMapFD || o == LdMapValue }

// IsPacketLoad reports the legacy LD_ABS and LD_IND loads.
func (o Op) IsPacketLoad() bool { return o >= LdAbsB && o <= LdIndW }

// IsLoadX reports the LDX-class memory loads.
func (o Op) IsLoadX() bool { return o >= LdxB && o <= LdxSW }

// IsStore reports the ST and STX memory stores (not atomics).
func (o Op) IsStore() bool { return o >= StB && o <= StxDW }

// IsAtomic reports the atomic read-modify-write operations.
func (o Op) IsAtomic() bool { return o >= AtomicAdd32 && o <= AtomicCmpXchg64 }

// MemSize returns the access size in bytes of a memory operation, or 0.
func (o Op) MemSize() int {
	switch o {
	case LdxB, LdxSB, StB, StxB, LdAbsB, LdIndB:
		return 1
	case LdxH, LdxSH, StH, StxH, LdAbsH, LdIndH:
		return 2
	case LdxW, LdxSW, StW, StxW, LdAbsW, LdIndW:
		return 4
	case LdxDW, StDW, StxDW:
		return 8
	}
	switch {
	case o >= AtomicAdd32 && o <= AtomicCmpXchg32:
		return 4
	case o >= AtomicAdd64 && o <= AtomicCmpXchg64:
		return 8
	}
	return 0
}
