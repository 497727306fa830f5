package program

import "github.com/cilium/ebpf/asm"

// The tables that map cilium/ebpf's decoded operations to Ops.

// aluOps gives, per ALU operation, the ops for 64-bit imm, 64-bit reg,
// 32-bit imm and 32-bit reg forms. Neg, Swap and the sign-extending moves
// have decoders of their own.
var aluOps = map[asm.ALUOp][4]Op{
	asm.Add:  {Add64Imm, Add64Reg, Add32Imm, Add32Reg},
	asm.Sub:  {Sub64Imm, Sub64Reg, Sub32Imm, Sub32Reg},
	asm.Mul:  {Mul64Imm, Mul64Reg, Mul32Imm, Mul32Reg},
	asm.Div:  {Div64Imm, Div64Reg, Div32Imm, Div32Reg},
	asm.SDiv: {SDiv64Imm, SDiv64Reg, SDiv32Imm, SDiv32Reg},
	asm.Or:   {Or64Imm, Or64Reg, Or32Imm, Or32Reg},
	asm.And:  {And64Imm, And64Reg, And32Imm, And32Reg},
	asm.LSh:  {LSh64Imm, LSh64Reg, LSh32Imm, LSh32Reg},
	asm.RSh:  {RSh64Imm, RSh64Reg, RSh32Imm, RSh32Reg},
	asm.Mod:  {Mod64Imm, Mod64Reg, Mod32Imm, Mod32Reg},
	asm.SMod: {SMod64Imm, SMod64Reg, SMod32Imm, SMod32Reg},
	asm.Xor:  {Xor64Imm, Xor64Reg, Xor32Imm, Xor32Reg},
	asm.Mov:  {Mov64Imm, Mov64Reg, Mov32Imm, Mov32Reg},
	asm.ArSh: {ArSh64Imm, ArSh64Reg, ArSh32Imm, ArSh32Reg},
}

// movsxOps gives the sign-extending moves, 64-bit then 32-bit form; Invalid
// where RFC 9669 has none (movsx32 in the 32-bit class).
var movsxOps = map[asm.ALUOp][2]Op{
	asm.MovSX8:  {MovSX8To64, MovSX8To32},
	asm.MovSX16: {MovSX16To64, MovSX16To32},
	asm.MovSX32: {MovSX32To64, Invalid},
}

// jumpOps gives, per condition, the ops for JMP imm, JMP reg, JMP32 imm
// and JMP32 reg.
var jumpOps = map[asm.JumpOp][4]Op{
	asm.JEq:  {JEqImm, JEqReg, JEq32Imm, JEq32Reg},
	asm.JNE:  {JNEImm, JNEReg, JNE32Imm, JNE32Reg},
	asm.JGT:  {JGTImm, JGTReg, JGT32Imm, JGT32Reg},
	asm.JGE:  {JGEImm, JGEReg, JGE32Imm, JGE32Reg},
	asm.JLT:  {JLTImm, JLTReg, JLT32Imm, JLT32Reg},
	asm.JLE:  {JLEImm, JLEReg, JLE32Imm, JLE32Reg},
	asm.JSGT: {JSGTImm, JSGTReg, JSGT32Imm, JSGT32Reg},
	asm.JSGE: {JSGEImm, JSGEReg, JSGE32Imm, JSGE32Reg},
	asm.JSLT: {JSLTImm, JSLTReg, JSLT32Imm, JSLT32Reg},
	asm.JSLE: {JSLEImm, JSLEReg, JSLE32Imm, JSLE32Reg},
	asm.JSet: {JSetImm, JSetReg, JSet32Imm, JSet32Reg},
}

// swapOps gives le, be and bswap by width.
var swapOps = map[int64][3]Op{
	16: {Le16, Be16, BSwap16},
	32: {Le32, Be32, BSwap32},
	64: {Le64, Be64, BSwap64},
}

var (
	ldxOps   = map[asm.Size]Op{asm.Byte: LdxB, asm.Half: LdxH, asm.Word: LdxW, asm.DWord: LdxDW}
	ldxsxOps = map[asm.Size]Op{asm.Byte: LdxSB, asm.Half: LdxSH, asm.Word: LdxSW}
	stOps    = map[asm.Size]Op{asm.Byte: StB, asm.Half: StH, asm.Word: StW, asm.DWord: StDW}
	stxOps   = map[asm.Size]Op{asm.Byte: StxB, asm.Half: StxH, asm.Word: StxW, asm.DWord: StxDW}
	ldAbsOps = map[asm.Size]Op{asm.Byte: LdAbsB, asm.Half: LdAbsH, asm.Word: LdAbsW}
	ldIndOps = map[asm.Size]Op{asm.Byte: LdIndB, asm.Half: LdIndH, asm.Word: LdIndW}
)

// atomicOps gives the RFC 9669 atomic operations, 32-bit then 64-bit.
var atomicOps = map[asm.AtomicOp][2]Op{
	asm.AddAtomic: {AtomicAdd32, AtomicAdd64},
	asm.OrAtomic:  {AtomicOr32, AtomicOr64},
	asm.AndAtomic: {AtomicAnd32, AtomicAnd64},
	asm.XorAtomic: {AtomicXor32, AtomicXor64},
	asm.FetchAdd:  {AtomicFetchAdd32, AtomicFetchAdd64},
	asm.FetchOr:   {AtomicFetchOr32, AtomicFetchOr64},
	asm.FetchAnd:  {AtomicFetchAnd32, AtomicFetchAnd64},
	asm.FetchXor:  {AtomicFetchXor32, AtomicFetchXor64},
	asm.Xchg:      {AtomicXchg32, AtomicXchg64},
	asm.CmpXchg:   {AtomicCmpXchg32, AtomicCmpXchg64},
}

// pseudoLoads names the kernel's other LDDW src values, for messages.
var pseudoLoads = map[asm.Register]string{
	3: "BPF_PSEUDO_BTF_ID",
	4: "BPF_PSEUDO_FUNC",
	5: "BPF_PSEUDO_MAP_IDX",
	6: "BPF_PSEUDO_MAP_IDX_VALUE",
}
