package monitor

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// Counter is what a monitor runs and reads: a program for one tracepoint,
// built for the running kernel's format of it, and the map the program
// counts in, with how to read its entries. The monitor knows nothing else
// about the program; DropCounter is dropmon's.
type Counter struct {
	Group, Name string // the tracepoint, such as skb and kfree_skb
	// Build makes the program for the tracepoint's format on this kernel;
	// maxEntries sizes its map.
	Build func(format *tracepoint.Format, maxEntries uint32) (*program.Program, error)
	// Map names the map Counts reads.
	Map string
	// Decode turns one entry of that map into a report key and a count.
	Decode func(key, value []byte) (report.Key, uint64, error)
	// Stacks, when set, names the stack trace map whose ids StackID reads
	// from a key of Map: each count then has its call chain
	// (report.Key.Stack).
	Stacks  string
	StackID func(key []byte) int32
	// Details, when set, names the program's flows maps (DetailsCounter):
	// Monitor.Flows reads them.
	Details *Details
	// KernelOnly, when set, says why the program runs on the kernel engine
	// only; the user-space engines refuse it with that reason.
	KernelOnly string
	// More are further programs, each on its own tracepoint, that share
	// the program's maps by name: the seed's picture of several programs
	// counting into one map.
	More []Attachment
}

// Attachment is one program of a Counter on one tracepoint.
type Attachment struct {
	Group, Name string
	Build       func(format *tracepoint.Format, maxEntries uint32) (*program.Program, error)
}

// attachments lists the counter's programs, its own first.
func (c *Counter) attachments() []Attachment {
	return append([]Attachment{{Group: c.Group, Name: c.Name, Build: c.Build}}, c.More...)
}

// built is one attachment's program, built for its tracepoint's format.
type built struct {
	Attachment
	format *tracepoint.Format
	prog   *program.Program
}

// buildAll reads each attachment's format and builds its program; pid,
// when not 0, and filter, when not empty, go into each program (for the
// kernel engine, where tracepoint filters do not apply).
func (c *Counter) buildAll(maxEntries uint32, pid uint32, filter *dropcount.Filter) ([]built, error) {
	return c.buildWith(tracepoint.ReadFormat, maxEntries, pid, filter)
}

// buildWith is buildAll with the formats from formatOf: the running
// kernel's, or a recording's.
func (c *Counter) buildWith(formatOf func(group, name string) (*tracepoint.Format, error), maxEntries uint32, pid uint32, filter *dropcount.Filter) ([]built, error) {
	var out []built
	// A program may run on several tracepoints (the kernel engine loads it
	// once and links it to each), but a program of one name is one program.
	progs := map[string]*program.Program{}
	attached := map[string]bool{}
	for _, a := range c.attachments() {
		format, err := formatOf(a.Group, a.Name)
		if err != nil {
			return nil, err
		}
		prog, err := a.Build(format, maxEntries)
		if err != nil {
			return nil, err
		}
		where := prog.Name + " on " + a.Group + ":" + a.Name
		if attached[where] {
			return nil, fmt.Errorf("program %s is attached to %s:%s twice", prog.Name, a.Group, a.Name)
		}
		attached[where] = true
		prologue, err := filter.Insns(format)
		if err != nil {
			return nil, fmt.Errorf("%s on %s:%s: %w", prog.Name, a.Group, a.Name, err)
		}
		prog.Insns = prepend(prologue, prog.Insns)
		if pid != 0 {
			prog.Insns = pidFilter(prog.Insns, pid)
		}
		if prev := progs[prog.Name]; prev != nil && !sameInsns(prev.Insns, prog.Insns) {
			return nil, fmt.Errorf("two programs are called %s", prog.Name)
		}
		progs[prog.Name] = prog
		out = append(out, built{Attachment: a, format: format, prog: prog})
	}
	return out, nil
}

// DropCounter counts skb:kfree_skb records per location and reason with
// dropcount.Program.
var DropCounter = &Counter{
	Group:  "skb",
	Name:   "kfree_skb",
	Build:  dropcount.Program,
	Map:    dropcount.MapName,
	Decode: decodeDrops,
}

// StackDropCounter is DropCounter with each drop's kernel call chain:
// dropcount.StackProgram, on every engine (on the user-space ones the
// records then carry their callchain, PERF_SAMPLE_CALLCHAIN).
var StackDropCounter = &Counter{
	Group:  "skb",
	Name:   "kfree_skb",
	Build:  dropcount.StackProgram,
	Map:    dropcount.MapName,
	Decode: decodeDrops,
	Stacks: dropcount.StackMapName,
	StackID: func(key []byte) int32 {
		k, _ := dropcount.DecodeKey(key) // decodeDrops checked the size
		return k.StackID
	},
}

func decodeDrops(key, value []byte) (report.Key, uint64, error) {
	k, err := dropcount.DecodeKey(key)
	if err != nil {
		return report.Key{}, 0, err
	}
	if len(value) != 8 {
		return report.Key{}, 0, fmt.Errorf("value of %d bytes, want 8", len(value))
	}
	return report.Key{Location: k.Location, Reason: k.Reason}, binary.NativeEndian.Uint64(value), nil
}

// Tracepoint names the counter's tracepoints as GROUP:NAME, comma separated.
func (c *Counter) Tracepoint() string {
	var names []string
	for _, a := range c.attachments() {
		names = append(names, a.Group+":"+a.Name)
	}
	return strings.Join(names, ", ")
}

// sameInsns reports whether a and b are the same instructions, map
// references included.
func sameInsns(a, b asm.Instructions) bool {
	return slices.EqualFunc(a, b, func(x, y asm.Instruction) bool {
		return x.OpCode == y.OpCode && x.Dst == y.Dst && x.Src == y.Src && x.Offset == y.Offset &&
			x.Constant == y.Constant && x.Reference() == y.Reference()
	})
}
