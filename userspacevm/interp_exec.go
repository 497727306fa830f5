package userspacevm

import "github.com/dropmon/dropmon/program"

// exec is the interpreter's loop: one dense switch over the decoded
// operations. Cases are one line or call a small helper; errors are built
// out of line.
func (it *Interpreter) exec(r1, r2 uint64) (uint64, error) {
	var r regs
	r[1], r[2], r[10] = r1, r2, it.fp
	insns := it.insns
	budget := it.maxInsns
	depth, pc := 0, 0
	for {
		if budget == 0 {
			return 0, &RunError{PC: pc, Err: ErrInsnLimit}
		}
		budget--
		in := &insns[pc]
		pc++
		switch in.Op {
		// ALU64.
		case program.Add64Imm:
			r[in.Dst] += uint64(in.Imm)
		case program.Add64Reg:
			r[in.Dst] += r[in.Src]
		case program.Sub64Imm:
			r[in.Dst] -= uint64(in.Imm)
		case program.Sub64Reg:
			r[in.Dst] -= r[in.Src]
		case program.Mul64Imm:
			r[in.Dst] *= uint64(in.Imm)
		case program.Mul64Reg:
			r[in.Dst] *= r[in.Src]
		case program.Div64Imm:
			r[in.Dst] = div64(r[in.Dst], uint64(in.Imm))
		case program.Div64Reg:
			r[in.Dst] = div64(r[in.Dst], r[in.Src])
		case program.SDiv64Imm:
			r[in.Dst] = sdiv64(r[in.Dst], uint64(in.Imm))
		case program.SDiv64Reg:
			r[in.Dst] = sdiv64(r[in.Dst], r[in.Src])
		case program.Or64Imm:
			r[in.Dst] |= uint64(in.Imm)
		case program.Or64Reg:
			r[in.Dst] |= r[in.Src]
		case program.And64Imm:
			r[in.Dst] &= uint64(in.Imm)
		case program.And64Reg:
			r[in.Dst] &= r[in.Src]
		case program.LSh64Imm:
			r[in.Dst] <<= uint64(in.Imm) & 63
		case program.LSh64Reg:
			r[in.Dst] <<= r[in.Src] & 63
		case program.RSh64Imm:
			r[in.Dst] >>= uint64(in.Imm) & 63
		case program.RSh64Reg:
			r[in.Dst] >>= r[in.Src] & 63
		case program.Mod64Imm:
			r[in.Dst] = mod64(r[in.Dst], uint64(in.Imm))
		case program.Mod64Reg:
			r[in.Dst] = mod64(r[in.Dst], r[in.Src])
		case program.SMod64Imm:
			r[in.Dst] = smod64(r[in.Dst], uint64(in.Imm))
		case program.SMod64Reg:
			r[in.Dst] = smod64(r[in.Dst], r[in.Src])
		case program.Xor64Imm:
			r[in.Dst] ^= uint64(in.Imm)
		case program.Xor64Reg:
			r[in.Dst] ^= r[in.Src]
		case program.Mov64Imm:
			r[in.Dst] = uint64(in.Imm)
		case program.Mov64Reg:
			r[in.Dst] = r[in.Src]
		case program.ArSh64Imm:
			r[in.Dst] = arsh64(r[in.Dst], uint64(in.Imm))
		case program.ArSh64Reg:
			r[in.Dst] = arsh64(r[in.Dst], r[in.Src])
		case program.Neg64:
			r[in.Dst] = -r[in.Dst]
		case program.MovSX8To64:
			r[in.Dst] = uint64(int8(r[in.Src]))
		case program.MovSX16To64:
			r[in.Dst] = uint64(int16(r[in.Src]))
		case program.MovSX32To64:
			r[in.Dst] = uint64(int32(r[in.Src]))

		// ALU (32-bit): operate on the low halves, zero-extend the result.
		case program.Add32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) + uint32(in.Imm))
		case program.Add32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) + uint32(r[in.Src]))
		case program.Sub32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) - uint32(in.Imm))
		case program.Sub32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) - uint32(r[in.Src]))
		case program.Mul32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) * uint32(in.Imm))
		case program.Mul32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) * uint32(r[in.Src]))
		case program.Div32Imm:
			r[in.Dst] = div32(r[in.Dst], uint64(in.Imm))
		case program.Div32Reg:
			r[in.Dst] = div32(r[in.Dst], r[in.Src])
		case program.SDiv32Imm:
			r[in.Dst] = sdiv32(r[in.Dst], uint64(in.Imm))
		case program.SDiv32Reg:
			r[in.Dst] = sdiv32(r[in.Dst], r[in.Src])
		case program.Or32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) | uint32(in.Imm))
		case program.Or32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) | uint32(r[in.Src]))
		case program.And32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) & uint32(in.Imm))
		case program.And32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) & uint32(r[in.Src]))
		case program.LSh32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) << (uint32(in.Imm) & 31))
		case program.LSh32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) << (uint32(r[in.Src]) & 31))
		case program.RSh32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) >> (uint32(in.Imm) & 31))
		case program.RSh32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) >> (uint32(r[in.Src]) & 31))
		case program.Mod32Imm:
			r[in.Dst] = mod32(r[in.Dst], uint64(in.Imm))
		case program.Mod32Reg:
			r[in.Dst] = mod32(r[in.Dst], r[in.Src])
		case program.SMod32Imm:
			r[in.Dst] = smod32(r[in.Dst], uint64(in.Imm))
		case program.SMod32Reg:
			r[in.Dst] = smod32(r[in.Dst], r[in.Src])
		case program.Xor32Imm:
			r[in.Dst] = uint64(uint32(r[in.Dst]) ^ uint32(in.Imm))
		case program.Xor32Reg:
			r[in.Dst] = uint64(uint32(r[in.Dst]) ^ uint32(r[in.Src]))
		case program.Mov32Imm:
			r[in.Dst] = uint64(uint32(in.Imm))
		case program.Mov32Reg:
			r[in.Dst] = uint64(uint32(r[in.Src]))
		case program.ArSh32Imm:
			r[in.Dst] = arsh32(r[in.Dst], uint64(in.Imm))
		case program.ArSh32Reg:
			r[in.Dst] = arsh32(r[in.Dst], r[in.Src])
		case program.Neg32:
			r[in.Dst] = uint64(-uint32(r[in.Dst]))
		case program.MovSX8To32:
			r[in.Dst] = uint64(uint32(int8(r[in.Src])))
		case program.MovSX16To32:
			r[in.Dst] = uint64(uint32(int16(r[in.Src])))

		// Byte order (the host is little-endian).
		case program.Le16, program.Le32, program.Le64, program.Be16, program.Be32, program.Be64,
			program.BSwap16, program.BSwap32, program.BSwap64:
			r[in.Dst] = swap(in.Op, r[in.Dst])

		// Jumps: Off is the target slot.
		case program.JA:
			pc = int(in.Off)
		case program.JEqImm:
			pc = branch(r[in.Dst] == uint64(in.Imm), in, pc)
		case program.JEqReg:
			pc = branch(r[in.Dst] == r[in.Src], in, pc)
		case program.JNEImm:
			pc = branch(r[in.Dst] != uint64(in.Imm), in, pc)
		case program.JNEReg:
			pc = branch(r[in.Dst] != r[in.Src], in, pc)
		case program.JGTImm:
			pc = branch(r[in.Dst] > uint64(in.Imm), in, pc)
		case program.JGTReg:
			pc = branch(r[in.Dst] > r[in.Src], in, pc)
		case program.JGEImm:
			pc = branch(r[in.Dst] >= uint64(in.Imm), in, pc)
		case program.JGEReg:
			pc = branch(r[in.Dst] >= r[in.Src], in, pc)
		case program.JLTImm:
			pc = branch(r[in.Dst] < uint64(in.Imm), in, pc)
		case program.JLTReg:
			pc = branch(r[in.Dst] < r[in.Src], in, pc)
		case program.JLEImm:
			pc = branch(r[in.Dst] <= uint64(in.Imm), in, pc)
		case program.JLEReg:
			pc = branch(r[in.Dst] <= r[in.Src], in, pc)
		case program.JSGTImm:
			pc = branch(int64(r[in.Dst]) > in.Imm, in, pc)
		case program.JSGTReg:
			pc = branch(int64(r[in.Dst]) > int64(r[in.Src]), in, pc)
		case program.JSGEImm:
			pc = branch(int64(r[in.Dst]) >= in.Imm, in, pc)
		case program.JSGEReg:
			pc = branch(int64(r[in.Dst]) >= int64(r[in.Src]), in, pc)
		case program.JSLTImm:
			pc = branch(int64(r[in.Dst]) < in.Imm, in, pc)
		case program.JSLTReg:
			pc = branch(int64(r[in.Dst]) < int64(r[in.Src]), in, pc)
		case program.JSLEImm:
			pc = branch(int64(r[in.Dst]) <= in.Imm, in, pc)
		case program.JSLEReg:
			pc = branch(int64(r[in.Dst]) <= int64(r[in.Src]), in, pc)
		case program.JSetImm:
			pc = branch(r[in.Dst]&uint64(in.Imm) != 0, in, pc)
		case program.JSetReg:
			pc = branch(r[in.Dst]&r[in.Src] != 0, in, pc)

		// JMP32: compare the low halves.
		case program.JEq32Imm:
			pc = branch(uint32(r[in.Dst]) == uint32(in.Imm), in, pc)
		case program.JEq32Reg:
			pc = branch(uint32(r[in.Dst]) == uint32(r[in.Src]), in, pc)
		case program.JNE32Imm:
			pc = branch(uint32(r[in.Dst]) != uint32(in.Imm), in, pc)
		case program.JNE32Reg:
			pc = branch(uint32(r[in.Dst]) != uint32(r[in.Src]), in, pc)
		case program.JGT32Imm:
			pc = branch(uint32(r[in.Dst]) > uint32(in.Imm), in, pc)
		case program.JGT32Reg:
			pc = branch(uint32(r[in.Dst]) > uint32(r[in.Src]), in, pc)
		case program.JGE32Imm:
			pc = branch(uint32(r[in.Dst]) >= uint32(in.Imm), in, pc)
		case program.JGE32Reg:
			pc = branch(uint32(r[in.Dst]) >= uint32(r[in.Src]), in, pc)
		case program.JLT32Imm:
			pc = branch(uint32(r[in.Dst]) < uint32(in.Imm), in, pc)
		case program.JLT32Reg:
			pc = branch(uint32(r[in.Dst]) < uint32(r[in.Src]), in, pc)
		case program.JLE32Imm:
			pc = branch(uint32(r[in.Dst]) <= uint32(in.Imm), in, pc)
		case program.JLE32Reg:
			pc = branch(uint32(r[in.Dst]) <= uint32(r[in.Src]), in, pc)
		case program.JSGT32Imm:
			pc = branch(int32(r[in.Dst]) > int32(in.Imm), in, pc)
		case program.JSGT32Reg:
			pc = branch(int32(r[in.Dst]) > int32(r[in.Src]), in, pc)
		case program.JSGE32Imm:
			pc = branch(int32(r[in.Dst]) >= int32(in.Imm), in, pc)
		case program.JSGE32Reg:
			pc = branch(int32(r[in.Dst]) >= int32(r[in.Src]), in, pc)
		case program.JSLT32Imm:
			pc = branch(int32(r[in.Dst]) < int32(in.Imm), in, pc)
		case program.JSLT32Reg:
			pc = branch(int32(r[in.Dst]) < int32(r[in.Src]), in, pc)
		case program.JSLE32Imm:
			pc = branch(int32(r[in.Dst]) <= int32(in.Imm), in, pc)
		case program.JSLE32Reg:
			pc = branch(int32(r[in.Dst]) <= int32(r[in.Src]), in, pc)
		case program.JSet32Imm:
			pc = branch(uint32(r[in.Dst])&uint32(in.Imm) != 0, in, pc)
		case program.JSet32Reg:
			pc = branch(uint32(r[in.Dst])&uint32(r[in.Src]) != 0, in, pc)

		// Calls and exit.
		case program.CallHelper:
			r[0] = it.helpers[in.Imm](&it.call, r[1], r[2], r[3], r[4], r[5])
			if it.call.Err != nil {
				return 0, &RunError{PC: pc - 1, Err: it.call.Err}
			}
		case program.CallLocal:
			if depth+1 >= MaxFrames {
				return 0, &RunError{PC: pc - 1, Err: ErrCallDepth}
			}
			it.push(&r, depth, pc)
			depth, pc = depth+1, int(in.Off)
		case program.Exit:
			if depth == 0 {
				it.executed = it.maxInsns - budget
				return r[0], nil
			}
			depth--
			pc = it.pop(&r, depth)

		// Loads and stores, checked against the run's regions.
		case program.LdDW:
			r[in.Dst], pc = uint64(in.Imm), pc+1 // skip the second slot
		case program.LdxB, program.LdxH, program.LdxW, program.LdxDW, program.LdxSB, program.LdxSH, program.LdxSW:
			if !it.load(&r, in) {
				return 0, it.fault(pc-1, in, &r)
			}
		case program.StB, program.StH, program.StW, program.StDW:
			if !it.store(r[in.Dst], in, uint64(in.Imm)) {
				return 0, it.fault(pc-1, in, &r)
			}
		case program.StxB, program.StxH, program.StxW, program.StxDW:
			if !it.store(r[in.Dst], in, r[in.Src]) {
				return 0, it.fault(pc-1, in, &r)
			}
		case program.LdAbsB, program.LdAbsH, program.LdAbsW, program.LdIndB, program.LdIndH, program.LdIndW:
			v, ok := it.packetLoad(&r, in)
			if !ok { // the kernel ends the program with R0 = 0
				it.executed = it.maxInsns - budget
				return 0, nil
			}
			r[0] = v

		case program.AtomicAdd32, program.AtomicOr32, program.AtomicAnd32, program.AtomicXor32,
			program.AtomicFetchAdd32, program.AtomicFetchOr32, program.AtomicFetchAnd32, program.AtomicFetchXor32,
			program.AtomicXchg32, program.AtomicCmpXchg32,
			program.AtomicAdd64, program.AtomicOr64, program.AtomicAnd64, program.AtomicXor64,
			program.AtomicFetchAdd64, program.AtomicFetchOr64, program.AtomicFetchAnd64, program.AtomicFetchXor64,
			program.AtomicXchg64, program.AtomicCmpXchg64:
			if err := it.atomic(&r, in, pc-1); err != nil {
				return 0, err
			}

		default:
			// Unresolved map loads and LDDW fillers never reach here in a
			// Prepared program: Decode and Prepare guarantee it.
			return 0, &RunError{PC: pc - 1, Err: errBadOp(in.Op)}
		}
	}
}

// branch returns the jump's target when taken, else the next slot.
func branch(taken bool, in *program.Insn, next int) int {
	if taken {
		return int(in.Off)
	}
	return next
}
