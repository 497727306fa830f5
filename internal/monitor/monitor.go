package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/maps"
	"github.com/dropmon/dropmon/verifier"
)

// DefaultMaxEntries is the size of the drop counter's map: distinct
// (location, reason) pairs. A busy machine shows a few dozen.
const DefaultMaxEntries = 16384

// Config says what to watch and how.
type Config struct {
	// Counter is the program to run and the map to read; nil means
	// DropCounter.
	Counter *Counter
	// Engine runs the drop counter: "jit" or "interp"; empty means
	// DefaultEngine, with the interpreter as fallback where the JIT cannot
	// run.
	Engine string
	// PID, when non-zero, keeps only records whose sample pid (the thread
	// group id) is PID; others are not run. On the user-space engines the
	// records of other processes still reach the rings (ftrace's filter
	// knows the thread id, common_pid, not the process): they are counted
	// in Stats.Filtered.
	PID uint32
	// Filter, when not empty, keeps only the drops it matches. On the
	// user-space engines it is a tracepoint filter, so that the drops it
	// rejects never reach a ring; on the kernel engine it is the first
	// instructions of the program. The tracepoints' formats must have the
	// fields it reads (skb:kfree_skb's).
	Filter *dropcount.Filter
	// RingSize is the size of each CPU's ring in bytes, a power of two and
	// a multiple of the page size; 0 means tracepoint.DefaultRingSize.
	RingSize int
	// MaxEntries of the count map; 0 means DefaultMaxEntries.
	MaxEntries uint32
	// Readers says how rings are read: ReadersOne (one goroutine over
	// every CPU's ring, the default) or ReadersPerCPU (one per CPU).
	Readers string
	// LockThread locks each reading goroutine to its OS thread.
	LockThread bool
	// BlockInSyscall makes readers wait in epoll_wait instead of Go's
	// netpoller (perfring.ReaderOptions); for measurements.
	BlockInSyscall bool
	// Tap, when set, sees every sample the program is about to run (after
	// the pid filter), every lost-records record and, since the events
	// then track them, every task's new name (PERF_RECORD_COMM), on the reading
	// goroutine, before the program: dropmon record writes them to a file.
	// The records then carry their time (CLOCK_MONOTONIC, as Now reads
	// it), CPU, pid and tid. User-space engines only.
	Tap func(rec *perfring.Record)
	// TapRound, when set with Tap, is called after each pass of the one
	// reading goroutine over every CPU's ring (ReadersOne): every record
	// stamped before the newest one it saw is then either tapped or in a
	// ring, to be tapped in the next pass; perf record writes a
	// FINISHED_ROUND there, which bounds what a sorting reader holds.
	TapRound func()
	// MaxDelay bounds how long a record may wait in a ring below the
	// wakeup watermark before it is run; 0 means DefaultMaxDelay. Reports
	// do not wait for it: Flush drains every ring first.
	MaxDelay time.Duration
}

// Reader modes for Config.Readers.
const (
	ReadersOne    = "one"
	ReadersPerCPU = "per-cpu"
)

// DefaultMaxDelay is Config.MaxDelay's default.
const DefaultMaxDelay = 100 * time.Millisecond

// RingSize checks a ring size: a power of two, a multiple of the page size,
// and at most 1 GiB.
func RingSize(bytes int) error {
	page := os.Getpagesize()
	if bytes < page || bytes > 1<<30 || bytes&(bytes-1) != 0 {
		return fmt.Errorf("ring size %d bytes: want a power of two from the page size (%d) to 1 GiB, such as 512KiB or 4MiB", bytes, page)
	}
	return nil
}

// Engines lists the engines Config.Engine accepts: the two user-space
// engines and the kernel itself.
var Engines = []string{"jit", "interp", "kernel"}

// CheckEngine reports whether Config.Engine takes name, with the list of
// engines when it does not.
func CheckEngine(name string) error {
	if slices.Contains(Engines, name) {
		return nil
	}
	return fmt.Errorf("unknown engine %q (engines: %s)", name, strings.Join(Engines, ", "))
}

// DefaultEngine is the JIT where it exists (amd64), else the interpreter.
func DefaultEngine() string {
	if runtime.GOARCH == "amd64" {
		return "jit"
	}
	return "interp"
}

// Stats are the monitor's own counters, since start.
type Stats struct {
	Records  uint64 // samples run through the program (0 on the kernel engine, which counts in the kernel)
	Filtered uint64 // samples skipped by the pid filter
	Lost     uint64 // records the kernel could not write (rings full)
	// LostPerCPU is Lost by CPU, in the order of Monitor.CPUList.
	LostPerCPU []uint64
	Corrupt    uint64 // corrupt records skipped
	RunErrors  uint64 // runs that failed
	LastError  error  // the last run or read error
}

// Monitor is a running drop monitor.
type Monitor struct {
	cfg     Config
	format  *tracepoint.Format
	events  []*tracepoint.Event     // by program
	preps   []*userspacevm.Prepared // by program
	ownMaps []*maps.Map             // the programs' maps, shared by name
	counts  *maps.Map
	kernel  *kernelCounter // the kernel engine; nil for the user-space ones
	stacks  *stacks        // the counter's call chains; nil without Counter.Stacks
	cpus    []int
	workers []*worker
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	stopped bool
	lastErr atomic.Pointer[error]

	flushMu  sync.Mutex    // one Flush at a time
	flushGen atomic.Uint64 // generation of the latest Flush request
}

// Start opens skb:kfree_skb on every CPU, loads the drop counter on the
// configured engine, starts the reading goroutines and enables the event.
// Errors say what to do (privileges, tracefs, an unknown engine, a ring size
// the kernel refuses).
func Start(cfg Config) (_ *Monitor, err error) {
	chosen := cfg.Engine != ""
	if !chosen {
		cfg.Engine = DefaultEngine()
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Engine == "kernel" {
		if cfg.Tap != nil {
			return nil, errors.New("the kernel engine counts in the kernel and reads no records, so it has none to record: use --engine jit or interp")
		}
		return startKernel(cfg)
	}
	if why := cfg.Counter.KernelOnly; why != "" {
		return nil, fmt.Errorf("engine %s: %w: %s; use --engine kernel", cfg.Engine, ErrKernelOnly, why)
	}
	engine, err := engineByName(cfg.Engine)
	if err != nil {
		return nil, err
	}
	progs, err := cfg.Counter.buildAll(cfg.MaxEntries, 0, nil)
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg, format: progs[0].format}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := m.prepareUser(progs); err != nil {
		return nil, err
	}
	var readers [][]*perfring.Reader // by program
	total := 0
	for i, b := range progs {
		rds, err := m.open(b, m.preps[i])
		if err != nil {
			return nil, err
		}
		readers = append(readers, rds)
		total += len(rds)
	}
	m.cpus = m.events[0].CPUs()
	if je, ok := engine.(jit.Engine); ok && total == 1 {
		// One runner writes the counts: its atomic adds need no bus lock.
		je.Exclusive = true
		engine = je
	}
	for i, rds := range readers {
		for _, rd := range rds {
			runner, err := engine.Load(m.preps[i])
			if err != nil && len(m.workers) == 0 && !chosen && errors.Is(err, jit.ErrNotSupported) {
				// No executable memory here (or no JIT for this machine):
				// the interpreter is the portable fallback.
				m.cfg.Engine, engine = "interp", userspacevm.Interp{}
				runner, err = engine.Load(m.preps[i])
			}
			if err != nil {
				return nil, fmt.Errorf("load %s on engine %s: %w", progs[i].prog.Name, m.cfg.Engine, err)
			}
			m.workers = append(m.workers, newWorker(m, rd, runner))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	for _, w := range m.workers {
		m.wg.Add(1)
		go w.loop(ctx)
	}
	for _, ev := range m.events {
		if err := ev.Enable(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// prepareUser makes the programs' maps in user space, shared by name, and
// verifies and prepares each program (m.preps, in the order of progs).
// Each program is verified against its tracepoint's record size; the
// engines run only what the verifier accepted.
func (m *Monitor) prepareUser(progs []built) error {
	byName, all, err := sharedMaps(progs)
	if err != nil {
		return err
	}
	m.ownMaps = all
	if m.counts = byName[m.cfg.Counter.Map]; m.counts == nil {
		return fmt.Errorf("the programs have no map %s", m.cfg.Counter.Map)
	}
	if name := m.cfg.Counter.Stacks; name != "" {
		if byName[name] == nil {
			return fmt.Errorf("the programs have no map %s", name)
		}
		m.stacks = newStacks(byName[name], nil)
	}
	for _, b := range progs {
		v, err := verifier.Verify(b.prog, &verifier.Options{ContextSize: b.format.Size()})
		if err != nil {
			return fmt.Errorf("verify %s: %w", b.prog.Name, err)
		}
		prep, err := userspacevm.PrepareVerified(v, &userspacevm.LoadOptions{Maps: mapsFor(b.prog, byName)})
		if err != nil {
			return err
		}
		m.preps = append(m.preps, prep)
	}
	return nil
}

// open opens one program's tracepoint on every CPU and makes its readers.
func (m *Monitor) open(b built, prep *userspacevm.Prepared) ([]*perfring.Reader, error) {
	filter, err := m.cfg.Filter.Tracepoint(b.format)
	if err != nil {
		return nil, err
	}
	ev, err := tracepoint.OpenFormat(b.format, &tracepoint.Options{
		Filter:    filter,
		RingPages: m.cfg.RingSize / os.Getpagesize(),
		// The sample's pid and tid only when something reads them: smaller
		// records are less work for the kernel and fit more in a ring.
		RawOnly: m.cfg.PID == 0 && m.cfg.Tap == nil && prep.HelperFunc(asm.FnGetCurrentPidTgid) == nil,
		// A recording's times are compared with the report boundaries,
		// and it names the tasks of its samples.
		ClockMonotonic: m.cfg.Tap != nil,
		Comm:           m.cfg.Tap != nil,
		// The kernel call chain only for a program that asks for it.
		Callchain: prep.HelperFunc(asm.FnGetStackid) != nil,
		// Wake the reader once a ring is a quarter full: thousands of
		// records a wakeup in a storm, and three quarters of the ring
		// still free while the reader gets to it (perfring/RATIONALE.md).
		Watermark: m.cfg.RingSize / 4,
	})
	if err != nil {
		return nil, err
	}
	m.events = append(m.events, ev)
	opts := &perfring.ReaderOptions{BlockInSyscall: m.cfg.BlockInSyscall}
	if m.cfg.Readers == ReadersPerCPU {
		return ev.NewCPUReadersWithOptions(opts)
	}
	rd, err := ev.NewReaderWithOptions(opts)
	if err != nil {
		return nil, err
	}
	return []*perfring.Reader{rd}, nil
}

// startKernel runs the drop counter inside the kernel: verified by
// dropmon's verifier first, then loaded (and verified again by the kernel)
// and attached with cilium/ebpf. The pid filter is part of the program,
// since tracepoint filters do not apply to BPF programs.
func startKernel(cfg Config) (_ *Monitor, err error) {
	progs, err := cfg.Counter.buildAll(cfg.MaxEntries, cfg.PID, cfg.Filter)
	if err != nil {
		return nil, err
	}
	for _, b := range progs {
		if _, err := verifier.Verify(b.prog, &verifier.Options{ContextSize: b.format.Size()}); err != nil {
			return nil, fmt.Errorf("verify %s: %w", b.prog.Name, err)
		}
	}
	m := &Monitor{cfg: cfg, format: progs[0].format}
	if m.cpus, err = tracepoint.OnlineCPUs(); err != nil {
		return nil, err
	}
	if m.kernel, err = loadKernel(progs, cfg.Counter.Map); err != nil {
		return nil, err
	}
	if name := cfg.Counter.Stacks; name != "" {
		sm := m.kernel.coll.Maps[name]
		if sm == nil {
			m.kernel.close()
			return nil, fmt.Errorf("kernel engine: the programs have no map %s", name)
		}
		m.stacks = newStacks(nil, sm)
	}
	return m, nil
}

// KernelProgramIDs returns the kernel's IDs of the programs the kernel
// engine loaded (bpftool prog show id N), none for the user-space engines.
func (m *Monitor) KernelProgramIDs() []uint32 {
	if m.kernel == nil {
		return nil
	}
	ids := make([]uint32, len(m.kernel.ids))
	for i, id := range m.kernel.ids {
		ids[i] = uint32(id)
	}
	return ids
}

// defaults fills in and checks the configuration.
func (cfg *Config) defaults() error {
	if cfg.Counter == nil {
		cfg.Counter = DropCounter
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.RingSize == 0 {
		cfg.RingSize = tracepoint.DefaultRingSize
	}
	if err := RingSize(cfg.RingSize); err != nil {
		return err
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxDelay < 0 {
		return fmt.Errorf("max delay %s: must be positive", cfg.MaxDelay)
	}
	switch cfg.Readers {
	case "":
		cfg.Readers = ReadersOne
	case ReadersOne, ReadersPerCPU:
	default:
		return fmt.Errorf("readers %q: want %s or %s", cfg.Readers, ReadersOne, ReadersPerCPU)
	}
	return nil
}

func engineByName(name string) (userspacevm.Engine, error) {
	switch name {
	case "interp":
		return userspacevm.Interp{}, nil
	case "jit":
		return jit.Engine{}, nil
	}
	if err := CheckEngine(name); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("BUG: engine %q has no implementation", name)
}

// Tracepoint returns the tracepoint watched, as GROUP:NAME.
func (m *Monitor) Tracepoint() string { return m.cfg.Counter.Tracepoint() }

// Format returns the running kernel's format of the tracepoint.
func (m *Monitor) Format() *tracepoint.Format { return m.format }

// HasReasons reports whether the kernel gives drop reasons.
func (m *Monitor) HasReasons() bool {
	_, err := m.format.Field("reason")
	return err == nil
}

// ReasonName names a drop reason from the kernel's own table, or
// "reason#N" for a number the table lacks.
func (m *Monitor) ReasonName(r uint32) string {
	if name, ok := m.format.SymbolName("reason", uint64(r)); ok {
		return name
	}
	return fmt.Sprintf("reason#%d", r)
}

// CPUs returns the number of CPUs watched.
func (m *Monitor) CPUs() int { return len(m.cpus) }

// CPUList returns the CPUs watched, in the order of Stats.LostPerCPU.
func (m *Monitor) CPUList() []int { return slices.Clone(m.cpus) }

// Readers returns how the rings are read: ReadersOne or ReadersPerCPU.
func (m *Monitor) Readers() string { return m.cfg.Readers }

// RingSize returns the size of each CPU's ring in bytes.
func (m *Monitor) RingSize() int { return m.cfg.RingSize }

// Engine returns the engine's name.
func (m *Monitor) Engine() string { return m.cfg.Engine }

// Counts reads the drop counter's map: cumulative drops per key.
func (m *Monitor) Counts() (report.Counts, error) {
	counts := report.Counts{}
	add := func(key, value []byte) error {
		k, n, err := m.cfg.Counter.Decode(key, value)
		if err != nil {
			return err
		}
		if m.stacks != nil {
			if k.Stack, err = m.stacks.stack(m.cfg.Counter.StackID(key)); err != nil {
				return err
			}
		}
		counts[k] += n
		return nil
	}
	if m.kernel != nil {
		if err := m.kernel.forEach(add); err != nil {
			return nil, fmt.Errorf("read drop counts from the kernel: %w", err)
		}
		return counts, nil
	}
	var key, value []byte
	it := m.counts.Iterate()
	for it.Next(&key, &value) {
		if err := add(key, value); err != nil {
			return nil, fmt.Errorf("read drop counts: %w", err)
		}
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("read drop counts: %w", err)
	}
	return counts, nil
}

// Stats sums the workers' counters.
func (m *Monitor) Stats() Stats {
	var s Stats
	for _, w := range m.workers {
		s.Records += w.records.Load()
		s.Filtered += w.filtered.Load()
		s.RunErrors += w.runErrors.Load()
		s.Corrupt += w.reader.Corrupt()
	}
	// The kernel engine has no rings, so nothing to lose. Every event is
	// open on the same CPUs, in the same order.
	s.LostPerCPU = make([]uint64, len(m.cpus))
	for _, ev := range m.events {
		for i, ring := range ev.Rings() {
			if i < len(s.LostPerCPU) {
				s.LostPerCPU[i] += ring.Lost()
			}
			s.Lost += ring.Lost()
		}
	}
	if e := m.lastErr.Load(); e != nil {
		s.LastError = *e
	}
	return s
}

// Stop disables the event, runs the records still in the rings and stops
// the workers. Counts stay readable until Close.
func (m *Monitor) Stop() error {
	if m.stopped {
		return nil
	}
	m.stopped = true
	var errs []error
	for _, ev := range m.events {
		errs = append(errs, ev.Disable())
	}
	if m.kernel != nil {
		errs = append(errs, m.kernel.detach())
	}
	err := errors.Join(errs...)
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	return err
}

// Close stops the monitor if needed and releases everything: readers,
// rings and perf events, runners, and the program's maps.
func (m *Monitor) Close() error {
	errs := []error{m.Stop()}
	for _, ev := range m.events {
		errs = append(errs, ev.Close())
	}
	for _, w := range m.workers {
		errs = append(errs, w.runner.Close())
	}
	for _, prep := range m.preps {
		errs = append(errs, prep.Close())
	}
	errs = append(errs, closeMaps(m.ownMaps))
	m.preps, m.ownMaps, m.events = nil, nil, nil
	if m.kernel != nil {
		errs = append(errs, m.kernel.close())
		m.kernel = nil
	}
	return errors.Join(errs...)
}

func (m *Monitor) noteError(err error) { m.lastErr.Store(&err) }

// Flush runs every record that is in the rings now, so that counts read
// after it include every drop that happened before it, also those below the
// wakeup watermark. It waits at most timeout for the readers, and reports
// whether they all finished; a reader far behind (an engine that cannot keep
// up) makes it give up rather than hold up a report.
func (m *Monitor) Flush(timeout time.Duration) bool {
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	if m.stopped {
		return true
	}
	gen := m.flushGen.Add(1)
	for _, w := range m.workers {
		w.reader.Wake()
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, w := range m.workers {
		for w.flushed.Load() < gen {
			select {
			case <-w.flushDone:
			case <-deadline.C:
				return false
			}
		}
	}
	return true
}
