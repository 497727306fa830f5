package dropcount

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/tracepoint"
)

// Filter says which drops to count. Its zero value keeps every drop. The
// user-space engines give it to the kernel as a tracepoint filter
// (Tracepoint), so that drops it rejects never reach a ring; the kernel
// engine, where tracepoint filters do not apply to BPF programs, runs it as
// the program's first instructions (Insns).
type Filter struct {
	// Reasons, when not empty, keeps only drops with one of these reasons.
	Reasons []uint32
	// ExcludeReasons drops the drops with one of these reasons.
	ExcludeReasons []uint32
	// Protocol, with HasProtocol, keeps only drops of packets of this
	// EtherType (0x0800 for IPv4), as skb->protocol says. The record's
	// protocol field holds ntohs(skb->protocol) (include/trace/events/skb.h),
	// the EtherType in host byte order, so the filter compares it as it is;
	// TestFilter checks that on IPv4 and IPv6 drops.
	Protocol    uint16
	HasProtocol bool
	// Comm, when not empty, keeps only drops made while a task of this name
	// (at most 15 bytes, as the kernel keeps it) ran.
	Comm string
	// Location, when not nil, keeps only drops whose location falls in it.
	Location *Range
}

// Range is a kernel function's code: [Start, End).
type Range struct {
	Name       string
	Start, End uint64
}

// commLen is TASK_COMM_LEN: a task's name with its NUL.
const commLen = 16

// Empty reports whether the filter keeps every drop.
func (f *Filter) Empty() bool {
	return f == nil || len(f.Reasons) == 0 && len(f.ExcludeReasons) == 0 && !f.HasProtocol && f.Comm == "" && f.Location == nil
}

// Check reports what in the filter cannot be applied: a name the kernel
// would not compare as given, or a range that is empty.
func (f *Filter) Check() error {
	if f.Comm != "" {
		if len(f.Comm) >= commLen {
			return fmt.Errorf("comm %q: longer than the kernel's %d bytes", f.Comm, commLen-1)
		}
		// ftrace compares a string with glob characters as a glob
		// (kernel/trace/trace_events_filter.c), and cannot quote '"';
		// the kernel engine compares bytes. Refusing both keeps one
		// meaning on every engine.
		if i := strings.IndexAny(f.Comm, "\"*?[\\\x00"); i >= 0 {
			return fmt.Errorf("comm %q: character %q not allowed", f.Comm, f.Comm[i])
		}
	}
	if r := f.Location; r != nil && r.End <= r.Start {
		return fmt.Errorf("location %s: empty range %#x-%#x", r.Name, r.Start, r.End)
	}
	return nil
}

// field resolves a field the filter reads, of one of the sizes it can read.
func (f *Filter) field(format *tracepoint.Format, name string, sizes ...int) (tracepoint.Field, error) {
	fd, err := format.Field(name)
	if err != nil {
		return fd, fmt.Errorf("filter: %w", err)
	}
	if !slices.Contains(sizes, fd.Size) {
		return fd, fmt.Errorf("filter: field %s is %d bytes", name, fd.Size)
	}
	return fd, nil
}

// Tracepoint returns the filter as an ftrace filter expression for the
// format (Documentation/trace/events.rst, "Event filtering"), or "" when it
// keeps every drop.
func (f *Filter) Tracepoint(format *tracepoint.Format) (string, error) {
	if f.Empty() {
		return "", nil
	}
	if err := f.Check(); err != nil {
		return "", err
	}
	var terms []string
	if len(f.Reasons) > 0 || len(f.ExcludeReasons) > 0 {
		if _, err := f.field(format, "reason", 1, 2, 4, 8); err != nil {
			return "", err
		}
	}
	if len(f.Reasons) > 0 {
		var or []string
		for _, r := range f.Reasons {
			or = append(or, "reason == "+strconv.FormatUint(uint64(r), 10))
		}
		terms = append(terms, "("+strings.Join(or, " || ")+")")
	}
	for _, r := range f.ExcludeReasons {
		terms = append(terms, "reason != "+strconv.FormatUint(uint64(r), 10))
	}
	if f.HasProtocol {
		if _, err := f.field(format, "protocol", 2); err != nil {
			return "", err
		}
		terms = append(terms, fmt.Sprintf("protocol == %#x", f.Protocol))
	}
	if r := f.Location; r != nil {
		if _, err := f.field(format, "location", 8); err != nil {
			return "", err
		}
		// A range rather than location.function == SYM (Linux 6.2+): the
		// same addresses the kernel engine compares, on older kernels too.
		terms = append(terms, fmt.Sprintf("location >= %#x && location < %#x", r.Start, r.End))
	}
	if f.Comm != "" {
		// comm is a field of every event's filter (the current task's),
		// though no format lists it.
		terms = append(terms, `comm == "`+f.Comm+`"`)
	}
	return strings.Join(terms, " && "), nil
}

// Labels of the filter's instructions.
const (
	filterDrop = "filter_drop"
	filterPass = "filter_pass"
)

// Insns returns the filter as instructions to put before a tracepoint
// program for the format: they end the run with r0 = 0 for a drop the
// filter rejects, and otherwise go on with r1 (the context) as the program
// got it. They use r9 and the 16 bytes below the frame pointer. nil when the
// filter keeps every drop.
func (f *Filter) Insns(format *tracepoint.Format) (asm.Instructions, error) {
	if f.Empty() {
		return nil, nil
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	b := &builder{}
	b.emit(asm.Mov.Reg(asm.R9, asm.R1))
	if err := f.reasonInsns(b, format); err != nil {
		return nil, err
	}
	if f.HasProtocol {
		fd, err := f.field(format, "protocol", 2)
		if err != nil {
			return nil, err
		}
		b.emit(
			asm.LoadMem(asm.R2, asm.R9, int16(fd.Offset), asm.Half),
			asm.JNE.Imm(asm.R2, int32(f.Protocol), filterDrop),
		)
	}
	if r := f.Location; r != nil {
		fd, err := f.field(format, "location", 8)
		if err != nil {
			return nil, err
		}
		b.emit(
			asm.LoadMem(asm.R2, asm.R9, int16(fd.Offset), asm.DWord),
			asm.LoadImm(asm.R3, int64(r.Start), asm.DWord),
			asm.JLT.Reg(asm.R2, asm.R3, filterDrop),
			asm.LoadImm(asm.R3, int64(r.End), asm.DWord),
			asm.JGE.Reg(asm.R2, asm.R3, filterDrop),
		)
	}
	if f.Comm != "" {
		// bpf_get_current_comm pads the name with NULs to the size asked
		// for (strscpy_pad), so two 8-byte compares match it exactly.
		var want [commLen]byte
		copy(want[:], f.Comm)
		b.emit(
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, -commLen),
			asm.Mov.Imm(asm.R2, commLen),
			asm.FnGetCurrentComm.Call(),
		)
		for i := 0; i < commLen; i += 8 {
			b.emit(
				asm.LoadMem(asm.R2, asm.RFP, int16(-commLen+i), asm.DWord),
				asm.LoadImm(asm.R3, int64(binary.NativeEndian.Uint64(want[i:])), asm.DWord),
				asm.JNE.Reg(asm.R2, asm.R3, filterDrop),
			)
		}
	}
	b.emit(asm.Ja.Label(filterPass))
	b.label(filterDrop)
	b.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	b.label(filterPass)
	b.emit(asm.Mov.Reg(asm.R1, asm.R9))
	return b.insns, nil
}

// reasonInsns keeps the reasons of Reasons and rejects those of
// ExcludeReasons.
func (f *Filter) reasonInsns(b *builder, format *tracepoint.Format) error {
	if len(f.Reasons) == 0 && len(f.ExcludeReasons) == 0 {
		return nil
	}
	fd, err := f.field(format, "reason", 1, 2, 4, 8)
	if err != nil {
		return err
	}
	size, _ := loadSize(fd.Size)
	b.emit(asm.LoadMem(asm.R2, asm.R9, int16(fd.Offset), size))
	for _, r := range f.ExcludeReasons {
		b.emit(asm.JEq.Imm(asm.R2, int32(r), filterDrop))
	}
	if len(f.Reasons) > 0 {
		for _, r := range f.Reasons {
			b.emit(asm.JEq.Imm(asm.R2, int32(r), "filter_reason_ok"))
		}
		b.emit(asm.Ja.Label(filterDrop))
		b.label("filter_reason_ok")
	}
	return nil
}

// builder collects instructions, giving a label to the next one emitted.
type builder struct {
	insns asm.Instructions
	next  string
}

func (b *builder) label(name string) {
	if b.next != "" {
		panic("BUG: two labels on one instruction: " + b.next + ", " + name)
	}
	b.next = name
}

func (b *builder) emit(insns ...asm.Instruction) {
	for _, ins := range insns {
		if b.next != "" {
			ins = ins.WithSymbol(b.next)
			b.next = ""
		}
		b.insns = append(b.insns, ins)
	}
}
