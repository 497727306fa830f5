package program

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// raw encodes one instruction slot.
func raw(op, dst, src uint8, off int16, imm int32) []byte {
	b := make([]byte, 8)
	b[0] = op
	b[1] = src<<4 | dst&0xf
	binary.LittleEndian.PutUint16(b[2:], uint16(off))
	binary.LittleEndian.PutUint32(b[4:], uint32(imm))
	return b
}

func cat(slots ...[]byte) []byte {
	var out []byte
	for _, s := range slots {
		out = append(out, s...)
	}
	return out
}

var exit = raw(0x95, 0, 0, 0, 0)

func decodeRaw(b []byte) ([]Insn, error) {
	insns, err := FromBytes(b)
	if err != nil {
		return nil, err
	}
	return Decode(insns)
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		code    []byte
		wantErr string
		wantIs  error
	}{
		{"empty", nil, "no instructions", ErrInvalid},
		{"odd length", exit[:5], "not a multiple of 8", ErrInvalid},
		{"callx", cat(raw(0x8d, 1, 0, 0, 0), exit), "insn 0: unknown opcode 0x8d", ErrInvalid},
		{"unknown alu op", cat(raw(0xe7, 0, 0, 0, 0), exit), "insn 0: unknown opcode 0xe7", ErrInvalid},
		{"unknown class mode", cat(raw(0x78, 0, 0, 0, 0), exit), "unknown opcode 0x78", ErrInvalid},
		{"ldxdw sign-extending", cat(raw(0x99, 0, 1, 0, 0), exit), "unknown opcode 0x99", ErrInvalid},
		{"neg with reg source", cat(raw(0x8f, 0, 0, 0, 0), exit), "unknown opcode 0x8f", ErrInvalid},
		{"bswap with be bit", cat(raw(0xdf, 0, 0, 0, 16), exit), "unknown opcode 0xdf", ErrInvalid},
		{"alu imm src", cat(raw(0x07, 0, 1, 0, 1), exit), "insn 0: non-zero src register in add64_imm", ErrInvalid},
		{"alu imm offset", cat(raw(0x04, 0, 0, 1, 1), exit), "non-zero offset in add32_imm", ErrInvalid},
		{"alu reg imm", cat(raw(0x0f, 0, 1, 0, 1), exit), "non-zero immediate in add64_reg", ErrInvalid},
		{"div offset 2", cat(raw(0x3f, 0, 1, 2, 0), exit), "non-zero offset in div64_reg", ErrInvalid},
		{"mov imm offset 8", cat(raw(0xb7, 0, 0, 8, 1), exit), "non-zero offset in mov64_imm", ErrInvalid},
		{"movsx32 in alu32", cat(raw(0xbc, 0, 1, 32, 0), exit), "invalid offset 32 in mov32_reg", ErrInvalid},
		{"neg imm", cat(raw(0x87, 0, 0, 0, 1), exit), "non-zero immediate in neg64", ErrInvalid},
		{"swap width", cat(raw(0xd4, 0, 0, 0, 8), exit), "invalid width 8", ErrInvalid},
		{"swap src", cat(raw(0xdc, 0, 1, 0, 16), exit), "non-zero src register in be16", ErrInvalid},
		{"dst register 11", cat(raw(0xb7, 11, 0, 0, 1), exit), "invalid dst register r11 in mov64_imm", ErrInvalid},
		{"src register 12", cat(raw(0xbf, 0, 12, 0, 0), exit), "invalid src register r12 in mov64_reg", ErrInvalid},
		{"write r10", cat(raw(0xb7, 10, 0, 0, 1), exit), "mov64_imm writes to the read-only frame pointer r10", ErrInvalid},
		{"ldx into r10", cat(raw(0x79, 10, 1, 0, 0), exit), "ldxdw writes to the read-only frame pointer", ErrInvalid},
		{"fetch into r10", cat(raw(0xdb, 1, 10, 0, 0x01), exit), "lock_fetch_add64 writes to the read-only", ErrInvalid},
		{"ldx imm", cat(raw(0x61, 0, 10, -4, 1), exit), "non-zero immediate in ldxw", ErrInvalid},
		{"st src", cat(raw(0x62, 10, 1, -4, 0), exit), "non-zero src register in stw", ErrInvalid},
		{"stx imm", cat(raw(0x7b, 10, 0, -8, 1), exit), "non-zero immediate in stxdw", ErrInvalid},
		{"jump out of range", cat(raw(0x05, 0, 0, 5, 0), exit), "insn 0: jump out of range", ErrInvalid},
		{"jump before start", cat(raw(0x05, 0, 0, -2, 0), exit), "jump out of range", ErrInvalid},
		{"ja32 out of range", cat(raw(0x06, 0, 0, 0, 1<<30), exit), "jump out of range", ErrInvalid},
		{"jump into lddw", cat(raw(0x05, 0, 0, 1, 0), raw(0x18, 0, 0, 0, 1), raw(0, 0, 0, 0, 0), exit),
			"insn 0: jump into the middle of lddw at insn 1", ErrInvalid},
		{"ja dst", cat(raw(0x05, 1, 0, 0, 0), exit), "non-zero dst register in ja", ErrInvalid},
		{"ja imm", cat(raw(0x05, 0, 0, 0, 1), exit), "non-zero immediate in ja", ErrInvalid},
		{"ja32 offset", cat(raw(0x06, 0, 0, 1, 0), exit), "non-zero offset in ja", ErrInvalid},
		{"jeq imm src", cat(raw(0x15, 0, 1, 0, 0), exit), "non-zero src register in jeq_imm", ErrInvalid},
		{"jgt reg imm", cat(raw(0x2d, 0, 0, 0, 1), exit), "non-zero immediate in jgt_reg", ErrInvalid},
		{"jmp32 call", cat(raw(0x86, 0, 0, 0, 1), exit), "unknown opcode 0x86", ErrInvalid},
		{"exit imm", cat(raw(0x95, 0, 0, 0, 1), exit), "non-zero immediate in exit", ErrInvalid},
		{"exit dst", cat(raw(0x95, 1, 0, 0, 0), exit), "non-zero dst register in exit", ErrInvalid},
		{"call dst", cat(raw(0x85, 1, 0, 0, 0), exit), "non-zero dst register in call", ErrInvalid},
		{"call offset", cat(raw(0x85, 0, 0, 1, 5), exit), "non-zero offset in call", ErrInvalid},
		{"call bad src", cat(raw(0x85, 0, 3, 0, 0), exit), "invalid src register 3 in call", ErrInvalid},
		{"call helper 0", cat(raw(0x85, 0, 0, 0, 0), exit), "invalid helper 0", ErrInvalid},
		{"call negative helper", cat(raw(0x85, 0, 0, 0, -1), exit), "invalid helper -1", ErrInvalid},
		{"call huge helper", cat(raw(0x85, 0, 0, 0, 1<<29), exit), "insn 0: invalid helper 536870912", ErrInvalid},
		{"kfunc", cat(raw(0x85, 0, 2, 0, 7), exit), "kfunc calls are not supported", ErrNotSupported},
		{"local call out of range", cat(raw(0x85, 0, 1, 0, 9), exit), "jump out of range", ErrInvalid},
		{"lddw at end", cat(exit, raw(0x18, 0, 0, 0, 1)), "insn 1: invalid bpf_ld_imm64 insn: the program ends before its second slot", ErrInvalid},
		{"lddw second slot", cat(raw(0x18, 0, 0, 0, 1), raw(0, 1, 0, 0, 0), exit), "insn 0: invalid bpf_ld_imm64 insn: its second slot has a non-zero opcode", ErrInvalid},
		{"lddw offset", cat(raw(0x18, 0, 0, 1, 1), raw(0, 0, 0, 0, 0), exit), "non-zero offset in lddw", ErrInvalid},
		{"lddw btf id", cat(raw(0x18, 0, 3, 0, 1), raw(0, 0, 0, 0, 0), exit), "BPF_PSEUDO_BTF_ID", ErrNotSupported},
		{"lddw bad src", cat(raw(0x18, 0, 9, 0, 1), raw(0, 0, 0, 0, 0), exit), "invalid src register 9 in lddw", ErrInvalid},
		{"ld imm word", cat(raw(0x00, 0, 0, 0, 1), exit), "unknown opcode 0x00", ErrInvalid},
		{"ldabs dw", cat(raw(0x38, 0, 0, 0, 1), exit), "unknown opcode 0x38", ErrInvalid},
		{"ldabs dst", cat(raw(0x30, 1, 0, 0, 1), exit), "non-zero dst register in ldabsb", ErrInvalid},
		{"ldind offset", cat(raw(0x50, 0, 1, 1, 1), exit), "non-zero offset in ldindb", ErrInvalid},
		{"atomic byte", cat(raw(0xd3, 10, 1, -8, 0), exit), "unknown opcode 0xd3", ErrInvalid},
		{"atomic sub", cat(raw(0xdb, 10, 1, -8, 0x10), exit), "atomic operation 0x10 is not supported", ErrNotSupported},
		{"xchg without fetch", cat(raw(0xdb, 10, 1, -8, 0xe0), exit), "atomic xchg without BPF_FETCH", ErrInvalid},
		{"cmpxchg without fetch", cat(raw(0xc3, 10, 1, -8, 0xf0), exit), "atomic cmpxchg without BPF_FETCH", ErrInvalid},
		{"atomic high imm bits", cat(raw(0xdb, 10, 1, -8, 0x200), exit), "invalid atomic operation 0x200", ErrInvalid},
		{"load acquire", cat(raw(0xdb, 1, 10, -8, 0x100), exit), "atomic operation 0x100 is not supported", ErrNotSupported},
		{"falls off the end", raw(0xb7, 0, 0, 0, 1), "insn 0: last instruction mov64_imm is not exit or ja", ErrInvalid},
		{"lddw last", cat(raw(0x18, 0, 0, 0, 1), raw(0, 0, 0, 0, 0)), "insn 0: last instruction lddw", ErrInvalid},
		{"may_goto", cat(raw(0xe5, 0, 0, 0, 0), exit), "may_goto", ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeRaw(tt.code)
			if err == nil {
				t.Fatalf("decode succeeded, want error %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not match %v", err, tt.wantIs)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		code []byte
		want []Insn
	}{
		{"sdiv", cat(raw(0x3f, 1, 2, 1, 0), exit), []Insn{{Op: SDiv64Reg, Dst: 1, Src: 2}, {Op: Exit}}},
		{"smod32 imm", cat(raw(0x94, 1, 0, 1, -3), exit), []Insn{{Op: SMod32Imm, Dst: 1, Imm: -3}, {Op: Exit}}},
		{"movsx16 to 32", cat(raw(0xbc, 1, 2, 16, 0), exit), []Insn{{Op: MovSX16To32, Dst: 1, Src: 2}, {Op: Exit}}},
		{"movsx32 to 64", cat(raw(0xbf, 1, 2, 32, 0), exit), []Insn{{Op: MovSX32To64, Dst: 1, Src: 2}, {Op: Exit}}},
		{"bswap32", cat(raw(0xd7, 3, 0, 0, 32), exit), []Insn{{Op: BSwap32, Dst: 3, Imm: 32}, {Op: Exit}}},
		{"be64", cat(raw(0xdc, 3, 0, 0, 64), exit), []Insn{{Op: Be64, Dst: 3, Imm: 64}, {Op: Exit}}},
		{"le16", cat(raw(0xd4, 3, 0, 0, 16), exit), []Insn{{Op: Le16, Dst: 3, Imm: 16}, {Op: Exit}}},
		{"lddw", cat(raw(0x18, 0, 0, 0, -1), raw(0, 0, 0, 0, 0x11), exit),
			[]Insn{{Op: LdDW, Imm: 0x11_ffffffff}, {Op: LdDWHi}, {Op: Exit}}},
		{"map value", cat(raw(0x18, 2, 2, 0, 1), raw(0, 0, 0, 0, 8), exit),
			[]Insn{{Op: LdMapValue, Dst: 2, Imm: 8<<32 | 1}, {Op: LdDWHi}, {Op: Exit}}},
		{"jump back", cat(raw(0xb7, 0, 0, 0, 0), raw(0x15, 0, 0, -2, 1), exit),
			[]Insn{{Op: Mov64Imm}, {Op: JEqImm, Imm: 1, Off: 0}, {Op: Exit}}},
		{"ja32", cat(raw(0x06, 0, 0, 0, 1), exit, exit), []Insn{{Op: JA, Off: 2}, {Op: Exit}, {Op: Exit}}},
		{"jset32 reg", cat(raw(0x4e, 1, 2, 0, 0), exit), []Insn{{Op: JSet32Reg, Dst: 1, Src: 2, Off: 1}, {Op: Exit}}},
		{"call helper", cat(raw(0x85, 0, 0, 0, 5), exit), []Insn{{Op: CallHelper, Imm: 5}, {Op: Exit}}},
		{"call local", cat(raw(0x85, 0, 1, 0, 1), exit, exit), []Insn{{Op: CallLocal, Off: 2}, {Op: Exit}, {Op: Exit}}},
		{"cmpxchg32", cat(raw(0xc3, 10, 1, -4, 0xf1), exit), []Insn{{Op: AtomicCmpXchg32, Dst: 10, Src: 1, Off: -4}, {Op: Exit}}},
		{"fetch or 64", cat(raw(0xdb, 10, 1, -8, 0x41), exit), []Insn{{Op: AtomicFetchOr64, Dst: 10, Src: 1, Off: -8}, {Op: Exit}}},
		{"ldxsh", cat(raw(0x89, 1, 10, -2, 0), exit), []Insn{{Op: LdxSH, Dst: 1, Src: 10, Off: -2}, {Op: Exit}}},
		{"ldindw", cat(raw(0x40, 0, 3, 0, 14), exit), []Insn{{Op: LdIndW, Src: 3, Imm: 14}, {Op: Exit}}},
		{"stdw r10", cat(raw(0x7a, 10, 0, -8, -1), exit), []Insn{{Op: StDW, Dst: 10, Off: -8, Imm: -1}, {Op: Exit}}},
		{"ends with ja", cat(exit, raw(0x05, 0, 0, -2, 0)), []Insn{{Op: Exit}, {Op: JA, Off: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRaw(tt.code)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d slots %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("slot %d: got %+v (%v), want %+v (%v)", i, got[i], got[i].Op, tt.want[i], tt.want[i].Op)
				}
			}
		})
	}
}

// Programs built with cilium/ebpf's asm package use symbolic targets and
// leave the atomic immediate in the OpCode only.
func TestDecodeAsmBuilt(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.JEq.Imm(asm.R1, 0, "out"),
		asm.Call.Label("fn"),
		asm.FetchAdd.Mem(asm.R10, asm.R1, asm.DWord, -8),
		asm.Return().WithSymbol("out"),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("fn"),
		asm.Return(),
	}
	got, err := Decode(insns)
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Op != JEqImm || got[1].Target() != 4 {
		t.Errorf("jeq: %+v, want target 4", got[1])
	}
	if got[2].Op != CallLocal || got[2].Target() != 5 {
		t.Errorf("call: %+v, want target 5", got[2])
	}
	if got[3].Op != AtomicFetchAdd64 {
		t.Errorf("atomic: %v, want lock_fetch_add64", got[3].Op)
	}

	bad := asm.Instructions{asm.Ja.Label("nowhere"), asm.Return()}
	if _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), `undefined symbol "nowhere"`) {
		t.Errorf("undefined symbol: got %v", err)
	}
	wide := asm.Instructions{{OpCode: asm.Add.Op(asm.ImmSource), Constant: 1 << 40}, asm.Return()}
	if _, err := Decode(wide); err == nil || !strings.Contains(err.Error(), "out of 32-bit range") {
		t.Errorf("wide immediate: got %v", err)
	}
}

func TestOpNames(t *testing.T) {
	for o := Op(0); o < NumOps; o++ {
		if opNames[o] == "" {
			t.Errorf("op %d has no name", o)
		}
	}
	if s := Op(250).String(); s != "Op(250)" {
		t.Errorf("Op(250).String() = %q", s)
	}
}
