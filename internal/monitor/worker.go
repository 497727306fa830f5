package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/userspacevm"
)

// worker reads its rings (one, or every CPU's) in batches and runs the
// program over each sample. Its counters are plain fields on the record
// path, published once per batch.
type worker struct {
	m      *Monitor
	reader *perfring.Reader
	runner userspacevm.Runner
	handle func(*perfring.Record) // w.run, bound once
	rc     userspacevm.RunContext
	pid    uint32
	tap    func(*perfring.Record)
	round  func() // Config.TapRound, with one reader over every ring

	nRecords, nFiltered, nRunErrors uint64 // owned by the loop
	records, filtered, runErrors    atomic.Uint64

	flushed   atomic.Uint64 // last Flush generation drained
	flushDone chan struct{} // signalled after each drain for a Flush
}

func newWorker(m *Monitor, rd *perfring.Reader, runner userspacevm.Runner) *worker {
	w := &worker{m: m, reader: rd, runner: runner, pid: m.cfg.PID, tap: m.cfg.Tap, flushDone: make(chan struct{}, 1)}
	if m.cfg.Tap != nil && m.cfg.Readers == ReadersOne {
		w.round = m.cfg.TapRound
	}
	w.handle = w.run
	return w
}

// loop reads batches until the context is cancelled, then drains what the
// rings still hold. Between batches it answers Flush requests with a drain
// that starts after the request, so a flushed count misses nothing that
// came before.
func (w *worker) loop(ctx context.Context) {
	defer w.m.wg.Done()
	if w.m.cfg.LockThread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	for {
		if gen := w.m.flushGen.Load(); gen != w.flushed.Load() {
			_, err := w.reader.Drain(w.handle)
			w.publish()
			w.noteReadError(err)
			w.flushed.Store(gen)
			select {
			case w.flushDone <- struct{}{}:
			default:
			}
			continue
		}
		w.reader.SetDeadline(time.Now().Add(w.m.cfg.MaxDelay))
		_, err := w.reader.ReadBatch(ctx, w.handle)
		w.publish()
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
		case errors.Is(err, perfring.ErrCorrupt):
			w.m.noteError(err)
		case ctx.Err() != nil:
			_, err := w.reader.Drain(w.handle)
			w.publish()
			w.noteReadError(err)
			return
		default: // closed, or a read error: nothing more will come
			w.m.noteError(err)
			return
		}
	}
}

func (w *worker) noteReadError(err error) {
	if err != nil {
		w.m.noteError(err)
	}
}

// publish makes the loop's counters visible to Stats, after a pass over
// the rings.
func (w *worker) publish() {
	if w.round != nil {
		w.round()
	}
	w.records.Store(w.nRecords)
	w.filtered.Store(w.nFiltered)
	w.runErrors.Store(w.nRunErrors)
}

// run is the record path: one call per record, no allocation.
func (w *worker) run(rec *perfring.Record) {
	if rec.Type != perfring.RecordSample {
		if (rec.Type == perfring.RecordLost || rec.Type == perfring.RecordComm) && w.tap != nil {
			w.tap(rec)
		}
		return
	}
	if w.pid != 0 && rec.Pid != w.pid {
		w.nFiltered++
		return
	}
	if w.tap != nil {
		w.tap(rec)
	}
	rc := &w.rc
	rc.CPU, rc.Pid, rc.Tid, rc.Time = rec.CPU, rec.Pid, rec.Tid, rec.Time
	rc.Callchain = rec.Callchain
	if _, err := w.runner.Run(rec.Raw, rc); err != nil {
		w.nRunErrors++
		w.m.noteError(fmt.Errorf("cpu %d: %w", rec.CPU, err))
		return
	}
	w.nRecords++
}
