package monitor

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/samples"
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
	// Engine runs the drop counter: "jit" or "interp"; empty means
	// DefaultEngine, with the interpreter as fallback where the JIT cannot
	// run.
	Engine string
	// PID, when non-zero, keeps only records whose sample pid (the thread
	// group id) is PID; others are not run.
	PID uint32
	// RingPages per CPU; 0 means tracepoint.DefaultRingPages.
	RingPages int
	// MaxEntries of the count map; 0 means DefaultMaxEntries.
	MaxEntries uint32
}

// Engines lists the engines Config.Engine accepts.
var Engines = []string{"jit", "interp"}

// DefaultEngine is the JIT where it exists (amd64), else the interpreter.
func DefaultEngine() string {
	if runtime.GOARCH == "amd64" {
		return "jit"
	}
	return "interp"
}

// Stats are the monitor's own counters, since start.
type Stats struct {
	Records   uint64 // samples run through the program
	Filtered  uint64 // samples skipped by the pid filter
	Lost      uint64 // records the kernel could not write (rings full)
	Corrupt   uint64 // corrupt records skipped
	RunErrors uint64 // runs that failed
	LastError error  // the last run or read error
}

// Monitor is a running drop monitor.
type Monitor struct {
	cfg     Config
	format  *tracepoint.Format
	event   *tracepoint.Event
	prep    *userspacevm.Prepared
	counts  *maps.Map
	workers []*worker
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	stopped bool
	lastErr atomic.Pointer[error]
}

// Start opens skb:kfree_skb on every CPU, loads the drop counter on the
// configured engine once per CPU, starts one reader goroutine per CPU and
// enables the event. Errors say what to do (privileges, tracefs, an unknown
// engine).
func Start(cfg Config) (_ *Monitor, err error) {
	chosen := cfg.Engine != ""
	if !chosen {
		cfg.Engine = DefaultEngine()
	}
	engine, err := engineByName(cfg.Engine)
	if err != nil {
		return nil, err
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	format, err := tracepoint.ReadFormat("skb", "kfree_skb")
	if err != nil {
		return nil, err
	}
	prog, err := samples.DropCounter(format, cfg.MaxEntries)
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg, format: format}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	// The drop counter is verified against this kernel's record size; the
	// engines run only what the verifier accepted.
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: format.Size()})
	if err != nil {
		return nil, fmt.Errorf("verify the drop counter: %w", err)
	}
	if m.prep, err = userspacevm.PrepareVerified(v, nil); err != nil {
		return nil, err
	}
	m.counts = m.prep.Maps[0]
	if m.event, err = tracepoint.OpenFormat(format, &tracepoint.Options{RingPages: cfg.RingPages}); err != nil {
		return nil, err
	}
	readers, err := m.event.NewCPUReaders()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	for i, cpu := range m.event.CPUs() {
		runner, err := engine.Load(m.prep)
		if err != nil && i == 0 && !chosen && errors.Is(err, jit.ErrNotSupported) {
			// No executable memory here (or no JIT for this machine):
			// the interpreter is the portable fallback.
			m.cfg.Engine, engine = "interp", userspacevm.Interp{}
			runner, err = engine.Load(m.prep)
		}
		if err != nil {
			return nil, fmt.Errorf("load the drop counter on engine %s: %w", m.cfg.Engine, err)
		}
		m.workers = append(m.workers, &worker{m: m, cpu: cpu, reader: readers[i], runner: runner})
	}
	for _, w := range m.workers {
		m.wg.Add(1)
		go w.loop(ctx)
	}
	if err := m.event.Enable(); err != nil {
		return nil, err
	}
	return m, nil
}

func engineByName(name string) (userspacevm.Engine, error) {
	switch name {
	case "interp":
		return userspacevm.Interp{}, nil
	case "jit":
		return jit.Engine{}, nil
	case "kernel":
		return nil, fmt.Errorf("engine %q is not available yet (engines: %v)", name, Engines)
	}
	return nil, fmt.Errorf("unknown engine %q (engines: %v)", name, Engines)
}

// Format returns the running kernel's kfree_skb format.
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
func (m *Monitor) CPUs() int { return len(m.workers) }

// Engine returns the engine's name.
func (m *Monitor) Engine() string { return m.cfg.Engine }

// Counts reads the drop counter's map: cumulative drops per key.
func (m *Monitor) Counts() (report.Counts, error) {
	counts := report.Counts{}
	var key, value []byte
	it := m.counts.Iterate()
	for it.Next(&key, &value) {
		k, err := samples.DecodeDropKey(key)
		if err != nil {
			return nil, fmt.Errorf("read drop counts: %w", err)
		}
		if len(value) != 8 {
			return nil, fmt.Errorf("read drop counts: value of %d bytes, want 8", len(value))
		}
		counts[report.Key{Location: k.Location, Reason: k.Reason}] += binary.NativeEndian.Uint64(value)
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
		s.Corrupt += w.corrupt.Load()
		s.RunErrors += w.runErrors.Load()
	}
	if m.event != nil {
		s.Lost = m.event.Lost()
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
	var err error
	if m.event != nil {
		err = m.event.Disable()
	}
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
	if m.event != nil {
		errs = append(errs, m.event.Close())
	}
	for _, w := range m.workers {
		errs = append(errs, w.runner.Close())
	}
	if m.prep != nil {
		errs = append(errs, m.prep.Close())
	}
	return errors.Join(errs...)
}

func (m *Monitor) noteError(err error) { m.lastErr.Store(&err) }

// worker reads one CPU's ring and runs the program over each sample.
type worker struct {
	m      *Monitor
	cpu    int
	reader *perfring.Reader
	runner userspacevm.Runner

	records, filtered, corrupt, runErrors atomic.Uint64
}

func (w *worker) loop(ctx context.Context) {
	defer w.m.wg.Done()
	var rec perfring.Record
	rc := userspacevm.RunContext{CPU: w.cpu}
	for {
		err := w.reader.ReadContext(ctx, &rec)
		switch {
		case err == nil:
			w.handle(&rec, &rc)
		case errors.Is(err, perfring.ErrCorrupt):
			w.corrupt.Add(1)
			w.m.noteError(err)
		case ctx.Err() != nil:
			w.drain(&rec, &rc)
			return
		default: // closed, or a read error: nothing more will come
			w.m.noteError(err)
			return
		}
	}
}

// drain runs what is still in the ring after the event was disabled.
func (w *worker) drain(rec *perfring.Record, rc *userspacevm.RunContext) {
	for {
		ok, err := w.reader.ReadPending(rec)
		if err != nil && errors.Is(err, perfring.ErrCorrupt) {
			w.corrupt.Add(1)
			continue
		}
		if !ok || err != nil {
			return
		}
		w.handle(rec, rc)
	}
}

func (w *worker) handle(rec *perfring.Record, rc *userspacevm.RunContext) {
	if rec.Type != perfring.RecordSample {
		return
	}
	if w.m.cfg.PID != 0 && rec.Pid != w.m.cfg.PID {
		w.filtered.Add(1)
		return
	}
	rc.Pid, rc.Tid, rc.Time = rec.Pid, rec.Tid, rec.Time
	rc.Callchain = rec.Callchain
	if _, err := w.runner.Run(rec.Raw, rc); err != nil {
		w.runErrors.Add(1)
		w.m.noteError(fmt.Errorf("cpu %d: %w", w.cpu, err))
		return
	}
	w.records.Add(1)
}
