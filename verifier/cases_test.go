package verifier

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// verdict is what a verifier makes of a program.
type verdict bool

const (
	accept verdict = true
	reject verdict = false
)

func (v verdict) String() string {
	if v {
		return "accept"
	}
	return "reject"
}

// verifierCase is one program with the verdict Linux gives it. Every case
// is loaded into the running kernel by TestKernelVerdicts (kernel_test.go),
// which is how the verdicts and messages were obtained: the kernel is the
// oracle, and msg is a substring of its log. TestCases checks dropmon's
// verifier against the same table.
type verifierCase struct {
	name     string
	progType program.Type
	// maps are indexed by the constant of the case's map loads, as in the
	// JSON program descriptions.
	maps  []*program.MapSpec
	insns asm.Instructions
	// unprivileged verifies as for a loader without CAP_BPF. The kernel
	// test cannot load such programs (kernel.unprivileged_bpf_disabled=2)
	// and loads them privileged only when they are expected to pass.
	unprivileged bool
	// withoutPerfmon verifies as for a loader with CAP_BPF but without
	// CAP_PERFMON (Options.WithoutPerfmon).
	withoutPerfmon bool
	ctxSize        int // Options.ContextSize
	want           verdict
	// msg is a substring of the kernel's log and of dropmon's one-line
	// error, in the kernel's words.
	msg string
	// why explains a verdict of dropmon's that differs from the kernel's
	// on purpose; the kernel test then expects the other verdict.
	why string
}

// kernelWant is the verdict Linux gives the case.
func (c *verifierCase) kernelWant() verdict {
	if c.why != "" {
		return !c.want
	}
	return c.want
}

func (c *verifierCase) program() *program.Program {
	typ := c.progType
	if typ == program.Unspec {
		typ = program.SocketFilter
	}
	return &program.Program{Name: "case", Type: typ, Insns: c.insns, Maps: c.maps, License: "GPL"}
}

// cat concatenates instructions and slices of them.
func cat(parts ...any) asm.Instructions {
	var out asm.Instructions
	for _, p := range parts {
		switch p := p.(type) {
		case asm.Instruction:
			out = append(out, p)
		case asm.Instructions:
			out = append(out, p...)
		default:
			panic(fmt.Sprintf("BUG: cat of %T", p))
		}
	}
	return out
}

// raw builds one instruction from its raw fields through cilium's decoder,
// for what the builders do not offer (sign-extending moves, reserved fields,
// bad registers).
func raw(op uint8, dst, src uint8, off int16, imm int32) asm.Instruction {
	b := make([]byte, asm.InstructionSize)
	b[0] = op
	b[1] = dst&0xf | src<<4
	binary.LittleEndian.PutUint16(b[2:], uint16(off))
	binary.LittleEndian.PutUint32(b[4:], uint32(imm))
	var ins asm.Instruction
	if err := ins.Unmarshal(bytes.NewReader(b), binary.LittleEndian, "linux"); err != nil {
		panic(fmt.Sprintf("BUG: raw instruction %x: %v", b, err))
	}
	return ins
}

// stImm is asm.StoreImm without its refusal of 8-byte stores, which BPF_ST
// allows (the immediate is sign-extended).
func stImm(dst asm.Register, off int16, value int32, size asm.Size) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: int64(value)}
}

func mapOf(t ebpf.MapType, key, value, entries uint32) *program.MapSpec {
	return &program.MapSpec{Type: t, KeySize: key, ValueSize: value, MaxEntries: entries}
}

var (
	// ret0 ends a program with R0 = 0.
	ret0 = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	// out is ret0 as the target of jumps to "out".
	out = asm.Instructions{asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return()}
)

// lookup looks up a zero key, stored at fp-8, in map m: R0 is the value or
// NULL.
func lookup(m int) asm.Instructions {
	return asm.Instructions{
		stImm(asm.RFP, -8, 0, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.LoadMapPtr(asm.R1, m),
		asm.FnMapLookupElem.Call(),
	}
}

// lookupChecked is lookup that jumps to "out" when R0 is NULL.
func lookupChecked(m int) asm.Instructions {
	return cat(lookup(m), asm.JEq.Imm(asm.R0, 0, "out"))
}

// random puts a random u32 into R6 (and clobbers R0-R5).
var random = asm.Instructions{asm.FnGetPrandomU32.Call(), asm.Mov.Reg(asm.R6, asm.R0)}

// xdpPacket loads xdp_md's data into R2 and data_end into R3 and jumps to
// "out" unless n bytes of packet follow data.
func xdpPacket(n int32) asm.Instructions {
	return packet(0, 4, n)
}

// skbPacket is xdpPacket for __sk_buff.
func skbPacket(n int32) asm.Instructions {
	return packet(76, 80, n)
}

func packet(data, dataEnd int16, n int32) asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, data, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, dataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, n),
		asm.JGT.Reg(asm.R4, asm.R3, "out"),
	}
}

// chain is a program of depth frames: main calls f1, which calls f2, ...;
// each frame stores into its stack at fp-stack.
func chain(depth int, stack int16) asm.Instructions {
	var insns asm.Instructions
	for i := 1; i <= depth; i++ {
		first := stImm(asm.RFP, -stack, 0, asm.DWord)
		if i > 1 {
			first = first.WithSymbol(fmt.Sprintf("f%d", i))
		}
		insns = append(insns, first)
		if i < depth {
			insns = append(insns, asm.Call.Label(fmt.Sprintf("f%d", i+1)))
		} else {
			insns = append(insns, asm.Mov.Imm(asm.R0, 0))
		}
		insns = append(insns, asm.Return())
	}
	return insns
}

// loop counts R1 from 0 to n.
func loop(n int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Imm(asm.R1, 0),
		asm.Add.Imm(asm.R1, 1).WithSymbol("loop"),
		asm.JLT.Imm(asm.R1, n, "loop"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
}

// TestCases runs every case through Verify and checks the verdict and, for
// a rejection, that the one-line error holds the case's message.
func TestCases(t *testing.T) {
	passed := 0
	all := slicesConcat(verifierCases, withoutPerfmonCases)
	for _, c := range all {
		ok := t.Run(c.name, func(t *testing.T) {
			opts := &Options{Unprivileged: c.unprivileged, WithoutPerfmon: c.withoutPerfmon, ContextSize: c.ctxSize}
			_, err := Verify(c.program(), opts)
			got := verdict(err == nil)
			if got != c.want {
				t.Fatalf("%s, want %s (%s); error: %v", got, c.want, c.msg, err)
			}
			if err != nil && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not contain %q", err.Error(), c.msg)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("%d of %d cases pass", passed, len(all))
}

// TestCaseTable checks the table itself: names unique, every rejection
// with a message, at least half of the cases rejections.
func TestCaseTable(t *testing.T) {
	names := make(map[string]bool)
	rejections := 0
	for _, c := range slicesConcat(verifierCases, withoutPerfmonCases) {
		if names[c.name] {
			t.Errorf("duplicate case name %q", c.name)
		}
		names[c.name] = true
		if c.want == reject {
			rejections++
			if c.msg == "" {
				t.Errorf("%s: a rejection without a message", c.name)
			}
		}
		if _, err := c.program().MapRefs(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if len(verifierCases) < 150 || 2*rejections < len(verifierCases) {
		t.Errorf("%d cases, %d rejections: want at least 150, half of them rejections", len(verifierCases), rejections)
	}
}

const (
	sf    = program.SocketFilter
	kp    = program.Kprobe
	tc    = program.SchedCLS
	tp    = program.Tracepoint
	xdp   = program.XDP
	pe    = program.PerfEvent
	cgskb = program.CgroupSKB
	rawtp = program.RawTracepoint
)

var (
	array16   = []*program.MapSpec{mapOf(ebpf.Array, 4, 16, 1)}
	hash16    = []*program.MapSpec{mapOf(ebpf.Hash, 8, 16, 4)}
	progArray = []*program.MapSpec{mapOf(ebpf.ProgramArray, 4, 4, 4)}
	ringbuf   = []*program.MapSpec{mapOf(ebpf.RingBuf, 0, 0, 4096)}
	perfArray = []*program.MapSpec{mapOf(ebpf.PerfEventArray, 4, 4, 0)}
)

// verifierCases is the table, grouped by what the cases exercise.
//
// What Linux 6.18 taught the table, where older kernels and the selftests
// of their time say otherwise:
//   - a privileged program may read uninitialised stack, directly, through
//     a helper or with an atomic (env->allow_uninit_stack); only
//     unprivileged programs get "invalid read from stack";
//   - BPF_ST into __sk_buff fields that allow writes is accepted, and so are
//     narrow writes of cb[]; NEG of a pointer is accepted when privileged;
//   - subtracting a register from the frame pointer is refused ("R2
//     subtraction from stack pointer prohibited"), adding a negative one is
//     not;
//   - bpf_get_prandom_u32 is RET_INTEGER: the verifier does not know it is
//     a u32, so bounds need a mask or an explicit w-register move;
//   - a helper a type may not call gives "program of this type cannot use
//     helper", no longer "unknown func"; tracing helpers such as
//     bpf_get_current_pid_tgid and bpf_probe_read_user are base helpers now;
//   - recursion is not a back-edge for a privileged loader: it ends at "the
//     call stack of 9 frames is too deep";
//   - exit's offset field is not checked;
//   - "The sequence of 8193 jumps is too complex" comes with EFAULT;
//   - a direct value load (BPF_PSEUDO_MAP_VALUE) needs an array of one
//     entry.
var verifierCases = slicesConcat(
	registerCases, boundsCases, ctxCases, stackCases, mapCases, packetCases,
	pointerCases, unprivilegedCases, helperCases, loopCases, callCases,
	structureCases, atomicCases, ldAbsCases, isaV4Cases,
	mapFlagCases, shiftCases, nullCompareCases, spectreCases, limitCases, flowDissectorCases,
)

func slicesConcat(groups ...[]verifierCase) []verifierCase {
	var all []verifierCase
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

var registerCases = []verifierCase{
	{name: "return 0", insns: ret0, want: accept},
	{name: "exit with R0 unset", insns: asm.Instructions{asm.Return()}, want: reject, msg: "R0 !read_ok"},
	{name: "read of uninitialised R2", insns: asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2), asm.Return()},
		want: reject, msg: "R2 !read_ok"},
	{name: "alu on uninitialised R6", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Add.Reg(asm.R0, asm.R6), asm.Return()},
		want: reject, msg: "R6 !read_ok"},
	{name: "alu on uninitialised destination", insns: asm.Instructions{asm.Add.Imm(asm.R7, 1), asm.Mov.Imm(asm.R0, 0), asm.Return()},
		want: reject, msg: "R7 !read_ok"},
	{name: "write to R10", insns: cat(asm.Mov.Imm(asm.RFP, 0), ret0), want: reject, msg: "frame pointer is read only"},
	{name: "R1 scratched by a helper call", insns: asm.Instructions{
		asm.FnKtimeGetNs.Call(), asm.Mov.Reg(asm.R0, asm.R1), asm.Return()},
		want: reject, msg: "R1 !read_ok"},
	{name: "R5 scratched by a helper call", insns: asm.Instructions{
		asm.Mov.Imm(asm.R5, 1), asm.FnKtimeGetNs.Call(), asm.Mov.Reg(asm.R0, asm.R5), asm.Return()},
		want: reject, msg: "R5 !read_ok"},
	{name: "R6 survives a helper call", insns: asm.Instructions{
		asm.Mov.Imm(asm.R6, 1), asm.FnKtimeGetNs.Call(), asm.Mov.Reg(asm.R0, asm.R6), asm.Return()},
		want: accept},
	{name: "store of uninitialised register", insns: cat(asm.StoreMem(asm.RFP, -8, asm.R3, asm.DWord), ret0),
		want: reject, msg: "R3 !read_ok"},
	{name: "return ctx pointer privileged", insns: asm.Instructions{asm.Mov.Reg(asm.R0, asm.R1), asm.Return()}, want: accept},
	{name: "register R11", insns: cat(raw(0xb7, 11, 0, 0, 0), ret0), want: reject, msg: "R11 is invalid"},
	{name: "return value from 64-bit immediate", insns: asm.Instructions{
		asm.LoadImm(asm.R0, 0x1234567890, asm.DWord), asm.Return()}, want: accept},
	{name: "32-bit mov zero-extends", insns: asm.Instructions{
		asm.LoadImm(asm.R0, -1, asm.DWord), asm.Mov.Reg32(asm.R0, asm.R0), asm.Return()}, want: accept},
}

var boundsCases = []verifierCase{
	{name: "map value constant offset in bounds", maps: array16, insns: cat(
		lookupChecked(0), asm.Add.Imm(asm.R0, 8), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	{name: "map value constant offset past end", maps: array16, insns: cat(
		lookupChecked(0), asm.LoadMem(asm.R1, asm.R0, 12, asm.DWord), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=12 size=8"},
	{name: "map value negative offset", maps: array16, insns: cat(
		lookupChecked(0), asm.LoadMem(asm.R1, asm.R0, -1, asm.Byte), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=-1 size=1"},
	{name: "variable offset masked to 7", maps: array16, insns: cat(random, lookupChecked(0),
		asm.And.Imm(asm.R6, 7), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	{name: "variable offset masked to 15", maps: array16, insns: cat(random, lookupChecked(0),
		asm.And.Imm(asm.R6, 15), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=15 size=8"},
	{name: "variable offset unbounded", maps: array16, insns: cat(random, lookupChecked(0),
		asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), out),
		want: reject, msg: "math between map_value pointer and register with unbounded min value is not allowed"},
	{name: "variable offset bounded by jge", maps: array16, insns: cat(random, lookupChecked(0),
		asm.JGE.Imm(asm.R6, 9, "out"), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	{name: "variable offset bound off by one", maps: array16, insns: cat(random, lookupChecked(0),
		asm.JGE.Imm(asm.R6, 10, "out"), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=9 size=8"},
	{name: "variable offset bounded by jlt", maps: array16, insns: cat(random, lookupChecked(0),
		asm.JLT.Imm(asm.R6, 16, "ok"), asm.Ja.Label("out"),
		asm.Add.Reg(asm.R0, asm.R6).WithSymbol("ok"), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), out), want: accept},
	{name: "signed upper bound only", maps: array16, insns: cat(random,
		lookupChecked(0), asm.JSGE.Imm(asm.R6, 8, "out"), asm.Add.Reg(asm.R0, asm.R6),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "math between map_value pointer and register with unbounded min value is not allowed"},
	{name: "signed upper bound of a negative scalar", maps: array16, insns: cat(random, asm.LSh.Imm(asm.R6, 32),
		asm.ArSh.Imm(asm.R6, 32), lookupChecked(0), asm.JSGE.Imm(asm.R6, 8, "out"), asm.Add.Reg(asm.R0, asm.R6),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "value -2147483648 makes map_value pointer be out of bounds"},
	{name: "signed bounds on both sides", maps: array16, insns: cat(random, asm.LSh.Imm(asm.R6, 32),
		asm.ArSh.Imm(asm.R6, 32), lookupChecked(0), asm.JSGE.Imm(asm.R6, 8, "out"), asm.JSLT.Imm(asm.R6, 0, "out"),
		asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	{name: "tnum of and 0xf0", maps: array16, insns: cat(random, lookupChecked(0),
		asm.And.Imm(asm.R6, 0xf0), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=240 size=1"},
	{name: "tnum of rsh 60", maps: array16, insns: cat(random, asm.LSh.Imm(asm.R6, 32), lookupChecked(0),
		asm.RSh.Imm(asm.R6, 60), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), out), want: accept},
	{name: "jmp32 bound of a u32", maps: array16, insns: cat(asm.FnGetPrandomU32.Call(), asm.Mov.Reg32(asm.R6, asm.R0), lookupChecked(0),
		asm.JGT.Imm32(asm.R6, 7, "out"), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: accept},
	{name: "jmp32 bound of a u64", maps: array16, insns: cat(random, lookupChecked(0),
		asm.JGT.Imm32(asm.R6, 7, "out"), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "math between map_value pointer and register with unbounded min value is not allowed"},
	{name: "mul of a bounded scalar", maps: array16, insns: cat(random, lookupChecked(0),
		asm.And.Imm(asm.R6, 3), asm.Mul.Imm(asm.R6, 4), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.Word), out),
		want: accept},
	{name: "sub makes the offset negative", maps: array16, insns: cat(random, lookupChecked(0),
		asm.And.Imm(asm.R6, 7), asm.Sub.Imm(asm.R6, 8), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), out),
		want: reject, msg: "R0 min value is negative"},
	{name: "or widens the bound", maps: array16, insns: cat(random, lookupChecked(0),
		asm.And.Imm(asm.R6, 7), asm.Or.Imm(asm.R6, 8), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=15 size=8"},
	{name: "equality makes a constant", maps: array16, insns: cat(random, lookupChecked(0),
		asm.JNE.Imm(asm.R6, 8, "out"), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	{name: "bound learnt from register compare", maps: array16, insns: cat(random, lookupChecked(0),
		asm.Mov.Imm(asm.R7, 8), asm.JGE.Reg(asm.R6, asm.R7, "out"), asm.Add.Reg(asm.R0, asm.R6),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	{name: "mod does not bound", maps: array16, insns: cat(random, lookupChecked(0),
		asm.Mod.Imm(asm.R6, 8), asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out),
		want: reject, msg: "math between map_value pointer and register with unbounded min value is not allowed"},
}

var ctxCases = []verifierCase{
	{name: "tracepoint read at 8", progType: tp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord), asm.Return()},
		want: accept},
	{name: "tracepoint narrow read", progType: tp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 9, asm.Byte), asm.Return()},
		want: accept},
	{name: "tracepoint read of common fields", progType: tp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=0 size=8"},
	{name: "tracepoint write", progType: tp, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 8, asm.R2, asm.DWord), ret0),
		want: reject, msg: "invalid bpf_context access off=8 size=8"},
	{name: "tracepoint misaligned read", progType: tp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 10, asm.Word), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=10 size=4"},
	{name: "tracepoint read past PERF_MAX_TRACE_SIZE", progType: tp, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 8192, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=8192 size=8"},
	{name: "tracepoint read past the record", progType: tp, ctxSize: 16, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 16, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=16 size=8",
		why: "dropmon knows the record's size (Options.ContextSize) and hands programs exactly that many bytes; " +
			"the kernel allows reads up to PERF_MAX_TRACE_SIZE"},
	{name: "kprobe read of pt_regs di", progType: kp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 112, asm.DWord), asm.Return()},
		want: accept},
	{name: "kprobe narrow read", progType: kp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 4, asm.Word), asm.Return()},
		want: accept},
	{name: "kprobe read past pt_regs", progType: kp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 168, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=168 size=8"},
	{name: "kprobe misaligned read", progType: kp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 4, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=4 size=8"},
	{name: "kprobe write", progType: kp, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord), ret0),
		want: reject, msg: "invalid bpf_context access off=0 size=8"},
	{name: "perf_event read of regs", progType: pe, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord), asm.Return()},
		want: accept},
	{name: "perf_event narrow read of regs", progType: pe, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=0 size=4"},
	{name: "perf_event narrow read of sample_period", progType: pe, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 168, asm.Word), asm.Return()}, want: accept},
	{name: "perf_event read of addr", progType: pe, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 176, asm.DWord), asm.Return()},
		want: accept},
	{name: "perf_event read past the end", progType: pe, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 184, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=184 size=8"},
	{name: "socket filter read of len", insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()}, want: accept},
	{name: "socket filter narrow read of len", insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.Byte), asm.Return()},
		want: accept},
	{name: "socket filter write of cb", insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 48, asm.R2, asm.Word), ret0),
		want: accept},
	{name: "socket filter narrow write of cb", insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 48, asm.R2, asm.Byte), ret0),
		want: accept},
	{name: "socket filter write of mark", insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 8, asm.R2, asm.Word), ret0),
		want: reject, msg: "invalid bpf_context access off=8 size=4"},
	{name: "socket filter read of data", insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 76, asm.Word), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=76 size=4"},
	{name: "sched_cls write of mark", progType: tc, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 8, asm.R2, asm.Word), ret0),
		want: accept},
	{name: "sched_cls write of tc_classid", progType: tc, insns: cat(asm.Mov.Imm(asm.R2, 0),
		asm.StoreMem(asm.R1, 72, asm.R2, asm.Word), ret0), want: accept},
	{name: "sched_cls write of len", progType: tc, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 0, asm.R2, asm.Word), ret0),
		want: reject, msg: "invalid bpf_context access off=0 size=4"},
	{name: "sched_cls read of data", progType: tc, insns: cat(asm.LoadMem(asm.R2, asm.R1, 76, asm.Word), ret0), want: accept},
	{name: "sched_cls 8-byte read of data", progType: tc, insns: cat(asm.LoadMem(asm.R2, asm.R1, 76, asm.DWord), ret0),
		want: reject, msg: "invalid bpf_context access off=76 size=8"},
	{name: "sched_cls read past __sk_buff", progType: tc, insns: cat(asm.LoadMem(asm.R2, asm.R1, 192, asm.Word), ret0),
		want: reject, msg: "invalid bpf_context access off=192 size=4"},
	{name: "modified ctx pointer", insns: asm.Instructions{asm.Add.Imm(asm.R1, 8), asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()},
		want: reject, msg: "dereference of modified ctx ptr R1 off=8 disallowed"},
	{name: "variable ctx offset", insns: cat(asm.Mov.Reg(asm.R7, asm.R1), random, asm.And.Imm(asm.R6, 4),
		asm.Add.Reg(asm.R7, asm.R6), asm.LoadMem(asm.R0, asm.R7, 0, asm.Word), asm.Return()),
		want: reject, msg: "variable ctx access var_off="},
	{name: "xdp read of ingress_ifindex", progType: xdp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 12, asm.Word), asm.Return()},
		want: accept},
	{name: "xdp read of egress_ifindex", progType: xdp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 20, asm.Word), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=20 size=4"},
	{name: "xdp write of data", progType: xdp, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 0, asm.R2, asm.Word), ret0),
		want: reject, msg: "invalid bpf_context access off=0 size=4"},
	{name: "xdp 8-byte read", progType: xdp, insns: asm.Instructions{asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord), asm.Return()},
		want: reject, msg: "invalid bpf_context access off=0 size=8"},
	{name: "cgroup_skb read of data", progType: cgskb, insns: cat(asm.LoadMem(asm.R2, asm.R1, 76, asm.Word), asm.Mov.Imm(asm.R0, 1),
		asm.Return()), want: accept},
	{name: "cgroup_skb write of mark", progType: cgskb, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 8, asm.R2, asm.Word),
		asm.Mov.Imm(asm.R0, 1), asm.Return()), want: accept},
	{name: "cgroup_skb write of tc_index", progType: cgskb, insns: cat(asm.Mov.Imm(asm.R2, 0),
		asm.StoreMem(asm.R1, 44, asm.R2, asm.Word), asm.Mov.Imm(asm.R0, 1), asm.Return()),
		want: reject, msg: "invalid bpf_context access off=44 size=4"},
	{name: "cgroup_skb returns 2", progType: cgskb, insns: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
		want: reject, msg: "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]"},
	{name: "cgroup_skb returns an unknown value", progType: cgskb, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()}, want: reject, msg: "should have been in [0, 1]"},
	{name: "cgroup_skb returns a bounded value", progType: cgskb, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.And.Imm(asm.R0, 1), asm.Return()}, want: accept},
	{name: "xdp returns any value", progType: xdp, insns: asm.Instructions{asm.Mov.Imm(asm.R0, 100), asm.Return()}, want: accept},
	{name: "raw_tracepoint read of an argument", progType: rawtp, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord), asm.Return()}, want: accept},
	{name: "raw_tracepoint write", progType: rawtp, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord), ret0),
		want: reject, msg: "invalid bpf_context access off=0 size=8"},
	{name: "BPF_ST into __sk_buff mark", progType: tc, insns: cat(stImm(asm.R1, 8, 0, asm.Word), ret0), want: accept},
	{name: "BPF_ST into __sk_buff len", progType: tc, insns: cat(stImm(asm.R1, 0, 0, asm.Word), ret0),
		want: reject, msg: "invalid bpf_context access off=0 size=4"},
}

var stackCases = []verifierCase{
	{name: "stack store then load", insns: asm.Instructions{stImm(asm.RFP, -8, 7, asm.DWord),
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()}, want: accept},
	{name: "read of uninitialised stack privileged", insns: asm.Instructions{asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()},
		want: accept},
	{name: "read of partly initialised stack privileged", insns: asm.Instructions{stImm(asm.RFP, -8, 7, asm.Word),
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()}, want: accept},
	{name: "write below the frame", insns: cat(stImm(asm.RFP, -520, 0, asm.DWord), ret0),
		want: reject, msg: "invalid write to stack R10 off=-520 size=8"},
	{name: "write above the frame", insns: cat(stImm(asm.RFP, 0, 0, asm.DWord), ret0),
		want: reject, msg: "invalid write to stack R10 off=0 size=8"},
	{name: "write at the bottom of the frame", insns: cat(stImm(asm.RFP, -512, 0, asm.DWord), ret0), want: accept},
	{name: "misaligned stack write", insns: cat(stImm(asm.RFP, -6, 0, asm.Word), ret0),
		want: reject, msg: "misaligned stack access off 0+0+-6 size 4"},
	{name: "spill and fill of ctx", insns: asm.Instructions{asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, -8, asm.DWord), asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return()}, want: accept},
	{name: "partly overwritten spill", insns: asm.Instructions{asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		stImm(asm.RFP, -8, 0, asm.Byte), asm.LoadMem(asm.R2, asm.RFP, -8, asm.DWord),
		asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return()}, want: reject, msg: "R2 invalid mem access 'scalar'"},
	{name: "narrow fill of a spilled pointer", insns: asm.Instructions{asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.Word), asm.Return()}, want: reject, msg: "invalid size of register fill"},
	{name: "spilled scalar keeps its bounds", maps: array16, insns: cat(random, asm.And.Imm(asm.R6, 7),
		asm.StoreMem(asm.RFP, -16, asm.R6, asm.DWord), lookupChecked(0), asm.LoadMem(asm.R6, asm.RFP, -16, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R6), asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord), out), want: accept},
	// Narrow fills (found by TestDifferential's generator): only the low
	// bytes of a spilled scalar keep its facts; others are unknown unless
	// the spilled value is 0.
	{name: "fill of a spilled constant's high half is unknown", maps: array16, insns: cat(asm.Mov.Imm(asm.R1, 59),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord), asm.LoadMem(asm.R9, asm.RFP, -12, asm.Word), lookupChecked(0),
		asm.Add.Reg(asm.R0, asm.R9), asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), out),
		want: reject, msg: "R0 unbounded memory access, make sure to bounds check any such access"},
	{name: "fill of a spilled constant's low half keeps it", maps: array16, insns: cat(asm.Mov.Imm(asm.R1, 9),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord), asm.LoadMem(asm.R9, asm.RFP, -16, asm.Word), lookupChecked(0),
		asm.Add.Reg(asm.R0, asm.R9), asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), out), want: accept},
	{name: "fill of a spilled zero's high half is zero", maps: array16, insns: cat(asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord), asm.LoadMem(asm.R9, asm.RFP, -12, asm.Word), lookupChecked(0),
		asm.Add.Reg(asm.R0, asm.R9), asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), out), want: accept},
	{name: "stack pointer in a register", insns: cat(asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		stImm(asm.R2, 0, 1, asm.DWord), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return()), want: accept},
	{name: "variable-offset stack read", insns: cat(random, stImm(asm.RFP, -16, 0, asm.DWord),
		stImm(asm.RFP, -8, 0, asm.DWord), asm.And.Imm(asm.R6, 8), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -16),
		asm.Add.Reg(asm.R2, asm.R6), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return()), want: accept},
	{name: "variable-offset read of uninitialised stack privileged", insns: cat(random, stImm(asm.RFP, -16, 0, asm.DWord),
		asm.And.Imm(asm.R6, 8), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -16),
		asm.Add.Reg(asm.R2, asm.R6), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return()), want: accept},
	{name: "variable-offset stack write out of frame", insns: cat(random, asm.And.Imm(asm.R6, 16),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.Add.Reg(asm.R2, asm.R6),
		stImm(asm.R2, 0, 0, asm.DWord), ret0),
		want: reject, msg: "invalid variable-offset write to stack R2"},
}

var mapCases = []verifierCase{
	{name: "lookup without null check", maps: hash16, insns: cat(lookup(0), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return()),
		want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "lookup with null check", maps: hash16, insns: cat(lookupChecked(0), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord),
		asm.Return(), out), want: accept},
	{name: "null check the wrong way round", maps: hash16, insns: cat(lookup(0), asm.JNE.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out),
		want: reject, msg: "R0 invalid mem access 'scalar'"},
	{name: "arithmetic before the null check", maps: hash16, insns: cat(lookup(0), asm.Add.Imm(asm.R0, 8),
		asm.JEq.Imm(asm.R0, 0, "out"), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out),
		want: reject, msg: "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first"},
	{name: "null check through a copy", maps: hash16, insns: cat(lookup(0), asm.Mov.Reg(asm.R1, asm.R0),
		asm.JEq.Imm(asm.R1, 0, "out"), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "null check of a copy made after it", maps: hash16, insns: cat(lookup(0), asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R1, asm.R0), asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord), asm.Return(), out), want: accept},
	{name: "or_null value as a helper argument", maps: hash16, insns: cat(lookup(0), asm.Mov.Reg(asm.R2, asm.R0),
		asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(), ret0),
		want: reject, msg: "R2 type=map_value_or_null expected=fp"},
	{name: "null check after a spill and fill", maps: hash16, insns: cat(lookup(0), asm.StoreMem(asm.RFP, -16, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, -16, asm.DWord), asm.JEq.Imm(asm.R1, 0, "out"), asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord),
		asm.Return(), out), want: accept},
	{name: "compare with 1 is no null check", maps: hash16, insns: cat(lookup(0), asm.JEq.Imm(asm.R0, 1, "out"),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out),
		want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "null check with jne", maps: hash16, insns: cat(lookup(0), asm.JNE.Imm(asm.R0, 0, "ok"), asm.Mov.Imm(asm.R0, 0),
		asm.Return(), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord).WithSymbol("ok"), asm.Return()), want: accept},
	{name: "store into a map value", maps: array16, insns: cat(lookupChecked(0), stImm(asm.R0, 8, 1, asm.DWord), out),
		want: accept},
	{name: "store past a map value", maps: array16, insns: cat(lookupChecked(0), stImm(asm.R0, 16, 1, asm.Byte), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=16 size=1"},
	{name: "write into a read-only map", maps: []*program.MapSpec{{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1,
		Flags: 0x80}}, insns: cat(lookupChecked(0), stImm(asm.R0, 0, 1, asm.DWord), out),
		want: reject, msg: "write into map forbidden"},
	{name: "direct value load", maps: array16, insns: asm.Instructions{asm.LoadMapValue(asm.R1, 0, 4),
		asm.LoadMem(asm.R0, asm.R1, 8, asm.Word), asm.Return()}, want: accept},
	{name: "direct value load past the value", maps: array16, insns: asm.Instructions{asm.LoadMapValue(asm.R1, 0, 4),
		asm.LoadMem(asm.R0, asm.R1, 12, asm.Word), asm.Return()},
		want: reject, msg: "invalid access to map value, value_size=16 off=16 size=4"},
	{name: "direct value load from a hash", maps: hash16, insns: asm.Instructions{asm.LoadMapValue(asm.R1, 0, 0),
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()}, want: reject, msg: "no direct value access support for this map type"},
	{name: "key partly out of the frame", maps: hash16, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -4), asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(), ret0),
		want: reject, msg: "invalid read from stack R2 off=-4 size=8"},
	{name: "uninitialised key privileged", maps: hash16, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(), ret0), want: accept},
	{name: "update from the stack", maps: hash16, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		stImm(asm.RFP, -24, 0, asm.DWord), stImm(asm.RFP, -16, 0, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -24), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call(), ret0),
		want: accept},
	{name: "update with an uninitialised value privileged", maps: hash16, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		stImm(asm.RFP, -24, 0, asm.DWord), asm.LoadMapPtr(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -24), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call(), ret0),
		want: accept},
	{name: "update with a value past the frame", maps: hash16, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call(), ret0),
		want: reject, msg: "invalid read from stack R3 off=-8 size=16"},
	{name: "update with a map value as the value", maps: []*program.MapSpec{mapOf(ebpf.Hash, 8, 16, 4), mapOf(ebpf.Array, 4, 16, 1)},
		insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.LoadMapPtr(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -8), asm.LoadMapValue(asm.R3, 1, 0), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call(), ret0),
		want: accept},
	{name: "store through a map pointer", maps: hash16, insns: cat(asm.LoadMapPtr(asm.R1, 0), stImm(asm.R1, 0, 0, asm.DWord), ret0),
		want: reject, msg: "only read from bpf_htab is supported"},
	{name: "arithmetic on a map pointer", maps: hash16, insns: cat(asm.LoadMapPtr(asm.R1, 0), asm.Add.Imm(asm.R1, 8), ret0),
		want: reject, msg: "R1 pointer arithmetic on map_ptr prohibited"},
	{name: "lookup in an inner map", maps: []*program.MapSpec{{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2,
		InnerMap: mapOf(ebpf.Array, 4, 8, 1)}}, insns: cat(lookupChecked(0), asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.FnMapLookupElem.Call(), asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "inner map without null check", maps: []*program.MapSpec{{Type: ebpf.ArrayOfMaps, KeySize: 4, ValueSize: 4, MaxEntries: 2,
		InnerMap: mapOf(ebpf.Array, 4, 8, 1)}}, insns: cat(lookup(0), asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.FnMapLookupElem.Call(), ret0),
		want: reject, msg: "R1 type=map_value_or_null expected=map_ptr"},
	{name: "percpu array value", maps: []*program.MapSpec{mapOf(ebpf.PerCPUArray, 4, 8, 1)}, insns: cat(lookupChecked(0),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "lpm trie lookup", maps: []*program.MapSpec{{Type: ebpf.LPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 4, Flags: 1}},
		insns: cat(lookupChecked(0), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "lookup in a prog array", maps: progArray, insns: cat(lookup(0), ret0),
		want: reject, msg: "cannot pass map_type 3 into func bpf_map_lookup_elem#1"},
}

var packetCases = []verifierCase{
	{name: "xdp read without bounds check", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte), asm.Return()), want: reject, msg: "invalid access to packet, off=0 size=1"},
	{name: "xdp read after data+8 > data_end", progType: xdp, insns: cat(xdpPacket(8), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord),
		asm.Return(), out), want: accept},
	{name: "xdp read past the checked range", progType: xdp, insns: cat(xdpPacket(4), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord),
		asm.Return(), out), want: reject, msg: "invalid access to packet, off=0 size=8, R2(id=0,off=0,r=4)"},
	{name: "xdp read in the unsafe branch", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JGT.Reg(asm.R4, asm.R3, "bad"), asm.Mov.Imm(asm.R0, 0), asm.Return(),
		asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte).WithSymbol("bad"), asm.Return()),
		want: reject, msg: "invalid access to packet"},
	{name: "xdp data_end < data+8", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JLT.Reg(asm.R3, asm.R4, "out"), asm.LoadMem(asm.R0, asm.R2, 4, asm.Word), asm.Return(), out), want: accept},
	{name: "xdp data+8 >= data_end", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JGE.Reg(asm.R4, asm.R3, "out"), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "xdp data+8 <= data_end taken", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JLE.Reg(asm.R4, asm.R3, "ok"), asm.Mov.Imm(asm.R0, 0), asm.Return(),
		asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord).WithSymbol("ok"), asm.Return()), want: accept},
	{name: "xdp data_end > data+8 taken", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JGT.Reg(asm.R3, asm.R4, "ok"), asm.Mov.Imm(asm.R0, 0), asm.Return(),
		asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord).WithSymbol("ok"), asm.Return()), want: accept},
	{name: "xdp data_end >= data+8 fallthrough", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JGE.Reg(asm.R3, asm.R4, "ok"), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("ok"), asm.Return()), want: reject, msg: "invalid access to packet"},
	{name: "xdp 32-bit compare of packet pointers", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 8),
		asm.JGT.Reg32(asm.R4, asm.R3, "out"), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord), asm.Return(), out),
		want: reject, msg: "invalid access to packet"},
	{name: "xdp write into the packet", progType: xdp, insns: cat(xdpPacket(4), stImm(asm.R2, 0, 1, asm.Word), out),
		want: accept},
	{name: "xdp read before data", progType: xdp, insns: cat(xdpPacket(4), asm.LoadMem(asm.R0, asm.R2, -1, asm.Byte),
		asm.Return(), out), want: reject, msg: "invalid access to packet, off=-1 size=1"},
	{name: "xdp metadata read", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 8, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 4),
		asm.JGT.Reg(asm.R4, asm.R3, "out"), asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return(), out), want: accept},
	{name: "xdp metadata read without check", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 8, asm.Word),
		asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return()), want: reject, msg: "invalid access to packet"},
	{name: "xdp variable offset rechecked", progType: xdp, insns: cat(xdpPacket(1), asm.LoadMem(asm.R5, asm.R2, 0, asm.Byte),
		asm.And.Imm(asm.R5, 0xf), asm.Add.Reg(asm.R2, asm.R5), asm.Mov.Reg(asm.R4, asm.R2), asm.Add.Imm(asm.R4, 4),
		asm.JGT.Reg(asm.R4, asm.R3, "out"), asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return(), out), want: accept},
	{name: "xdp variable offset not rechecked", progType: xdp, insns: cat(xdpPacket(32), asm.LoadMem(asm.R5, asm.R2, 0, asm.Byte),
		asm.And.Imm(asm.R5, 0xf), asm.Add.Reg(asm.R2, asm.R5), asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return(), out),
		want: reject, msg: "invalid access to packet"},
	{name: "arithmetic on data_end", progType: xdp, insns: cat(asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Add.Imm(asm.R3, 1), ret0),
		want: reject, msg: "R3 pointer arithmetic on pkt_end prohibited"},
	{name: "sched_cls read after check", progType: tc, insns: cat(skbPacket(14), asm.LoadMem(asm.R0, asm.R2, 12, asm.Half),
		asm.Return(), out), want: accept},
	{name: "sched_cls write after check", progType: tc, insns: cat(skbPacket(14), stImm(asm.R2, 0, 0, asm.Half), out),
		want: accept},
	{name: "sched_cls read past the check", progType: tc, insns: cat(skbPacket(14), asm.LoadMem(asm.R0, asm.R2, 12, asm.Word),
		asm.Return(), out), want: reject, msg: "invalid access to packet, off=12 size=4, R2(id=0,off=12,r=14)"},
	{name: "cgroup_skb write into the packet", progType: cgskb, insns: cat(skbPacket(4), stImm(asm.R2, 0, 0, asm.Byte),
		asm.Mov.Imm(asm.R0, 1), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("out"), asm.Return()),
		want: reject, msg: "cannot write into packet"},
	{name: "cgroup_skb read from the packet", progType: cgskb, insns: cat(skbPacket(4), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte),
		asm.Mov.Imm(asm.R0, 1), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("out"), asm.Return()), want: accept},
	{name: "xdp map key in the packet", progType: xdp, maps: hash16, insns: cat(xdpPacket(8), asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(), out), want: accept},
	{name: "xdp map key past the checked packet", progType: xdp, maps: hash16, insns: cat(xdpPacket(4), asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(), out), want: reject, msg: "invalid access to packet"},
	{name: "xdp_adjust_head invalidates packet pointers", progType: xdp, insns: cat(asm.Mov.Reg(asm.R6, asm.R1), xdpPacket(8),
		asm.Mov.Reg(asm.R7, asm.R2), asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R2, 0), asm.FnXdpAdjustHead.Call(),
		asm.LoadMem(asm.R0, asm.R7, 0, asm.Byte), asm.Return(), out), want: reject, msg: "R7 invalid mem access 'scalar'"},
	{name: "xdp_adjust_head then a new check", progType: xdp, insns: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R2, 0),
		asm.FnXdpAdjustHead.Call(), asm.Mov.Reg(asm.R1, asm.R6), xdpPacket(8), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte),
		asm.Return(), out), want: accept},
	{name: "packet length from data_end - data", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R0, asm.R3), asm.Sub.Reg(asm.R0, asm.R2), asm.Return()),
		want: accept},
	{name: "store of a packet pointer in a map value", progType: xdp, maps: array16, insns: cat(lookupChecked(0),
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), asm.Mov.Imm(asm.R0, 0), asm.Return(), out),
		want: reject, msg: "R1 !read_ok"},
}

var pointerCases = []verifierCase{
	{name: "pointer plus pointer", insns: cat(asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Reg(asm.R2, asm.R1), ret0),
		want: reject, msg: "R2 pointer += pointer prohibited"},
	{name: "pointer minus pointer privileged", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.Mov.Reg(asm.R0, asm.R2), asm.Sub.Reg(asm.R0, asm.R2), asm.Return()), want: accept},
	{name: "pointer times scalar", insns: cat(asm.Mul.Imm(asm.R1, 2), ret0),
		want: reject, msg: "R1 pointer arithmetic with *= operator prohibited"},
	{name: "pointer and scalar", insns: cat(asm.And.Imm(asm.R1, -8), ret0),
		want: reject, msg: "R1 bitwise operator &= on pointer prohibited"},
	{name: "pointer shifted", insns: cat(asm.LSh.Imm(asm.R1, 1), ret0),
		want: reject, msg: "R1 pointer arithmetic with <<= operator prohibited"},
	{name: "32-bit pointer arithmetic", insns: cat(asm.Add.Imm32(asm.R1, 8), ret0),
		want: reject, msg: "R1 32-bit pointer arithmetic prohibited"},
	{name: "scalar minus pointer", insns: cat(asm.Mov.Imm(asm.R0, 0), asm.Sub.Reg(asm.R0, asm.R1), ret0),
		want: reject, msg: "R0 tried to subtract pointer from scalar"},
	{name: "negated pointer privileged", insns: cat(asm.Neg.Imm(asm.R1, 0), ret0), want: accept},
	{name: "stack pointer plus constant", insns: cat(asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -16),
		stImm(asm.R2, 8, 0, asm.DWord), ret0), want: accept},
	{name: "stack pointer minus scalar register", insns: cat(asm.Mov.Imm(asm.R3, 16), asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Sub.Reg(asm.R2, asm.R3), stImm(asm.R2, 0, 0, asm.DWord), ret0),
		want: reject, msg: "R2 subtraction from stack pointer prohibited"},
	{name: "stack pointer minus constant register", insns: cat(asm.Mov.Imm(asm.R3, -16), asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Reg(asm.R2, asm.R3), stImm(asm.R2, 0, 0, asm.DWord), ret0), want: accept},
	{name: "scalar plus pointer", insns: cat(asm.Mov.Imm(asm.R2, -8), asm.Add.Reg(asm.R2, asm.RFP),
		stImm(asm.R2, 0, 0, asm.DWord), ret0), want: accept},
	{name: "map value plus unbounded u64", maps: array16, insns: cat(lookupChecked(0), asm.LoadImm(asm.R1, 1<<40, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R1), asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), asm.Return(), out),
		want: reject, msg: "math between map_value pointer and 1099511627776 is not allowed"},
	{name: "32-bit copy of a pointer privileged", insns: asm.Instructions{asm.Mov.Reg32(asm.R0, asm.R1), asm.Return()}, want: accept},
	{name: "deref of a scalar", insns: asm.Instructions{asm.Mov.Imm(asm.R2, 0x1000), asm.LoadMem(asm.R0, asm.R2, 0, asm.DWord),
		asm.Return()}, want: reject, msg: "R2 invalid mem access 'scalar'"},
	{name: "deref of a helper result", insns: cat(asm.FnGetPrandomU32.Call(), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord),
		asm.Return()), want: reject, msg: "R0 invalid mem access 'scalar'"},
	{name: "pointer compare privileged", insns: cat(asm.JEq.Reg(asm.R1, asm.RFP, "out"), out), want: accept},
	{name: "packet pointer plus too much", progType: xdp, insns: cat(asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.Add.Imm(asm.R2, 0x10000), asm.LoadMem(asm.R3, asm.R1, 4, asm.Word), asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 1), asm.JGT.Reg(asm.R4, asm.R3, "out"), asm.LoadMem(asm.R0, asm.R2, 0, asm.Byte), asm.Return(), out),
		want: reject, msg: "invalid access to packet"},
}

var unprivilegedCases = []verifierCase{
	{name: "unprivileged return of ctx", unprivileged: true, insns: asm.Instructions{asm.Mov.Reg(asm.R0, asm.R1), asm.Return()},
		want: reject, msg: "R0 leaks addr as return value"},
	{name: "unprivileged return of a map value", unprivileged: true, maps: array16, insns: cat(lookupChecked(0), asm.Return(), out),
		want: reject, msg: "R0 leaks addr as return value"},
	{name: "unprivileged pointer in a map", unprivileged: true, maps: array16, insns: cat(lookupChecked(0),
		asm.StoreMem(asm.R0, 0, asm.RFP, asm.DWord), out), want: reject, msg: "R10 leaks addr into map"},
	{name: "unprivileged pointer compare", unprivileged: true, insns: cat(asm.JEq.Reg(asm.R1, asm.RFP, "out"), out),
		want: reject, msg: "R10 pointer comparison prohibited"},
	{name: "unprivileged pointer minus pointer", unprivileged: true, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Sub.Reg(asm.R2, asm.RFP), ret0), want: reject, msg: "R2 pointer -= pointer prohibited"},
	{name: "unprivileged partial overwrite of a spill", unprivileged: true, insns: cat(asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		stImm(asm.RFP, -8, 0, asm.Byte), ret0), want: reject, msg: "attempt to corrupt spilled pointer on stack"},
	{name: "unprivileged 32-bit copy of a pointer", unprivileged: true, insns: cat(asm.Mov.Reg32(asm.R2, asm.R1), ret0),
		want: reject, msg: "R1 partial copy of pointer"},
	{name: "unprivileged bpf_trace_printk", unprivileged: true, insns: cat(stImm(asm.RFP, -8, 0x0a6968, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8), asm.Mov.Imm(asm.R2, 8), asm.FnTracePrintk.Call(), ret0),
		want: reject, msg: "program of this type cannot use helper bpf_trace_printk#6"},
	{name: "unprivileged loop", unprivileged: true, insns: loop(4), want: reject, msg: "back-edge from insn 2 to 1"},
	{name: "unprivileged read of uninitialised stack", unprivileged: true, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()}, want: reject, msg: "invalid read from stack R10 off=-8 size=8"},
	{name: "unprivileged uninitialised key", unprivileged: true, maps: hash16, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8), asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(), ret0),
		want: reject, msg: "invalid read from stack R2 off=-8 size=8"},
	{name: "unprivileged negated pointer", unprivileged: true, insns: cat(asm.Neg.Imm(asm.R1, 0), ret0),
		want: reject, msg: "R1 pointer arithmetic prohibited"},
	{name: "unprivileged atomic add of a pointer", unprivileged: true, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.AddAtomic.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0), want: reject, msg: "R1 leaks addr into mem"},
	{name: "unprivileged map lookup", unprivileged: true, maps: hash16, insns: cat(lookupChecked(0),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "unprivileged spill and fill", unprivileged: true, insns: asm.Instructions{asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, -8, asm.DWord), asm.LoadMem(asm.R0, asm.R2, 0, asm.Word), asm.Return()}, want: accept},
	{name: "unprivileged stack arithmetic", unprivileged: true, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		stImm(asm.R2, 0, 0, asm.DWord), ret0), want: accept},
	{name: "unprivileged read of __sk_buff len", unprivileged: true, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()}, want: accept},
}

var helperCases = []verifierCase{
	{name: "scalar as the map argument", insns: cat(asm.Mov.Imm(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		stImm(asm.RFP, -8, 0, asm.DWord), asm.FnMapLookupElem.Call(), ret0),
		want: reject, msg: "R1 type=scalar expected=map_ptr"},
	{name: "scalar as the key argument", maps: hash16, insns: cat(asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 0),
		asm.FnMapLookupElem.Call(), ret0), want: reject, msg: "R2 type=scalar expected=fp"},
	{name: "probe_read_kernel into the stack", progType: kp, insns: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16),
		asm.Mov.Imm(asm.R2, 16), asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadKernel.Call(), ret0), want: accept},
	{name: "probe_read_kernel past the frame", progType: kp, insns: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16),
		asm.Mov.Imm(asm.R2, 32), asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadKernel.Call(), ret0),
		want: reject, msg: "invalid write to stack R1 off=-16 size=32"},
	{name: "probe_read_kernel with an unbounded size", progType: kp, insns: cat(asm.FnGetPrandomU32.Call(), asm.Mov.Reg(asm.R2, asm.R0),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16), asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadKernel.Call(), ret0),
		want: reject, msg: "R2 min value is negative, either use unsigned or 'var &= const'"},
	{name: "probe_read_kernel with a u32 size", progType: kp, insns: cat(asm.FnGetPrandomU32.Call(), asm.Mov.Reg32(asm.R2, asm.R0),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16), asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadKernel.Call(), ret0),
		want: reject, msg: "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'"},
	{name: "probe_read_kernel with a bounded size", progType: kp, insns: cat(asm.FnGetPrandomU32.Call(), asm.Mov.Reg(asm.R2, asm.R0),
		asm.And.Imm(asm.R2, 15), asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16), asm.Mov.Imm(asm.R3, 0),
		asm.FnProbeReadKernel.Call(), ret0), want: accept},
	{name: "probe_read_kernel with a negative size", progType: kp, insns: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -16),
		asm.Mov.Imm(asm.R2, -1), asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadKernel.Call(), ret0),
		want: reject, msg: "R2 min value is negative, either use unsigned or 'var &= const'"},
	{name: "skb_load_bytes into the stack", insns: cat(asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8),
		asm.Mov.Imm(asm.R4, 8), asm.FnSkbLoadBytes.Call(), ret0), want: accept},
	{name: "skb_load_bytes of zero bytes", insns: cat(asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8),
		asm.Mov.Imm(asm.R4, 0), asm.FnSkbLoadBytes.Call(), ret0), want: reject, msg: "R4 invalid zero-sized read"},
	{name: "skb_load_bytes with the stack as ctx", insns: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 8), asm.FnSkbLoadBytes.Call(), ret0),
		want: reject, msg: "R1 type=fp expected=ctx"},
	{name: "skb_load_bytes into a map value", maps: array16, insns: cat(asm.Mov.Reg(asm.R6, asm.R1), lookupChecked(0),
		asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.R0), asm.Mov.Imm(asm.R4, 16),
		asm.FnSkbLoadBytes.Call(), out), want: accept},
	{name: "skb_load_bytes past a map value", maps: array16, insns: cat(asm.Mov.Reg(asm.R6, asm.R1), lookupChecked(0),
		asm.Mov.Reg(asm.R1, asm.R6), asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.R0), asm.Mov.Imm(asm.R4, 17),
		asm.FnSkbLoadBytes.Call(), out), want: reject, msg: "invalid access to map value, value_size=16 off=0 size=17"},
	{name: "helper not allowed for xdp", progType: xdp, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 8), asm.FnSkbLoadBytes.Call(), ret0),
		want: reject, msg: "program of this type cannot use helper bpf_skb_load_bytes#26"},
	{name: "helper id out of range", insns: cat(asm.BuiltinFunc(10000).Call(), ret0), want: reject, msg: "invalid func unknown#10000"},
	{name: "perf_event_output into a hash", progType: kp, maps: hash16, insns: cat(asm.LoadMapPtr(asm.R2, 0),
		asm.LoadImm(asm.R3, 0xffffffff, asm.DWord), stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Reg(asm.R4, asm.RFP),
		asm.Add.Imm(asm.R4, -8), asm.Mov.Imm(asm.R5, 8), asm.FnPerfEventOutput.Call(), ret0),
		want: reject, msg: "cannot pass map_type 1 into func bpf_perf_event_output#25"},
	{name: "perf_event_output into a perf event array", progType: kp, maps: perfArray, insns: cat(asm.LoadMapPtr(asm.R2, 0),
		asm.LoadImm(asm.R3, 0xffffffff, asm.DWord), stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Reg(asm.R4, asm.RFP),
		asm.Add.Imm(asm.R4, -8), asm.Mov.Imm(asm.R5, 8), asm.FnPerfEventOutput.Call(), ret0), want: accept},
	{name: "tail call through a prog array", maps: progArray, insns: cat(asm.LoadMapPtr(asm.R2, 0), asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(), ret0), want: accept},
	{name: "tail call through an array", maps: array16, insns: cat(asm.LoadMapPtr(asm.R2, 0), asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(), ret0), want: reject, msg: "expected prog array map for tail call"},
	{name: "map update of a prog array", maps: progArray, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.LoadMapPtr(asm.R1, 0), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 0), asm.FnMapUpdateElem.Call(), ret0),
		want: reject, msg: "cannot pass map_type 3 into func bpf_map_update_elem#2"},
	{name: "ringbuf reserve and submit", progType: kp, maps: ringbuf, insns: cat(asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Imm(asm.R3, 0), asm.FnRingbufReserve.Call(), asm.JEq.Imm(asm.R0, 0, "out"), stImm(asm.R0, 0, 0, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.R0), asm.Mov.Imm(asm.R2, 0), asm.FnRingbufSubmit.Call(), out), want: accept},
	{name: "ringbuf record leaked", progType: kp, maps: ringbuf, insns: cat(asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Imm(asm.R3, 0), asm.FnRingbufReserve.Call(), out), want: reject, msg: "Unreleased reference id=2 alloc_insn=4"},
	{name: "ringbuf record written past its size", progType: kp, maps: ringbuf, insns: cat(asm.LoadMapPtr(asm.R1, 0),
		asm.Mov.Imm(asm.R2, 8), asm.Mov.Imm(asm.R3, 0), asm.FnRingbufReserve.Call(), asm.JEq.Imm(asm.R0, 0, "out"),
		stImm(asm.R0, 8, 0, asm.DWord), asm.Mov.Reg(asm.R1, asm.R0), asm.Mov.Imm(asm.R2, 0), asm.FnRingbufSubmit.Call(), out),
		want: reject, msg: "invalid access to memory, mem_size=8 off=8 size=8"},
	{name: "ringbuf reserve with a variable size", progType: kp, maps: ringbuf, insns: cat(asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg(asm.R2, asm.R0), asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R3, 0), asm.FnRingbufReserve.Call(), ret0),
		want: reject, msg: "R2 is not a known constant"},
	{name: "ringbuf output into a hash", progType: kp, maps: hash16, insns: cat(asm.LoadMapPtr(asm.R1, 0),
		stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.Mov.Imm(asm.R3, 8),
		asm.Mov.Imm(asm.R4, 0), asm.FnRingbufOutput.Call(), ret0),
		want: reject, msg: "cannot pass map_type 1 into func bpf_ringbuf_output#130"},
	{name: "trace_printk from the stack", progType: kp, insns: cat(stImm(asm.RFP, -8, 0x0a6968, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8), asm.Mov.Imm(asm.R2, 8), asm.FnTracePrintk.Call(), ret0),
		want: accept},
	{name: "helper reads uninitialised stack privileged", progType: kp, insns: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8),
		asm.Mov.Imm(asm.R2, 8), asm.FnTracePrintk.Call(), ret0), want: accept},
	{name: "get_current_pid_tgid in kprobe", progType: kp, insns: cat(asm.FnGetCurrentPidTgid.Call(), asm.Return()),
		want: accept},
	{name: "get_current_pid_tgid in xdp", progType: xdp, insns: cat(asm.FnGetCurrentPidTgid.Call(), asm.Return()),
		want: accept},
	{name: "probe_read_user in xdp", progType: xdp, insns: cat(asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8),
		asm.Mov.Imm(asm.R2, 8), asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadUser.Call(), ret0), want: accept},
	{name: "skb_store_bytes in xdp", progType: xdp, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 8), asm.Mov.Imm(asm.R5, 0),
		asm.FnSkbStoreBytes.Call(), ret0), want: reject, msg: "program of this type cannot use helper bpf_skb_store_bytes#9"},
	{name: "skb_store_bytes in a socket filter", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 8), asm.Mov.Imm(asm.R5, 0),
		asm.FnSkbStoreBytes.Call(), ret0), want: reject, msg: "program of this type cannot use helper bpf_skb_store_bytes#9"},
	{name: "skb_store_bytes in sched_cls", progType: tc, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -8), asm.Mov.Imm(asm.R4, 8), asm.Mov.Imm(asm.R5, 0),
		asm.FnSkbStoreBytes.Call(), ret0), want: accept},
	{name: "helper result is a scalar", progType: kp, insns: cat(asm.FnKtimeGetNs.Call(), asm.Add.Imm(asm.R0, 1), asm.Return()),
		want: accept},
}

var loopCases = []verifierCase{
	{name: "bounded loop", insns: loop(10), want: accept},
	{name: "bounded loop of 100000", insns: loop(100000), want: accept},
	{name: "loop past the 1M budget", insns: loop(600000), want: reject, msg: "BPF program is too large. Processed 1000001 insn"},
	{name: "infinite loop", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.JEq.Imm(asm.R1, 0, "e"),
		asm.Ja.Label("self").WithSymbol("self"), asm.Return().WithSymbol("e")},
		want: reject, msg: "infinite loop detected at insn 2"},
	{name: "loop without progress", insns: asm.Instructions{asm.Mov.Imm(asm.R1, 0), asm.Mov.Imm(asm.R0, 0).WithSymbol("l"),
		asm.JLT.Imm(asm.R1, 10, "l"), asm.Return()}, want: reject, msg: "infinite loop detected at insn 1"},
	{name: "loop over an unknown count", insns: cat(random, asm.JEq.Imm(asm.R6, 0, "out").WithSymbol("l"),
		asm.Sub.Imm(asm.R6, 1), asm.Ja.Label("l"), out), want: reject, msg: "jumps is too complex"},
	{name: "loop bounded by a masked count", insns: cat(random, asm.And.Imm(asm.R6, 63),
		asm.JEq.Imm(asm.R6, 0, "out").WithSymbol("l"), asm.Sub.Imm(asm.R6, 1), asm.Ja.Label("l"), out), want: accept},
	{name: "loop of a decreasing signed count", insns: asm.Instructions{asm.Mov.Imm(asm.R1, 20),
		asm.Sub.Imm(asm.R1, 2).WithSymbol("l"), asm.JSGT.Imm(asm.R1, 0, "l"), asm.Mov.Imm(asm.R0, 0), asm.Return()},
		want: accept},
}

var callCases = []verifierCase{
	{name: "bpf-to-bpf call", insns: asm.Instructions{asm.Call.Label("f"), asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("f"), asm.Return()}, want: accept},
	{name: "callee reads the caller's stack", insns: asm.Instructions{stImm(asm.RFP, -8, 3, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8), asm.Call.Label("f"), asm.Return(),
		asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord).WithSymbol("f"), asm.Return()}, want: accept},
	{name: "callee returns without R0", insns: asm.Instructions{asm.Call.Label("f"), asm.Return(),
		asm.Mov.Imm(asm.R1, 1).WithSymbol("f"), asm.Return()}, want: reject, msg: "R0 !read_ok"},
	{name: "caller reads R2 after a call", insns: asm.Instructions{asm.Mov.Imm(asm.R2, 1), asm.Call.Label("f"),
		asm.Mov.Reg(asm.R0, asm.R2), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("f"), asm.Return()},
		want: reject, msg: "R2 !read_ok"},
	{name: "R6 survives a bpf-to-bpf call", insns: asm.Instructions{asm.Mov.Imm(asm.R6, 1), asm.Call.Label("f"),
		asm.Mov.Reg(asm.R0, asm.R6), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("f"), asm.Return()}, want: accept},
	{name: "callee sees caller's R6 uninitialised", insns: asm.Instructions{asm.Mov.Imm(asm.R6, 1), asm.Call.Label("f"),
		asm.Return(), asm.Mov.Reg(asm.R0, asm.R6).WithSymbol("f"), asm.Return()}, want: reject, msg: "R6 !read_ok"},
	{name: "ld_abs in a callee", insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.Call.Label("f"), asm.Return(),
		asm.LoadAbs(0, asm.Byte).WithSymbol("f"), asm.Return()}, want: reject, msg: "LD_ABS is not allowed in subprogs without BTF"},
	{name: "callee returns a map value", maps: array16, insns: cat(asm.Call.Label("f"), asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out, lookup(0)[0].WithSymbol("f"), lookup(0)[1:], asm.Return()),
		want: accept},
	{name: "call stack of 8 frames", insns: chain(8, 8), want: accept},
	{name: "call stack of 9 frames", insns: chain(9, 8), want: reject, msg: "the call stack of 9 frames is too deep"},
	{name: "combined stack of 512", insns: chain(2, 256), want: accept},
	{name: "combined stack too large", insns: chain(2, 512), want: reject, msg: "combined stack size of 2 calls is 1024. Too large"},
	{name: "recursive call", insns: asm.Instructions{asm.Call.Label("f"), asm.Return(),
		asm.Call.Label("f").WithSymbol("f"), asm.Mov.Imm(asm.R0, 0), asm.Return()}, want: reject, msg: "the call stack of 9 frames is too deep"},
	{name: "jump from a callee into main", insns: asm.Instructions{asm.Call.Label("f"), asm.Mov.Imm(asm.R0, 0).WithSymbol("m"),
		asm.Return(), asm.Ja.Label("m").WithSymbol("f")}, want: reject, msg: "jump out of range from insn 3 to 1"},
	{name: "callee falls off its end", insns: asm.Instructions{asm.Call.Label("f"), asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("f"), asm.Mov.Imm(asm.R0, 1).WithSymbol("g"), asm.Call.Label("g")},
		want: reject, msg: "last insn is not an exit or jmp"},
	{name: "callee returns a stack pointer", insns: asm.Instructions{asm.Call.Label("f"), asm.Mov.Imm(asm.R0, 0), asm.Return(),
		asm.Mov.Reg(asm.R0, asm.RFP).WithSymbol("f"), asm.Add.Imm(asm.R0, -8), asm.Return()},
		want: reject, msg: "cannot return stack pointer to the caller"},
	{name: "callee passes map value back", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Reg(asm.R1, asm.R0),
		asm.Call.Label("f"), asm.Return(), out, asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord).WithSymbol("f"), asm.Return()),
		want: accept},
	{name: "callee writes past the caller's map value", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Reg(asm.R1, asm.R0),
		asm.Call.Label("f"), asm.Return(), out, stImm(asm.R1, 16, 0, asm.DWord).WithSymbol("f"), asm.Mov.Imm(asm.R0, 0),
		asm.Return()), want: reject, msg: "invalid access to map value, value_size=16 off=16 size=8"},
}

var structureCases = []verifierCase{
	{name: "jump out of range", insns: cat(asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: 5}, ret0),
		want: reject, msg: "jump out of range from insn 0 to 6"},
	{name: "jump back before the start", insns: cat(asm.Mov.Imm(asm.R0, 0), asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: -3},
		asm.Return()), want: reject, msg: "jump out of range from insn 1 to -1"},
	{name: "jump into the middle of lddw", insns: asm.Instructions{asm.Instruction{OpCode: asm.JEq.Op(asm.ImmSource), Dst: asm.R1, Offset: 1},
		asm.LoadImm(asm.R0, 1, asm.DWord), asm.Return()}, want: reject, msg: "jump into the middle of ldimm64 insn 1"},
	{name: "unreachable instruction", insns: cat(ret0, asm.Mov.Imm(asm.R0, 1), asm.Return()), want: reject, msg: "unreachable insn 2"},
	{name: "unreachable branch target", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Ja.Label("e"),
		asm.Mov.Imm(asm.R0, 1), asm.Return().WithSymbol("e")}, want: reject, msg: "unreachable insn 2"},
	{name: "div by immediate zero", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.Div.Imm(asm.R0, 0), asm.Return()),
		want: reject, msg: "div by zero"},
	{name: "mod by immediate zero", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.Mod.Imm32(asm.R0, 0), asm.Return()),
		want: reject, msg: "div by zero"},
	{name: "div by register zero", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.Mov.Imm(asm.R1, 0), asm.Div.Reg(asm.R0, asm.R1),
		asm.Return()), want: accept},
	{name: "shift by 64", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.LSh.Imm(asm.R0, 64), asm.Return()),
		want: reject, msg: "invalid shift 64"},
	{name: "32-bit shift by 32", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.RSh.Imm32(asm.R0, 32), asm.Return()),
		want: reject, msg: "invalid shift 32"},
	{name: "unknown opcode", insns: cat(raw(0x8f, 0, 0, 0, 0), ret0), want: reject, msg: "unknown opcode 8f"},
	{name: "falls off the end", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0)}, want: reject, msg: "last insn is not an exit or jmp"},
	{name: "reserved source register in alu", insns: cat(asm.Mov.Imm(asm.R0, 0), raw(0x07, 0, 1, 0, 1), asm.Return()),
		want: reject, msg: "BPF_ALU uses reserved fields"},
	{name: "reserved offset in exit", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), raw(0x95, 0, 0, 1, 0)},
		want: reject, msg: "BPF_EXIT uses reserved fields",
		why: "RFC 9669: instructions with non-zero unused fields are rejected; Linux does not check exit's offset"},
	{name: "reserved source register in exit", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), raw(0x95, 0, 1, 0, 0)},
		want: reject, msg: "BPF_EXIT uses reserved fields"},
	{name: "reserved fields in a helper call", insns: cat(raw(0x85, 1, 0, 0, 7), ret0),
		want: reject, msg: "BPF_CALL uses reserved fields"},
	{name: "lddw with an unknown pseudo source", insns: asm.Instructions{
		func() asm.Instruction { i := asm.LoadImm(asm.R0, 0, asm.DWord); i.Src = 7; return i }(), asm.Return()},
		want: reject, msg: "unrecognized bpf_ld_imm64 insn"},
	{name: "map load with no such map", insns: asm.Instructions{asm.LoadImm(asm.R0, 0, asm.DWord), asm.Return()}, want: accept},
	{name: "jump with both branches to exit", insns: cat(asm.Mov.Imm(asm.R0, 0), asm.JEq.Imm(asm.R1, 0, "e"), asm.Return().WithSymbol("e")),
		want: accept},
}

var atomicCases = []verifierCase{
	{name: "atomic add on the stack", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0), want: accept},
	{name: "atomic add on a map value", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 8), out), want: accept},
	{name: "atomic add on ctx", progType: tc, insns: cat(asm.Mov.Imm(asm.R2, 1), asm.AddAtomic.Mem(asm.R1, asm.R2, asm.Word, 8), ret0),
		want: reject, msg: "BPF_ATOMIC stores into R1 ctx is not allowed"},
	{name: "atomic add on the packet", progType: xdp, insns: cat(xdpPacket(8), asm.Mov.Imm(asm.R5, 1),
		asm.AddAtomic.Mem(asm.R2, asm.R5, asm.DWord, 0), out), want: reject, msg: "BPF_ATOMIC stores into R2 pkt is not allowed"},
	{name: "atomic add on uninitialised stack privileged", insns: cat(asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0), want: accept},
	{name: "atomic add on misaligned stack", insns: cat(stImm(asm.RFP, -16, 0, asm.DWord), stImm(asm.RFP, -8, 0, asm.DWord),
		asm.Mov.Imm(asm.R1, 1), asm.AddAtomic.Mem(asm.RFP, asm.R1, asm.DWord, -12), ret0),
		want: reject, msg: "misaligned stack access off 0+0+-12 size 8"},
	{name: "atomic add of a pointer privileged", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.AddAtomic.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0), want: accept},
	{name: "fetch add returns the old value", insns: cat(stImm(asm.RFP, -8, 5, asm.DWord), asm.Mov.Imm(asm.R1, 1),
		asm.FetchAdd.Mem(asm.RFP, asm.R1, asm.DWord, -8), asm.Mov.Reg(asm.R0, asm.R1), asm.Return()), want: accept},
	{name: "32-bit fetch and, or, xor", insns: cat(stImm(asm.RFP, -8, 5, asm.DWord), asm.Mov.Imm(asm.R1, 3),
		asm.FetchAnd.Mem(asm.RFP, asm.R1, asm.Word, -8), asm.FetchOr.Mem(asm.RFP, asm.R1, asm.Word, -4),
		asm.XorAtomic.Mem(asm.RFP, asm.R1, asm.Word, -8), asm.Mov.Reg(asm.R0, asm.R1), asm.Return()), want: accept},
	{name: "xchg on a map value", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 7),
		asm.Xchg.Mem(asm.R0, asm.R1, asm.DWord, 0), asm.Mov.Reg(asm.R0, asm.R1), asm.Return(), out), want: accept},
	{name: "cmpxchg on the stack", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R1, 1),
		asm.CmpXchg.Mem(asm.RFP, asm.R1, asm.DWord, -8), asm.Return()), want: accept},
	{name: "cmpxchg without R0", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R1, 1),
		asm.CmpXchg.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0), want: reject, msg: "R0 !read_ok"},
	{name: "cmpxchg with a pointer in R0 privileged", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Reg(asm.R0, asm.R1),
		asm.Mov.Imm(asm.R1, 1), asm.CmpXchg.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0), want: accept},
	{name: "unprivileged cmpxchg with a pointer in R0", unprivileged: true, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.Mov.Reg(asm.R0, asm.R1), asm.Mov.Imm(asm.R1, 1), asm.CmpXchg.Mem(asm.RFP, asm.R1, asm.DWord, -8), ret0),
		want: reject, msg: "R0 leaks addr into mem"},
	{name: "atomic add of an uninitialised register", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.AddAtomic.Mem(asm.RFP, asm.R3, asm.DWord, -8), ret0), want: reject, msg: "R3 !read_ok"},
	{name: "8-bit atomic add", insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Mov.Imm(asm.R1, 1),
		raw(0xd3, 10, 1, -8, 0), ret0), want: reject, msg: "invalid atomic operand size"},
}

var ldAbsCases = []verifierCase{
	{name: "ld_abs in a socket filter", insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(12, asm.Half), asm.Return()},
		want: accept},
	{name: "ld_ind in a socket filter", insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R7, 14),
		asm.LoadInd(asm.R0, asm.R7, 0, asm.Word), asm.Return()}, want: accept},
	{name: "ld_abs without ctx in R6", insns: asm.Instructions{asm.LoadAbs(12, asm.Half), asm.Return()},
		want: reject, msg: "R6 !read_ok"},
	{name: "ld_abs with a scalar in R6", insns: asm.Instructions{asm.Mov.Imm(asm.R6, 0), asm.LoadAbs(12, asm.Half), asm.Return()},
		want: reject, msg: "at the time of BPF_LD_ABS|IND R6 != pointer to skb"},
	{name: "ld_abs in xdp", progType: xdp, insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(12, asm.Half),
		asm.Return()}, want: reject, msg: "BPF_LD_[ABS|IND] instructions not allowed for this program type"},
	{name: "ld_abs scratches R1-R5", insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R2, 1),
		asm.LoadAbs(12, asm.Half), asm.Mov.Reg(asm.R0, asm.R2), asm.Return()}, want: reject, msg: "R2 !read_ok"},
	{name: "ld_abs with reserved dst", insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), raw(0x28, 1, 0, 0, 12), asm.Return()},
		want: reject, msg: "BPF_LD_[ABS|IND] uses reserved fields"},
	{name: "ld_ind with an uninitialised index", insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadInd(asm.R0, asm.R7, 0, asm.Byte), asm.Return()}, want: reject, msg: "R7 !read_ok"},
	{name: "ld_abs in sched_cls", progType: tc, insns: asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1), asm.LoadAbs(0, asm.Byte),
		asm.Return()}, want: accept},
}

var isaV4Cases = []verifierCase{
	{name: "sdiv and smod", insns: cat(asm.Mov.Imm(asm.R0, -7), asm.Mov.Imm(asm.R1, 2), asm.SDiv.Reg(asm.R0, asm.R1),
		asm.SMod.Imm(asm.R0, 3), asm.SDiv.Reg32(asm.R0, asm.R1), asm.SMod.Reg32(asm.R0, asm.R1), asm.Return()), want: accept},
	{name: "sdiv by immediate zero", insns: cat(asm.Mov.Imm(asm.R0, -7), asm.SDiv.Imm(asm.R0, 0), asm.Return()),
		want: reject, msg: "div by zero"},
	{name: "sign-extending moves", insns: cat(asm.Mov.Imm(asm.R1, 0x80), raw(0xbf, 0, 1, 8, 0), raw(0xbf, 2, 1, 16, 0),
		raw(0xbf, 3, 1, 32, 0), raw(0xbc, 4, 1, 8, 0), raw(0xbc, 5, 1, 16, 0), asm.Return()), want: accept},
	{name: "byte swaps", insns: cat(asm.Mov.Imm(asm.R0, 0x1234), asm.BSwap(asm.R0, asm.Half), asm.BSwap(asm.R0, asm.Word),
		asm.BSwap(asm.R0, asm.DWord), asm.HostTo(asm.BE, asm.R0, asm.Word), asm.HostTo(asm.LE, asm.R0, asm.Half), asm.Return()),
		want: accept},
	{name: "sign-extending loads from the stack", insns: cat(stImm(asm.RFP, -8, -1, asm.DWord),
		asm.LoadMemSX(asm.R0, asm.RFP, -8, asm.Byte), asm.LoadMemSX(asm.R1, asm.RFP, -6, asm.Half),
		asm.LoadMemSX(asm.R2, asm.RFP, -4, asm.Word), asm.Return()), want: accept},
	{name: "sign-extending load from a map value", maps: array16, insns: cat(lookupChecked(0),
		asm.LoadMemSX(asm.R0, asm.R0, 12, asm.Word), asm.Return(), out), want: accept},
	{name: "sign-extending load past a map value", maps: array16, insns: cat(lookupChecked(0),
		asm.LoadMemSX(asm.R0, asm.R0, 14, asm.Word), asm.Return(), out),
		want: reject, msg: "invalid access to map value, value_size=16 off=14 size=4"},
	{name: "gotol", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.LongJump("e"), asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("e")}, want: reject, msg: "unreachable insn 2"},
	{name: "gotol over a branch", insns: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.JEq.Imm(asm.R1, 0, "g"), asm.Return(),
		asm.LongJump("e").WithSymbol("g"), asm.Return().WithSymbol("e")}, want: accept},
	{name: "jmp32 on all conditions", insns: cat(asm.Mov.Imm(asm.R0, 0), asm.Mov.Imm(asm.R1, 5),
		asm.JEq.Imm32(asm.R1, 1, "e"), asm.JNE.Imm32(asm.R1, 5, "e"), asm.JGT.Imm32(asm.R1, 9, "e"),
		asm.JGE.Reg32(asm.R1, asm.R0, "a"), asm.Return(), asm.JSLT.Imm32(asm.R1, 0, "e").WithSymbol("a"),
		asm.JSet.Imm32(asm.R1, 8, "e"), asm.JSLE.Imm32(asm.R1, 4, "e"), asm.Return().WithSymbol("e")), want: accept},
	{name: "sign-extending move of a pointer privileged", insns: asm.Instructions{raw(0xbf, 0, 1, 32, 0), asm.Return()},
		want: accept},
	{name: "sign-extending load from ctx", progType: kp, insns: asm.Instructions{asm.LoadMemSX(asm.R0, asm.R1, 0, asm.Word),
		asm.Return()}, want: accept},
	{name: "bswap with a bad width", insns: cat(asm.Mov.Imm(asm.R0, 1), raw(0xd7, 0, 0, 0, 8), asm.Return()),
		want: reject, msg: "BPF_END uses reserved fields"},
}

// Cases for the loader's capabilities and the kernel's checks that
// depend on them: map access flags, shifts, null comparisons, pointer
// rules without CAP_PERFMON, limits.

// flaggedArray is array16 created with the given map_flags.
func flaggedArray(flags uint32) []*program.MapSpec {
	m := mapOf(ebpf.Array, 4, 16, 1)
	m.Flags = flags
	return []*program.MapSpec{m}
}

// flaggedHash is hash16 created with the given map_flags.
func flaggedHash(flags uint32) []*program.MapSpec {
	m := mapOf(ebpf.Hash, 8, 16, 4)
	m.Flags = flags
	return []*program.MapSpec{m}
}

var (
	rdonlyArray = flaggedArray(1 << 7) // BPF_F_RDONLY_PROG
	wronlyArray = flaggedArray(1 << 8) // BPF_F_WRONLY_PROG
)

// update calls bpf_map_update_elem on map 0 with the zero key at fp-8 and
// the zero value at fp-24.
var update = asm.Instructions{
	stImm(asm.RFP, -8, 0, asm.DWord), stImm(asm.RFP, -16, 0, asm.DWord), stImm(asm.RFP, -24, 0, asm.DWord),
	asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -24),
	asm.Mov.Imm(asm.R4, 0), asm.LoadMapPtr(asm.R1, 0), asm.FnMapUpdateElem.Call(),
}

// probeReadIntoValue looks up map 0 and reads 8 bytes of kernel memory
// into the value at offset 4.
func probeReadIntoValue() asm.Instructions {
	return cat(lookupChecked(0), asm.Mov.Reg(asm.R1, asm.R0), asm.Add.Imm(asm.R1, 4), asm.Mov.Imm(asm.R2, 8),
		asm.Mov.Imm(asm.R3, 0), asm.FnProbeReadKernel.Call(), out)
}

// deadRead is an instruction the kernel reaches only if it explores the
// branch it sits on: R7 is never written.
var deadRead = asm.LoadMem(asm.R0, asm.R7, 0, asm.DWord)

var mapFlagCases = []verifierCase{
	{name: "read from a write-only map", maps: wronlyArray, insns: cat(lookupChecked(0), asm.LoadMem(asm.R0, asm.R0, 4, asm.Word),
		asm.Return(), out), want: reject, msg: "read from map forbidden, value_size=16 off=4 size=4"},
	{name: "write into a write-only map", maps: wronlyArray, insns: cat(lookupChecked(0), stImm(asm.R0, 4, 1, asm.Word), out),
		want: accept},
	{name: "write into a read-only map, offset in the message", maps: rdonlyArray, insns: cat(lookupChecked(0),
		stImm(asm.R0, 4, 1, asm.Word), out), want: reject, msg: "write into map forbidden, value_size=16 off=4 size=4"},
	{name: "read from a read-only map", maps: rdonlyArray, insns: cat(lookupChecked(0), asm.LoadMem(asm.R0, asm.R0, 4, asm.Word),
		asm.Return(), out), want: accept},
	{name: "update of a read-only map", maps: flaggedHash(1 << 7), insns: cat(update, ret0),
		want: reject, msg: "write into map forbidden"},
	{name: "delete from a read-only map", maps: flaggedHash(1 << 7), insns: cat(stImm(asm.RFP, -8, 0, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.LoadMapPtr(asm.R1, 0), asm.FnMapDeleteElem.Call(), ret0),
		want: reject, msg: "write into map forbidden"},
	{name: "update of a write-only map", maps: flaggedHash(1 << 8), insns: cat(update, ret0), want: accept},
	{name: "write-only map value as a key", maps: []*program.MapSpec{wronlyArray[0], hash16[0]}, insns: cat(lookupChecked(0),
		asm.Mov.Reg(asm.R2, asm.R0), asm.Add.Imm(asm.R2, 4), asm.LoadMapPtr(asm.R1, 1), asm.FnMapLookupElem.Call(), out),
		want: reject, msg: "read from map forbidden, value_size=16 off=4 size=8"},
	{name: "read-only map value filled by a helper", progType: kp, maps: rdonlyArray, insns: probeReadIntoValue(),
		want: reject, msg: "write into map forbidden, value_size=16 off=4 size=8"},
	{name: "write-only map value filled by a helper", progType: kp, maps: wronlyArray, insns: probeReadIntoValue(),
		want: accept},
	{name: "atomic add on a write-only map", maps: wronlyArray, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 8), out), want: reject, msg: "read from map forbidden, value_size=16 off=8 size=8"},
	{name: "atomic add on a read-only map", maps: rdonlyArray, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 8), out), want: reject, msg: "write into map forbidden, value_size=16 off=8 size=8"},
	{name: "direct read of a write-only map", maps: wronlyArray, insns: cat(asm.LoadMapValue(asm.R1, 0, 4),
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Word), asm.Return()), want: reject, msg: "read from map forbidden, value_size=16 off=4 size=4"},
	{name: "direct write into a read-only map", maps: rdonlyArray, insns: cat(asm.LoadMapValue(asm.R1, 0, 4),
		stImm(asm.R1, 0, 1, asm.Word), ret0), want: reject, msg: "write into map forbidden, value_size=16 off=4 size=4"},
	{name: "read through a map pointer", maps: array16, insns: asm.Instructions{asm.LoadMapPtr(asm.R1, 0),
		asm.LoadMem(asm.R0, asm.R1, 0, asm.Byte), asm.Return()}, want: reject, msg: "R1 invalid mem access 'map_ptr'",
		why: "Linux lets root read struct bpf_map's fields, found in the kernel's BTF; the user-space engines have no such struct"},
}

// shiftedBy shifts 1 (-1 for arsh) by a register holding n, then reads R7
// unless the result is the constant want: the kernel reads it only if the
// result is unknown to it.
func shiftedBy(shift func(dst, src asm.Register) asm.Instruction, n, want int32) asm.Instructions {
	return cat(asm.Mov.Imm(asm.R0, 1), asm.Mov.Imm(asm.R1, n), shift(asm.R0, asm.R1), asm.JEq.Imm(asm.R0, want, "out"),
		deadRead, asm.Return(), out)
}

var shiftCases = []verifierCase{
	{name: "lsh by a register holding 3 is known", insns: shiftedBy(asm.LSh.Reg, 3, 8), want: accept},
	{name: "lsh by a register holding 65 is unknown", insns: shiftedBy(asm.LSh.Reg, 65, 2), want: reject, msg: "R7 !read_ok"},
	{name: "32-bit lsh by a register holding 33 is unknown", insns: shiftedBy(asm.LSh.Reg32, 33, 2),
		want: reject, msg: "R7 !read_ok"},
	{name: "arsh by a register holding 64 is unknown", insns: cat(asm.Mov.Imm(asm.R0, -1), asm.Mov.Imm(asm.R1, 64),
		asm.ArSh.Reg(asm.R0, asm.R1), asm.JEq.Imm(asm.R0, -1, "out"), deadRead, asm.Return(), out), want: reject, msg: "R7 !read_ok"},
	{name: "32-bit rsh by 32 leaves all 64 bits unknown", insns: cat(asm.Mov.Imm(asm.R0, -1), asm.Mov.Imm(asm.R1, 32),
		asm.RSh.Reg32(asm.R0, asm.R1), asm.Mov.Imm(asm.R2, 1), asm.LSh.Imm(asm.R2, 32), asm.JLT.Reg(asm.R0, asm.R2, "out"),
		deadRead, asm.Return(), out), want: reject, msg: "R7 !read_ok"},
	{name: "rsh by a register holding 68 as an index", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 0x100),
		asm.Mov.Imm(asm.R2, 68), asm.RSh.Reg(asm.R1, asm.R2), asm.Add.Reg(asm.R0, asm.R1), asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte),
		asm.Return(), out), want: reject, msg: "math between map_value pointer and register with unbounded min value is not allowed"},
	{name: "32-bit arsh by 32", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.ArSh.Imm32(asm.R0, 32), asm.Return()),
		want: reject, msg: "invalid shift 32"},
	{name: "rsh by 64", insns: cat(asm.Mov.Imm(asm.R0, 1), asm.RSh.Imm(asm.R0, 64), asm.Return()),
		want: reject, msg: "invalid shift 64"},
}

// againstZero compares a checked map value (R0) with 0 by cmp, then exits
// on the jump side and reads R7 on the other, or the other way round.
func againstZero(cmp asm.Instruction, deadOnJump bool) asm.Instructions {
	if deadOnJump {
		return cat(lookupChecked(0), cmp, asm.Mov.Imm(asm.R0, 0), asm.Return(), deadRead.WithSymbol("j"), asm.Return(), out)
	}
	return cat(lookupChecked(0), cmp, deadRead, asm.Return(), asm.Mov.Imm(asm.R0, 0).WithSymbol("j"), asm.Return(), out)
}

var nullCompareCases = []verifierCase{
	{name: "checked map value against 0 again", maps: array16, insns: againstZero(asm.JNE.Imm(asm.R0, 0, "j"), false),
		want: accept},
	{name: "checked map value equal to 0 again", maps: array16, insns: againstZero(asm.JEq.Imm(asm.R0, 0, "j"), true),
		want: accept},
	{name: "checked map value against a zero register", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 0),
		asm.JEq.Reg(asm.R0, asm.R1, "j"), asm.Mov.Imm(asm.R0, 0), asm.Return(), deadRead.WithSymbol("j"), asm.Return(), out),
		want: accept},
	{name: "zero register against a checked map value", maps: array16, insns: cat(lookupChecked(0), asm.Mov.Imm(asm.R1, 0),
		asm.JEq.Reg(asm.R1, asm.R0, "j"), asm.Mov.Imm(asm.R0, 0), asm.Return(), deadRead.WithSymbol("j"), asm.Return(), out),
		want: accept},
	{name: "map pointer against 0", maps: array16, insns: cat(asm.LoadMapPtr(asm.R1, 0), asm.JEq.Imm(asm.R1, 0, "j"),
		asm.Mov.Imm(asm.R0, 0), asm.Return(), deadRead.WithSymbol("j"), asm.Return()), want: accept},
	{name: "32-bit comparison of a checked map value is not decided", maps: array16,
		insns: againstZero(asm.JEq.Imm32(asm.R0, 0, "j"), true), want: reject, msg: "R7 !read_ok"},
	{name: "frame pointer against 0 is not decided", insns: cat(asm.JEq.Imm(asm.RFP, 0, "j"), asm.Mov.Imm(asm.R0, 0),
		asm.Return(), deadRead.WithSymbol("j"), asm.Return()), want: reject, msg: "R7 !read_ok"},
	{name: "ctx against 0 is not decided", insns: cat(asm.JNE.Imm(asm.R1, 0, "j"), deadRead, asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("j"), asm.Return()), want: reject, msg: "R7 !read_ok"},
	{name: "null check against a zero register teaches nothing", maps: array16, insns: cat(lookup(0), asm.Mov.Imm(asm.R1, 0),
		asm.JEq.Reg(asm.R0, asm.R1, "out"), asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out),
		want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "32-bit null check teaches nothing", maps: array16, insns: cat(lookup(0), asm.JEq.Imm32(asm.R0, 0, "out"),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), asm.Return(), out), want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "unprivileged checked map value against 0 again", unprivileged: true, maps: array16,
		insns: againstZero(asm.JNE.Imm(asm.R0, 0, "j"), false), want: accept},
	{name: "array lookup of a constant key needs no null check", maps: array16, insns: constKeyLookup(0, 0, asm.Word),
		want: accept},
	{name: "array lookup of a key past max_entries needs a null check", maps: array16, insns: constKeyLookup(0, 1, asm.Word),
		want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "array lookup of an 8-byte spilled key needs a null check", maps: array16, insns: constKeyLookup(0, 0, asm.DWord),
		want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "hash lookup of a constant key needs a null check", maps: []*program.MapSpec{mapOf(ebpf.Hash, 4, 16, 4)},
		insns: constKeyLookup(0, 0, asm.Word), want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
	{name: "unprivileged array lookup of a constant key needs a null check", unprivileged: true, maps: array16,
		insns: constKeyLookup(0, 0, asm.Word), want: reject, msg: "R0 invalid mem access 'map_value_or_null'"},
}

// constKeyLookup looks up in map m the key k, stored at fp-8 with a store
// of the given size, and reads the value without a null check.
func constKeyLookup(m int, k int32, size asm.Size) asm.Instructions {
	return asm.Instructions{
		stImm(asm.RFP, -8, k, size), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.LoadMapPtr(asm.R1, m), asm.FnMapLookupElem.Call(),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), asm.Return(),
	}
}

// mixedSpills spills the context at fp-8 on one path and a stack pointer
// on the other, then loads through what it fills: one instruction used
// with two kinds of pointer.
var mixedSpills = asm.Instructions{
	asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
	asm.JEq.Imm(asm.R2, 0, "j"), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -16), asm.StoreMem(asm.RFP, -8, asm.R3, asm.DWord),
	asm.LoadMem(asm.R4, asm.RFP, -8, asm.DWord).WithSymbol("j"), asm.LoadMem(asm.R0, asm.R4, 0, asm.Word), asm.Return(),
}

// valuePlusOnTwoPaths adds a to a map value pointer on one path and b on
// the other, in one instruction.
func valuePlusOnTwoPaths(a, b int32) asm.Instructions {
	return cat(lookupChecked(0), asm.Add.Imm(asm.R0, 8), asm.Mov.Reg(asm.R6, asm.R0), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte),
		asm.Mov.Imm(asm.R2, a), asm.JEq.Imm(asm.R1, 0, "j"), asm.Mov.Imm(asm.R2, b), asm.Add.Reg(asm.R6, asm.R2).WithSymbol("j"),
		asm.LoadMem(asm.R0, asm.R6, 0, asm.Byte), asm.Return(), out)
}

// spilledPointerArg stores R1 (ctx) at fp-24 and passes it to
// bpf_map_update_elem as the value.
var spilledPointerArg = asm.Instructions{
	stImm(asm.RFP, -8, 0, asm.DWord), asm.StoreMem(asm.RFP, -24, asm.R1, asm.DWord), stImm(asm.RFP, -16, 0, asm.DWord),
	asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -24),
	asm.Mov.Imm(asm.R4, 0), asm.LoadMapPtr(asm.R1, 0), asm.FnMapUpdateElem.Call(), asm.Mov.Imm(asm.R0, 0), asm.Return(),
}

// spilledBound masks a byte of a map value to 0..7, spills and fills it
// and adds it to the value pointer.
var spilledBound = cat(lookupChecked(0), asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), asm.And.Imm(asm.R1, 7),
	asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord), asm.LoadMem(asm.R1, asm.RFP, -16, asm.DWord), asm.Add.Reg(asm.R0, asm.R1),
	asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), asm.Return(), out)

// halfKey initialises 4 bytes of an 8-byte key and looks it up.
var halfKey = cat(stImm(asm.RFP, -8, 0, asm.Word), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
	asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(), ret0)

// mapValuePlus adds n to a checked map value pointer, by immediate or
// through R1.
func mapValuePlus(n int32, viaReg bool) asm.Instructions {
	add := asm.Add.Imm(asm.R0, n)
	if viaReg {
		return cat(lookupChecked(0), asm.Mov.Imm(asm.R1, n), asm.Add.Reg(asm.R0, asm.R1), out)
	}
	return cat(lookupChecked(0), add, out)
}

// spectreCases are the pointer rules of loaders without CAP_PERFMON
// (allow_ptr_leaks, allow_uninit_stack, bypass_spec_v1 false), for
// unprivileged loaders and for those with CAP_BPF alone, and the
// instructions one path uses differently from another.
var spectreCases = []verifierCase{
	{name: "unprivileged scalar plus the frame pointer", unprivileged: true, insns: cat(asm.Mov.Imm(asm.R1, 0),
		asm.Add.Reg(asm.R1, asm.RFP), ret0), want: reject, msg: "R1 stack pointer arithmetic goes out of range, prohibited for !root; off=0"},
	{name: "unprivileged scalar plus the frame pointer inside the stack", unprivileged: true, insns: cat(asm.Mov.Imm(asm.R1, -8),
		asm.Add.Reg(asm.R1, asm.RFP), stImm(asm.R1, 0, 0, asm.DWord), ret0), want: accept},
	{name: "unprivileged stack pointer above the frame", unprivileged: true, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, 8), ret0), want: reject, msg: "R2 stack pointer arithmetic goes out of range, prohibited for !root; off=8"},
	{name: "unprivileged stack pointer below the stack", unprivileged: true, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -520), ret0), want: reject, msg: "R2 stack pointer arithmetic goes out of range, prohibited for !root; off=-520"},
	{name: "privileged stack pointer below the stack", insns: cat(asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -520), ret0),
		want: accept},
	{name: "unprivileged ctx plus a register", unprivileged: true, insns: cat(asm.Mov.Imm(asm.R2, 0), asm.Add.Reg(asm.R1, asm.R2),
		ret0), want: reject, msg: "R1 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root"},
	{name: "unprivileged ctx plus a constant", unprivileged: true, insns: cat(asm.Add.Imm(asm.R1, 4), ret0), want: accept},
	{name: "unprivileged map value pointer to its end", unprivileged: true, maps: array16, insns: mapValuePlus(16, false),
		want: reject, msg: "R0 pointer arithmetic of map value goes out of range, prohibited for !root"},
	{name: "unprivileged map value pointer to its last byte", unprivileged: true, maps: array16, insns: mapValuePlus(15, false),
		want: accept},
	{name: "unprivileged map value plus a register to its end", unprivileged: true, maps: array16, insns: mapValuePlus(16, true),
		want: reject, msg: "R0 pointer arithmetic of map value goes out of range, prohibited for !root"},
	{name: "privileged map value pointer to its end", maps: array16, insns: mapValuePlus(16, true), want: accept},
	{name: "unprivileged map value minus a register", unprivileged: true, maps: array16, insns: cat(lookupChecked(0),
		asm.Mov.Imm(asm.R1, 4), asm.Sub.Reg(asm.R0, asm.R1), out),
		want: reject, msg: "R0 pointer arithmetic of map value goes out of range, prohibited for !root"},
	{name: "unprivileged map value plus a scalar of either sign", unprivileged: true, maps: array16, insns: cat(lookupChecked(0),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), asm.Add.Imm(asm.R1, -4), asm.Add.Reg(asm.R0, asm.R1), out),
		want: reject, msg: "R1 has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root"},
	{name: "unprivileged map value plus a masked scalar", unprivileged: true, maps: array16, insns: cat(lookupChecked(0),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Byte), asm.And.Imm(asm.R1, 7), asm.Add.Reg(asm.R0, asm.R1),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.Byte), asm.Return(), out), want: accept},
	{name: "unprivileged map value plus different constants on two paths", unprivileged: true, maps: array16,
		insns: valuePlusOnTwoPaths(4, -4),
		want:  reject, msg: "R6 tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root"},
	{name: "unprivileged map value plus one constant on two paths", unprivileged: true, maps: array16,
		insns: valuePlusOnTwoPaths(4, 4), want: accept},
	{name: "privileged map value plus different constants on two paths", maps: array16, insns: valuePlusOnTwoPaths(4, -4),
		want: accept},
	{name: "unprivileged spilled pointer as a map value", unprivileged: true, maps: hash16, insns: spilledPointerArg,
		want: reject, msg: "invalid read from stack R3 off -24+0 size 16"},
	{name: "privileged spilled pointer as a map value", maps: hash16, insns: spilledPointerArg, want: accept},
	{name: "unprivileged spilled pointer as a map key", unprivileged: true, maps: hash16, insns: cat(
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord), asm.Mov.Reg(asm.R2, asm.RFP), asm.Add.Imm(asm.R2, -8),
		asm.LoadMapPtr(asm.R1, 0), asm.FnMapLookupElem.Call(), ret0), want: reject, msg: "invalid read from stack R2 off -8+0 size 8"},
	{name: "unprivileged read below the stack used", unprivileged: true, insns: cat(asm.LoadMem(asm.R0, asm.RFP, -4, asm.Word),
		asm.Return()), want: reject, msg: "invalid read from stack R10 off=-4 size=4"},
	{name: "unprivileged read of a half-written slot", unprivileged: true, insns: cat(stImm(asm.RFP, -8, 0, asm.Word),
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()), want: reject, msg: "invalid read from stack off -8+4 size 8"},
	{name: "unprivileged half-initialised key", unprivileged: true, maps: hash16, insns: halfKey,
		want: reject, msg: "invalid read from stack R2 off -8+4 size 8"},
	{name: "unprivileged spilled scalar loses its bounds", unprivileged: true, maps: array16, insns: spilledBound,
		want: reject, msg: "math between map_value pointer and register with unbounded min value is not allowed"},
	{name: "unprivileged frame pointer against 0", unprivileged: true, insns: cat(asm.JEq.Imm(asm.RFP, 0, "out"), out),
		want: reject, msg: "R10 pointer comparison prohibited"},
	{name: "unprivileged map value against 1", unprivileged: true, maps: array16, insns: cat(lookupChecked(0),
		asm.JEq.Imm(asm.R0, 1, "out"), out), want: reject, msg: "R0 pointer comparison prohibited"},
	{name: "unprivileged scalar against a map value", unprivileged: true, maps: array16, insns: cat(lookupChecked(0),
		asm.Mov.Imm(asm.R1, 1), asm.JEq.Reg(asm.R1, asm.R0, "out"), out), want: reject, msg: "R0 pointer comparison prohibited"},
	{name: "unprivileged ctx against 1", unprivileged: true, insns: cat(asm.JEq.Imm(asm.R1, 1, "out"), out),
		want: reject, msg: "R1 pointer comparison prohibited"},
	{name: "unprivileged 32-bit null check", unprivileged: true, maps: array16, insns: cat(lookup(0),
		asm.JEq.Imm32(asm.R0, 0, "out"), out), want: reject, msg: "R0 pointer comparison prohibited"},
	{name: "atomic add at a variable offset of a map value must be aligned", maps: array16, insns: cat(lookupChecked(0),
		asm.Mov.Reg(asm.R8, asm.R0),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.Word), asm.And.Imm(asm.R1, 7), asm.Add.Reg(asm.R8, asm.R1),
		asm.AddAtomic.Mem(asm.R8, asm.R1, asm.DWord, 0), out), want: reject, msg: "misaligned value access off (0x0; 0x7)+0+0 size 8"},
	{name: "store at a variable offset of the stack must be aligned", insns: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R0, 0),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -4), asm.LoadMem(asm.R2, asm.R6, 8, asm.Word), asm.And.Imm(asm.R2, 7),
		asm.Add.Reg(asm.R1, asm.R2), stImm(asm.R1, -8, 20, asm.Word), asm.Return()),
		want: reject, msg: "misaligned stack access off (0x0; 0x7)+-4+-8 size 4"},
	{name: "direct value load from an array of 3", maps: []*program.MapSpec{mapOf(ebpf.Array, 4, 4, 3)}, insns: asm.Instructions{
		asm.LoadMapValue(asm.R0, 0, 0), asm.Return()}, want: reject, msg: "invalid access to map value pointer, value_size=4 off=0"},
	{name: "load at a variable offset of a map value need not be aligned", maps: array16, insns: cat(lookupChecked(0),
		asm.Mov.Reg(asm.R8, asm.R0), asm.LoadMem(asm.R1, asm.R0, 0, asm.Word), asm.And.Imm(asm.R1, 7), asm.Add.Reg(asm.R8, asm.R1),
		asm.LoadMem(asm.R0, asm.R8, 0, asm.DWord), asm.Return(), out), want: accept},
	{name: "one load through ctx and through the stack", insns: mixedSpills, want: reject,
		msg: "same insn cannot be used with different pointers"},
	{name: "unprivileged load through ctx and through the stack", unprivileged: true, insns: mixedSpills, want: reject,
		msg: "invalid read from stack R4 off=-16 size=4"},
}

// withoutPerfmonCases are the rules for a loader with CAP_BPF but not
// CAP_PERFMON: bpf_capable (loops, bpf-to-bpf calls, CAP_BPF helpers, a
// million instructions), but no pointer leaks and Spectre v1 hardening.
// TestKernelVerdicts loads every case of verifierCases with full
// privileges, so these are a table of their own, checked against the
// kernel from a process with CAP_BPF alone.
var withoutPerfmonCases = []verifierCase{
	{name: "without perfmon a bounded loop", withoutPerfmon: true, insns: loop(4),
		// The never-taken exit of each iteration is explored as a
		// speculative path, with R1 unknown, and comes back to a
		// state of the loop.
		want: reject, msg: "infinite loop detected at insn 1"},
	{name: "without perfmon bpf-to-bpf calls", withoutPerfmon: true, insns: chain(3, 8), want: accept},
	{name: "without perfmon a CAP_BPF helper", withoutPerfmon: true, insns: cat(asm.FnGetCurrentCgroupId.Call(), ret0),
		want: accept},
	{name: "without perfmon bpf_trace_printk", withoutPerfmon: true, insns: cat(stImm(asm.RFP, -8, 0x0a6968, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP), asm.Add.Imm(asm.R1, -8), asm.Mov.Imm(asm.R2, 8), asm.FnTracePrintk.Call(), ret0),
		want: reject, msg: "program of this type cannot use helper bpf_trace_printk#6"},
	{name: "without perfmon a pointer comparison", withoutPerfmon: true, insns: cat(asm.JEq.Reg(asm.R1, asm.RFP, "out"), out),
		want: reject, msg: "R10 pointer comparison prohibited"},
	{name: "without perfmon pointer minus pointer", withoutPerfmon: true, insns: cat(asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Sub.Reg(asm.R2, asm.RFP), ret0), want: reject, msg: "R2 pointer -= pointer prohibited"},
	{name: "without perfmon uninitialised stack", withoutPerfmon: true, insns: asm.Instructions{
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()}, want: reject, msg: "invalid read from stack R10 off=-8 size=8"},
	{name: "without perfmon a narrow spill initialises its slot for a helper", withoutPerfmon: true, maps: hash16,
		insns: halfKey, want: accept},
	{name: "without perfmon a narrow spill does not for a load", withoutPerfmon: true, insns: cat(stImm(asm.RFP, -8, 0, asm.Word),
		asm.LoadMem(asm.R0, asm.RFP, -8, asm.DWord), asm.Return()), want: reject, msg: "invalid read from stack off -8+4 size 8"},
	{name: "without perfmon a spilled scalar keeps its bounds", withoutPerfmon: true, maps: array16, insns: spilledBound,
		want: accept},
	{name: "without perfmon a helper fills a variable size of uninitialised stack", withoutPerfmon: true, insns: loadBytesVarSize,
		want: reject, msg: "invalid read from stack R3 off -40+0 size 9"},
	{name: "without perfmon a loop with a stack store", withoutPerfmon: true, insns: loopStoring(true),
		// The fence after the store (nospec_result) ends the speculative
		// path that comes back into the loop.
		want: accept},
	{name: "without perfmon a loop without a stack store", withoutPerfmon: true, insns: loopStoring(false),
		want: reject, msg: "infinite loop detected at insn 1"},
	{name: "without perfmon map value pointer to its end", withoutPerfmon: true, maps: array16, insns: mapValuePlus(16, true),
		want: reject, msg: "R0 pointer arithmetic of map value goes out of range, prohibited for !root"},
	{name: "without perfmon map value plus different constants on two paths", withoutPerfmon: true, maps: array16,
		insns: valuePlusOnTwoPaths(2, 4),
		want:  reject, msg: "R6 tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root"},
	{name: "without perfmon 4097 instructions", withoutPerfmon: true, insns: longProgram(4097), want: accept},
}

// loadBytesVarSize has bpf_skb_load_bytes fill 1 to 9 bytes at fp-40,
// which nothing initialised.
var loadBytesVarSize = asm.Instructions{
	asm.Mov.Reg(asm.R6, asm.R1), asm.Mov.Imm(asm.R2, 0), asm.Mov.Reg(asm.R3, asm.RFP), asm.Add.Imm(asm.R3, -40),
	asm.LoadMem(asm.R4, asm.R6, 0, asm.Word), asm.JGT.Imm(asm.R4, 9, "out"), asm.JEq.Imm(asm.R4, 0, "out"),
	asm.FnSkbLoadBytes.Call(), asm.Mov.Imm(asm.R0, 1).WithSymbol("out"), asm.Return(),
}

// loopStoring counts R7 by 2 to 4, storing to fp-8 in the loop if store.
func loopStoring(store bool) asm.Instructions {
	body := asm.Instructions{asm.Add.Imm(asm.R7, 2).WithSymbol("l")}
	if store {
		body = asm.Instructions{stImm(asm.RFP, -8, 0, asm.Word).WithSymbol("l"), asm.Add.Imm(asm.R7, 2)}
	}
	return cat(asm.Mov.Imm(asm.R7, 0), body, asm.JNE.Imm(asm.R7, 4, "l"), asm.Mov.Imm(asm.R0, 1), asm.Return())
}

// longProgram is n instructions: n-1 moves and an exit.
func longProgram(n int) asm.Instructions {
	insns := make(asm.Instructions, 0, n)
	for i := 0; i < n-1; i++ {
		insns = append(insns, asm.Mov.Imm(asm.R0, 0))
	}
	return append(insns, asm.Return())
}

var limitCases = []verifierCase{
	{name: "unprivileged 4096 instructions", unprivileged: true, insns: longProgram(4096), want: accept},
	{name: "unprivileged 4097 instructions", unprivileged: true, insns: longProgram(4097),
		want: reject, msg: "argument list too long"},
	{name: "privileged 4097 instructions", insns: longProgram(4097), want: accept},
	{name: "tail call in a subprogram", maps: progArray, insns: cat(stImm(asm.RFP, -8, 0, asm.DWord), asm.Call.Label("f"), ret0,
		asm.LoadMapPtr(asm.R2, 0).WithSymbol("f"), asm.Mov.Imm(asm.R3, 0), asm.FnTailCall.Call(), ret0),
		want: reject, msg: "tail_call is not allowed in subprogs without BTF"},
	{name: "ld_abs in a subprogram", insns: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.Call.Label("f"), ret0,
		asm.LoadAbs(0, asm.Byte).WithSymbol("f"), asm.Return()), want: reject, msg: "LD_ABS is not allowed in subprogs without BTF"},
	{name: "tail call beside a subprogram", maps: progArray, insns: cat(asm.Mov.Reg(asm.R6, asm.R1), asm.Call.Label("f"),
		asm.Mov.Reg(asm.R1, asm.R6), asm.LoadMapPtr(asm.R2, 0), asm.Mov.Imm(asm.R3, 0), asm.FnTailCall.Call(), ret0,
		stImm(asm.RFP, -200, 0, asm.DWord).WithSymbol("f"), ret0), want: accept},
	{name: "combined stack of 3 calls", insns: chain(3, 256), want: reject, msg: "combined stack size of 3 calls is 768. Too large"},
}
