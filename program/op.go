package program

import "fmt"

// Op is one decoded operation. Values are dense (one per distinct
// operation, numbered from 1) so that a switch over them compiles to a jump
// table; Invalid is the zero value.
type Op uint8

const (
	Invalid Op = iota

	// ALU64 class: 64-bit arithmetic.
	Add64Imm
	Add64Reg
	Sub64Imm
	Sub64Reg
	Mul64Imm
	Mul64Reg
	Div64Imm
	Div64Reg
	SDiv64Imm
	SDiv64Reg
	Or64Imm
	Or64Reg
	And64Imm
	And64Reg
	LSh64Imm
	LSh64Reg
	RSh64Imm
	RSh64Reg
	Mod64Imm
	Mod64Reg
	SMod64Imm
	SMod64Reg
	Xor64Imm
	Xor64Reg
	Mov64Imm
	Mov64Reg
	ArSh64Imm
	ArSh64Reg
	Neg64
	MovSX8To64
	MovSX16To64
	MovSX32To64

	// ALU class: 32-bit arithmetic; results are zero-extended.
	Add32Imm
	Add32Reg
	Sub32Imm
	Sub32Reg
	Mul32Imm
	Mul32Reg
	Div32Imm
	Div32Reg
	SDiv32Imm
	SDiv32Reg
	Or32Imm
	Or32Reg
	And32Imm
	And32Reg
	LSh32Imm
	LSh32Reg
	RSh32Imm
	RSh32Reg
	Mod32Imm
	Mod32Reg
	SMod32Imm
	SMod32Reg
	Xor32Imm
	Xor32Reg
	Mov32Imm
	Mov32Reg
	ArSh32Imm
	ArSh32Reg
	Neg32
	MovSX8To32
	MovSX16To32

	// byte swaps: le/be (ALU class) convert to that byte order, bswap (ALU64 class) always swaps.
	Le16
	Le32
	Le64
	Be16
	Be32
	Be64
	BSwap16
	BSwap32
	BSwap64

	// JMP and JMP32 classes: Off holds the absolute target slot.
	JA
	JEqImm
	JEqReg
	JNEImm
	JNEReg
	JGTImm
	JGTReg
	JGEImm
	JGEReg
	JLTImm
	JLTReg
	JLEImm
	JLEReg
	JSGTImm
	JSGTReg
	JSGEImm
	JSGEReg
	JSLTImm
	JSLTReg
	JSLEImm
	JSLEReg
	JSetImm
	JSetReg
	JEq32Imm
	JEq32Reg
	JNE32Imm
	JNE32Reg
	JGT32Imm
	JGT32Reg
	JGE32Imm
	JGE32Reg
	JLT32Imm
	JLT32Reg
	JLE32Imm
	JLE32Reg
	JSGT32Imm
	JSGT32Reg
	JSGE32Imm
	JSGE32Reg
	JSLT32Imm
	JSLT32Reg
	JSLE32Imm
	JSLE32Reg
	JSet32Imm
	JSet32Reg
	CallHelper
	CallLocal
	Exit

	// LD class: 64-bit immediates (two slots) and the legacy packet loads.
	LdDW
	LdMapFD
	LdMapValue
	LdDWHi
	LdAbsB
	LdAbsH
	LdAbsW
	LdIndB
	LdIndH
	LdIndW

	// LDX class: loads, zero- or sign-extending.
	LdxB
	LdxH
	LdxW
	LdxDW
	LdxSB
	LdxSH
	LdxSW

	// ST and STX classes: stores of an immediate or a register.
	StB
	StH
	StW
	StDW
	StxB
	StxH
	StxW
	StxDW

	// STX class, atomic mode, 32-bit.
	AtomicAdd32
	AtomicOr32
	AtomicAnd32
	AtomicXor32
	AtomicFetchAdd32
	AtomicFetchOr32
	AtomicFetchAnd32
	AtomicFetchXor32
	AtomicXchg32
	AtomicCmpXchg32

	// STX class, atomic mode, 64-bit.
	AtomicAdd64
	AtomicOr64
	AtomicAnd64
	AtomicXor64
	AtomicFetchAdd64
	AtomicFetchOr64
	AtomicFetchAnd64
	AtomicFetchXor64
	AtomicXchg64
	AtomicCmpXchg64

	// NumOps is the number of Op values.
	NumOps
)

var opNames = [NumOps]string{
	Invalid:          "invalid",
	Add64Imm:         "add64_imm",
	Add64Reg:         "add64_reg",
	Sub64Imm:         "sub64_imm",
	Sub64Reg:         "sub64_reg",
	Mul64Imm:         "mul64_imm",
	Mul64Reg:         "mul64_reg",
	Div64Imm:         "div64_imm",
	Div64Reg:         "div64_reg",
	SDiv64Imm:        "sdiv64_imm",
	SDiv64Reg:        "sdiv64_reg",
	Or64Imm:          "or64_imm",
	Or64Reg:          "or64_reg",
	And64Imm:         "and64_imm",
	And64Reg:         "and64_reg",
	LSh64Imm:         "lsh64_imm",
	LSh64Reg:         "lsh64_reg",
	RSh64Imm:         "rsh64_imm",
	RSh64Reg:         "rsh64_reg",
	Mod64Imm:         "mod64_imm",
	Mod64Reg:         "mod64_reg",
	SMod64Imm:        "smod64_imm",
	SMod64Reg:        "smod64_reg",
	Xor64Imm:         "xor64_imm",
	Xor64Reg:         "xor64_reg",
	Mov64Imm:         "mov64_imm",
	Mov64Reg:         "mov64_reg",
	ArSh64Imm:        "arsh64_imm",
	ArSh64Reg:        "arsh64_reg",
	Neg64:            "neg64",
	MovSX8To64:       "movsx8_64",
	MovSX16To64:      "movsx16_64",
	MovSX32To64:      "movsx32_64",
	Add32Imm:         "add32_imm",
	Add32Reg:         "add32_reg",
	Sub32Imm:         "sub32_imm",
	Sub32Reg:         "sub32_reg",
	Mul32Imm:         "mul32_imm",
	Mul32Reg:         "mul32_reg",
	Div32Imm:         "div32_imm",
	Div32Reg:         "div32_reg",
	SDiv32Imm:        "sdiv32_imm",
	SDiv32Reg:        "sdiv32_reg",
	Or32Imm:          "or32_imm",
	Or32Reg:          "or32_reg",
	And32Imm:         "and32_imm",
	And32Reg:         "and32_reg",
	LSh32Imm:         "lsh32_imm",
	LSh32Reg:         "lsh32_reg",
	RSh32Imm:         "rsh32_imm",
	RSh32Reg:         "rsh32_reg",
	Mod32Imm:         "mod32_imm",
	Mod32Reg:         "mod32_reg",
	SMod32Imm:        "smod32_imm",
	SMod32Reg:        "smod32_reg",
	Xor32Imm:         "xor32_imm",
	Xor32Reg:         "xor32_reg",
	Mov32Imm:         "mov32_imm",
	Mov32Reg:         "mov32_reg",
	ArSh32Imm:        "arsh32_imm",
	ArSh32Reg:        "arsh32_reg",
	Neg32:            "neg32",
	MovSX8To32:       "movsx8_32",
	MovSX16To32:      "movsx16_32",
	Le16:             "le16",
	Le32:             "le32",
	Le64:             "le64",
	Be16:             "be16",
	Be32:             "be32",
	Be64:             "be64",
	BSwap16:          "bswap16",
	BSwap32:          "bswap32",
	BSwap64:          "bswap64",
	JA:               "ja",
	JEqImm:           "jeq_imm",
	JEqReg:           "jeq_reg",
	JNEImm:           "jne_imm",
	JNEReg:           "jne_reg",
	JGTImm:           "jgt_imm",
	JGTReg:           "jgt_reg",
	JGEImm:           "jge_imm",
	JGEReg:           "jge_reg",
	JLTImm:           "jlt_imm",
	JLTReg:           "jlt_reg",
	JLEImm:           "jle_imm",
	JLEReg:           "jle_reg",
	JSGTImm:          "jsgt_imm",
	JSGTReg:          "jsgt_reg",
	JSGEImm:          "jsge_imm",
	JSGEReg:          "jsge_reg",
	JSLTImm:          "jslt_imm",
	JSLTReg:          "jslt_reg",
	JSLEImm:          "jsle_imm",
	JSLEReg:          "jsle_reg",
	JSetImm:          "jset_imm",
	JSetReg:          "jset_reg",
	JEq32Imm:         "jeq32_imm",
	JEq32Reg:         "jeq32_reg",
	JNE32Imm:         "jne32_imm",
	JNE32Reg:         "jne32_reg",
	JGT32Imm:         "jgt32_imm",
	JGT32Reg:         "jgt32_reg",
	JGE32Imm:         "jge32_imm",
	JGE32Reg:         "jge32_reg",
	JLT32Imm:         "jlt32_imm",
	JLT32Reg:         "jlt32_reg",
	JLE32Imm:         "jle32_imm",
	JLE32Reg:         "jle32_reg",
	JSGT32Imm:        "jsgt32_imm",
	JSGT32Reg:        "jsgt32_reg",
	JSGE32Imm:        "jsge32_imm",
	JSGE32Reg:        "jsge32_reg",
	JSLT32Imm:        "jslt32_imm",
	JSLT32Reg:        "jslt32_reg",
	JSLE32Imm:        "jsle32_imm",
	JSLE32Reg:        "jsle32_reg",
	JSet32Imm:        "jset32_imm",
	JSet32Reg:        "jset32_reg",
	CallHelper:       "call",
	CallLocal:        "call_local",
	Exit:             "exit",
	LdDW:             "lddw",
	LdMapFD:          "lddw_map_fd",
	LdMapValue:       "lddw_map_value",
	LdDWHi:           "lddw_hi",
	LdAbsB:           "ldabsb",
	LdAbsH:           "ldabsh",
	LdAbsW:           "ldabsw",
	LdIndB:           "ldindb",
	LdIndH:           "ldindh",
	LdIndW:           "ldindw",
	LdxB:             "ldxb",
	LdxH:             "ldxh",
	LdxW:             "ldxw",
	LdxDW:            "ldxdw",
	LdxSB:            "ldxsb",
	LdxSH:            "ldxsh",
	LdxSW:            "ldxsw",
	StB:              "stb",
	StH:              "sth",
	StW:              "stw",
	StDW:             "stdw",
	StxB:             "stxb",
	StxH:             "stxh",
	StxW:             "stxw",
	StxDW:            "stxdw",
	AtomicAdd32:      "lock_add32",
	AtomicOr32:       "lock_or32",
	AtomicAnd32:      "lock_and32",
	AtomicXor32:      "lock_xor32",
	AtomicFetchAdd32: "lock_fetch_add32",
	AtomicFetchOr32:  "lock_fetch_or32",
	AtomicFetchAnd32: "lock_fetch_and32",
	AtomicFetchXor32: "lock_fetch_xor32",
	AtomicXchg32:     "lock_xchg32",
	AtomicCmpXchg32:  "lock_cmpxchg32",
	AtomicAdd64:      "lock_add64",
	AtomicOr64:       "lock_or64",
	AtomicAnd64:      "lock_and64",
	AtomicXor64:      "lock_xor64",
	AtomicFetchAdd64: "lock_fetch_add64",
	AtomicFetchOr64:  "lock_fetch_or64",
	AtomicFetchAnd64: "lock_fetch_and64",
	AtomicFetchXor64: "lock_fetch_xor64",
	AtomicXchg64:     "lock_xchg64",
	AtomicCmpXchg64:  "lock_cmpxchg64",
}

// String returns the operation's assembler-style name ("add64_imm").
func (o Op) String() string {
	if o < NumOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}
