package maps

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// Perf event arrays carry bpf_perf_event_output records to user space. In
// the kernel each index holds a perf event whose ring a reader maps; here
// every index in [0, max_entries) is present and records go to one
// buffered channel, each tagged with the CPU the program ran on.

// bpf_perf_event_output flags.
const (
	flagIndexMask  = 0xffffffff // BPF_F_INDEX_MASK
	flagCurrentCPU = flagIndexMask
)

// PerfOutput is one bpf_perf_event_output record.
type PerfOutput struct {
	CPU  int    // the CPU the program ran on
	Data []byte // a copy of the program's bytes
}

type perfState struct {
	mu     sync.RWMutex // held for reading by Output, for writing by close
	closed bool
	events chan PerfOutput
	lost   atomic.Uint64
}

// Output is bpf_perf_event_output from a program running on cpu. The index
// is flags&BPF_F_INDEX_MASK, BPF_F_CURRENT_CPU meaning cpu. It returns 0,
// -EINVAL for other flag bits, -E2BIG for an index past max_entries, or
// -ENOSPC when the Events buffer is full: the record is then counted in
// Lost, as a full perf ring counts it. It never blocks.
func (m *Map) Output(cpu int, flags uint64, data []byte) int64 {
	if m.perf == nil || flags&^flagIndexMask != 0 {
		return codeEINVAL
	}
	idx := flags & flagIndexMask
	if idx == flagCurrentCPU {
		idx = uint64(cpu)
	}
	if idx >= uint64(m.maxEntries) {
		return codeE2BIG
	}
	p := m.perf
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return codeENOENT
	}
	select {
	case p.events <- PerfOutput{CPU: cpu, Data: bytes.Clone(data)}:
		return 0
	default:
		p.lost.Add(1)
		return codeENOSPC
	}
}

// Events delivers the records of a perf event array; it is closed by Close.
// It is nil for other map types.
func (m *Map) Events() <-chan PerfOutput {
	if m.perf == nil {
		return nil
	}
	return m.perf.events
}

// Lost is the number of records dropped because Events was full.
func (m *Map) Lost() uint64 {
	if m.perf == nil {
		return 0
	}
	return m.perf.lost.Load()
}

func (p *perfState) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.events)
	}
}
