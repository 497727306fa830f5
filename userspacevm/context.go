package userspacevm

import (
	"io"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/userspacevm/maps"
)

// RunContext is what a record brings to a run besides its bytes. The caller
// fills it per record (from the perf sample) and engines pass it to helpers.
type RunContext struct {
	CPU  int    // the CPU whose ring the record came from: bpf_get_smp_processor_id
	Pid  uint32 // the sample's pid (the thread group id)
	Tid  uint32 // the sample's tid
	Time uint64 // the sample's time in ns
	// TimeIsMonotonic says Time is CLOCK_MONOTONIC (the event was opened with
	// use_clockid), so bpf_ktime_get_ns can return it; otherwise it reads
	// the clock when called.
	TimeIsMonotonic bool
	Callchain       []uint64 // kernel call chain for bpf_get_stackid, as perf gives it
	// Packet is the packet of a program whose context is an __sk_buff
	// (socket filter, tc, flow dissector; Prepared.SkBuff): what LD_ABS,
	// LD_IND, bpf_skb_load_bytes and the data/data_end pointers read.
	Packet []byte
	Trace  io.Writer // where bpf_trace_printk writes; nil discards
}

// Call is what a helper implementation sees: the run context, the memory
// the program may touch (to read keys, format strings and buffers through
// pointer arguments), and the maps the program references.
type Call struct {
	*RunContext
	Mem  *Memory
	Maps MapResolver
	// Err, when a helper sets it (through Fail), ends the run with that
	// error: a pointer argument that reaches outside the program's memory,
	// which the verifier would have refused. Engines check it after every
	// helper call and clear it before each run.
	Err error
	// Guard is the runner's maps.Guard, or nil. The map update and delete
	// helpers pause it (Guard.Pause) around an LRU map's update or delete,
	// so that the map may reuse at once the slots of entries the run cannot
	// hold.
	Guard *maps.Guard
}

// pause and resume bracket a map helper that looks nothing up.
func (c *Call) pause(m *maps.Map) bool {
	if c.Guard == nil || !m.MarksReferenced() {
		return false
	}
	c.Guard.Pause()
	return true
}

func (c *Call) resume(paused bool) {
	if paused {
		c.Guard.Resume()
	}
}

// Fail records err as the reason the run must stop and returns 0 for R0.
func (c *Call) Fail(err error) uint64 {
	if c.Err == nil {
		c.Err = err
	}
	return 0
}

// MapResolver turns the map pointer a program holds in a register (the value
// its LDDW map-fd pseudo load produced) back into the map.
type MapResolver interface {
	MapAt(ptr uint64) (*maps.Map, bool)
}

// Helpers is a table of helper implementations keyed by the kernel's helper
// numbers. Tables are values: a caller may copy DefaultHelpers and replace
// entries (dropmon exec makes helper 5 return its first argument, as the
// conformance suite expects).
type Helpers map[asm.BuiltinFunc]HelperFunc

// HelperFunc implements one helper: five arguments in registers R1-R5, the
// result in R0. Errors a kernel helper would return go into R0 as negative
// errno values, as in the kernel.
type HelperFunc func(c *Call, r1, r2, r3, r4, r5 uint64) uint64

// Runner runs one loaded program, one record at a time. A Runner is used by
// one goroutine at a time (one per CPU); different Runners of the same
// program may run at once and share the program's maps.
type Runner interface {
	Run(ctx []byte, rc *RunContext) (r0 uint64, err error)
	Close() error
}
