package monitor

import (
	"errors"
	"fmt"

	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
)

// Offline runs a counter's programs over records that come from somewhere
// other than the rings (a recording, for dropmon replay): the same programs,
// verified against the recording's formats, on a user-space engine, with
// the same maps that Monitor.Counts reads. It needs no privilege. The
// filters and the pid filter of the configuration are the first
// instructions of the programs, as on the kernel engine, since no kernel
// applies a tracepoint filter to a recording.
type Offline struct {
	*Monitor
	runners map[string][]userspacevm.Runner // by GROUP:NAME: the programs attached there
	rc      userspacevm.RunContext
}

// StartOffline builds the counter's programs with the formats formatOf
// gives (a recording's), verifies them and loads them on the configured
// engine (jit or interp; not kernel). cpus are the CPUs the recording
// watched.
func StartOffline(cfg Config, formatOf func(group, name string) (*tracepoint.Format, error), cpus []int) (_ *Offline, err error) {
	if cfg.Engine == "" {
		cfg.Engine = DefaultEngine()
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Engine == "kernel" {
		return nil, errors.New("the kernel engine runs on the kernel's own records, not on a recording: use --engine jit or interp")
	}
	if why := cfg.Counter.KernelOnly; why != "" {
		return nil, fmt.Errorf("engine %s: %w: %s", cfg.Engine, ErrKernelOnly, why)
	}
	engine, err := engineByName(cfg.Engine)
	if err != nil {
		return nil, err
	}
	progs, err := cfg.Counter.buildWith(formatOf, cfg.MaxEntries, cfg.PID, cfg.Filter)
	if err != nil {
		return nil, err
	}
	o := &Offline{Monitor: &Monitor{cfg: cfg, format: progs[0].format, cpus: cpus}, runners: map[string][]userspacevm.Runner{}}
	defer func() {
		if err != nil {
			o.Close()
		}
	}()
	m := o.Monitor
	if err := m.prepareUser(progs); err != nil {
		return nil, err
	}
	for i, b := range progs {
		prep := m.preps[i]
		runner, err := engine.Load(prep)
		if err != nil {
			return nil, fmt.Errorf("load %s on engine %s: %w", b.prog.Name, cfg.Engine, err)
		}
		tp := b.Group + ":" + b.Name
		o.runners[tp] = append(o.runners[tp], runner)
	}
	return o, nil
}

// Watches reports whether a program is attached to GROUP:NAME.
func (o *Offline) Watches(tracepoint string) bool {
	_, ok := o.runners[tracepoint]
	return ok
}

// Run runs the programs attached to GROUP:NAME over one sample. A record of
// a tracepoint no program watches is an error.
func (o *Offline) Run(tracepoint string, rec *perfring.Record) error {
	runners, ok := o.runners[tracepoint]
	if !ok {
		return fmt.Errorf("no program watches %s", tracepoint)
	}
	rc := &o.rc
	rc.CPU, rc.Pid, rc.Tid, rc.Time, rc.Callchain = rec.CPU, rec.Pid, rec.Tid, rec.Time, rec.Callchain
	for _, r := range runners {
		if _, err := r.Run(rec.Raw, rc); err != nil {
			return fmt.Errorf("cpu %d, time %d: %w", rec.CPU, rec.Time, err)
		}
	}
	return nil
}

// Close releases the runners and the maps.
func (o *Offline) Close() error {
	var errs []error
	for _, rs := range o.runners {
		for _, r := range rs {
			errs = append(errs, r.Close())
		}
	}
	o.runners = nil
	return errors.Join(append(errs, o.Monitor.Close())...)
}
