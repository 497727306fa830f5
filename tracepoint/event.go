package tracepoint

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/perfring"
)

// DefaultRingSize is the size of each CPU's ring when Options.RingPages is
// zero: 512 KiB, as perf record's default (and what kernel.perf_event_mlock_kb
// grants an unprivileged user per CPU), room for about 6,500 kfree_skb
// records between two reads.
const DefaultRingSize = 512 << 10

// DefaultRingPages is DefaultRingSize in pages of this machine.
func DefaultRingPages() int { return max(1, DefaultRingSize/os.Getpagesize()) }

// Options tunes how Open attaches to a tracepoint. The zero value is usable.
type Options struct {
	// RingPages is the number of data pages of each CPU's ring, a power of
	// two. Zero means DefaultRingPages().
	RingPages int
	// Watermark, when non-zero, wakes readers only once this many bytes are
	// waiting in a ring; zero wakes them on every record. Records below the
	// watermark are still returned when a reader's deadline passes.
	Watermark int
	// Filter is a kernel-side ftrace filter ("reason == 3", "protocol != 0x800")
	// that drops records before they reach the ring.
	Filter string
	// Callchain adds the kernel call chain of each record (PERF_SAMPLE_CALLCHAIN,
	// kernel frames only).
	Callchain bool
	// RawOnly leaves the pid/tid, the time and the CPU out of the records:
	// the tracepoint's own data (whose common_pid is the thread) and the
	// callchain when asked. Records are 24 bytes smaller, so a ring holds a
	// third more of them and the kernel writes less per event; the ring
	// still says which CPU a record came from.
	RawOnly bool
	// ClockMonotonic stamps records with CLOCK_MONOTONIC, the clock of
	// bpf_ktime_get_ns, instead of the perf clock.
	ClockMonotonic bool
	// Comm adds a PERF_RECORD_COMM record to the rings whenever a task
	// execs or renames itself (perf record's comm tracking), so that a
	// recording can name the tasks of its samples after they exit.
	Comm bool
	// CPUs lists the CPUs to attach to; nil means every online CPU.
	CPUs []int
}

// Event is a tracepoint opened as one perf event per CPU, each with its ring.
// Events start disabled: call Enable once readers are ready.
type Event struct {
	format     *Format
	sampleType uint64
	cpus       []int
	fds        []int
	rings      []*perfring.Ring

	mu      sync.Mutex
	res     *resources // also the argument of the cleanup, so it must not point back to the Event
	closed  bool
	cleanup runtime.Cleanup
}

// Open reads the format of tracepoint group:name and opens it on every CPU
// (or on opts.CPUs). It fails with an error that says what to do when the
// tracepoint does not exist (wrapping ErrNotFound), when tracefs is missing
// (ErrNoTracefs), or when the caller lacks privileges (os.ErrPermission).
func Open(group, name string, opts *Options) (*Event, error) {
	if opts == nil {
		opts = &Options{}
	}
	format, err := ReadFormat(group, name)
	if err != nil {
		return nil, fmt.Errorf("open tracepoint %s:%s: %w", group, name, err)
	}
	return OpenFormat(format, opts)
}

// OpenFormat is Open for a format read earlier (by ReadFormat).
func OpenFormat(format *Format, opts *Options) (_ *Event, err error) {
	if opts == nil {
		opts = &Options{}
	}
	pages := opts.RingPages
	if pages == 0 {
		pages = DefaultRingPages()
	}
	if pages < 1 || bits.OnesCount(uint(pages)) != 1 {
		return nil, fmt.Errorf("open tracepoint %s:%s: ring size of %d pages is not a power of two", format.Group, format.Name, pages)
	}
	if opts.Watermark < 0 || opts.Watermark >= pages*os.Getpagesize() {
		return nil, fmt.Errorf("open tracepoint %s:%s: watermark %d is outside the ring of %d bytes", format.Group, format.Name, opts.Watermark, pages*os.Getpagesize())
	}
	cpus := opts.CPUs
	if cpus == nil {
		var err error
		if cpus, err = OnlineCPUs(); err != nil {
			return nil, fmt.Errorf("open tracepoint %s:%s: %w", format.Group, format.Name, err)
		}
	}
	attr := perfAttr(format.ID, opts)
	ev := &Event{format: format, sampleType: attr.Sample_type, cpus: slices.Clone(cpus), res: &resources{}}
	defer func() {
		if err != nil {
			ev.Close()
		}
	}()
	for _, cpu := range cpus {
		fd, err := unix.PerfEventOpen(attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			return nil, perfOpenError(format, cpu, err)
		}
		ev.res.fds = append(ev.res.fds, fd)
		if opts.Filter != "" {
			if err := setFilter(fd, opts.Filter); err != nil {
				return nil, fmt.Errorf("open tracepoint %s:%s: set filter %q: %w (see the ftrace filter syntax in the kernel's Documentation/trace/events.rst; fields: %s)",
					format.Group, format.Name, opts.Filter, err, fieldNames(format))
			}
		}
		ring, err := perfring.NewRing(fd, cpu, pages, attr.Sample_type)
		if err != nil {
			return nil, fmt.Errorf("open tracepoint %s:%s on cpu %d: %w", format.Group, format.Name, cpu, err)
		}
		ev.res.rings = append(ev.res.rings, ring)
	}
	ev.cleanup = runtime.AddCleanup(ev, func(r *resources) { r.close() }, ev.res)
	return ev, nil
}

// perfAttr builds the perf_event_attr for a tracepoint with the given ID.
func perfAttr(id uint32, opts *Options) *unix.PerfEventAttr {
	attr := &unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Size:        uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Config:      uint64(id),
		Sample:      1, // sample_period: every event
		Sample_type: unix.PERF_SAMPLE_RAW | unix.PERF_SAMPLE_TIME | unix.PERF_SAMPLE_CPU | unix.PERF_SAMPLE_TID,
		Bits:        unix.PerfBitDisabled,
		Wakeup:      1, // wakeup_events: wake readers on every record
	}
	if opts.RawOnly {
		attr.Sample_type = unix.PERF_SAMPLE_RAW
	}
	if opts.Watermark > 0 {
		attr.Bits |= unix.PerfBitWatermark
		attr.Wakeup = uint32(opts.Watermark) // wakeup_watermark, in bytes
	}
	if opts.Callchain {
		attr.Sample_type |= unix.PERF_SAMPLE_CALLCHAIN
		attr.Bits |= unix.PerfBitExcludeCallchainUser
	}
	if opts.ClockMonotonic {
		attr.Bits |= unix.PerfBitUseClockID
		attr.Clockid = unix.CLOCK_MONOTONIC
	}
	if opts.Comm {
		attr.Bits |= unix.PerfBitComm | unix.PerfBitCommExec
	}
	return attr
}

// perfOpenError turns a perf_event_open failure into advice.
func perfOpenError(format *Format, cpu int, err error) error {
	where := fmt.Sprintf("perf_event_open %s:%s on cpu %d", format.Group, format.Name, cpu)
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Errorf("%s: %w (run as root, or grant CAP_PERFMON (Linux 5.8+) or CAP_SYS_ADMIN; kernel.perf_event_paranoid is %s)",
			where, err, paranoid())
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV):
		return fmt.Errorf("%s: %w: the kernel has no event with ID %d (was the format read from another kernel?)", where, ErrNotFound, format.ID)
	case errors.Is(err, unix.EMFILE):
		return fmt.Errorf("%s: %w (raise the open-files limit: ulimit -n)", where, err)
	case errors.Is(err, unix.EINVAL):
		return fmt.Errorf("%s: %w (the kernel refused the event's attributes; callchains and clock ids need Linux 4.1+)", where, err)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// paranoid reads kernel.perf_event_paranoid for error messages.
func paranoid() string {
	data, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// setFilter installs an ftrace filter on a perf event.
func setFilter(fd int, filter string) error {
	p, err := unix.BytePtrFromString(filter)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.PERF_EVENT_IOC_SET_FILTER, uintptr(unsafe.Pointer(p)))
	if errno != 0 {
		return errno
	}
	return nil
}

// Format returns the event's format: fields, offsets and symbol tables.
func (ev *Event) Format() *Format { return ev.format }

// SampleType returns the PERF_SAMPLE_* bits the event's records carry.
func (ev *Event) SampleType() uint64 { return ev.sampleType }

// CPUs returns the CPUs the event is open on, in the order of Rings.
func (ev *Event) CPUs() []int { return slices.Clone(ev.cpus) }

// Rings returns the per-CPU rings, in the order of CPUs.
func (ev *Event) Rings() []*perfring.Ring { return slices.Clone(ev.res.rings) }

// Enable starts the event on every CPU.
func (ev *Event) Enable() error { return ev.ioctlAll(unix.PERF_EVENT_IOC_ENABLE, "enable") }

// Disable stops the event on every CPU; records already in the rings stay readable.
func (ev *Event) Disable() error { return ev.ioctlAll(unix.PERF_EVENT_IOC_DISABLE, "disable") }

func (ev *Event) ioctlAll(req uint, what string) error {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		return fmt.Errorf("%s tracepoint %s:%s: %w", what, ev.format.Group, ev.format.Name, os.ErrClosed)
	}
	for i, fd := range ev.res.fds {
		if err := unix.IoctlSetInt(fd, req, 0); err != nil {
			return fmt.Errorf("%s tracepoint %s:%s on cpu %d: %w", what, ev.format.Group, ev.format.Name, ev.cpus[i], err)
		}
	}
	return nil
}

// NewReader returns one reader over the rings of every CPU (an epoll loop).
// Close closes it with the event.
func (ev *Event) NewReader() (*perfring.Reader, error) {
	return ev.NewReaderWithOptions(nil)
}

// NewReaderWithOptions is NewReader with reader options.
func (ev *Event) NewReaderWithOptions(opts *perfring.ReaderOptions) (*perfring.Reader, error) {
	return ev.newReader(opts, ev.res.rings...)
}

// NewCPUReaders returns one reader per CPU, in the order of CPUs, for callers
// that run a goroutine per CPU. Close closes them with the event.
func (ev *Event) NewCPUReaders() ([]*perfring.Reader, error) {
	return ev.NewCPUReadersWithOptions(nil)
}

// NewCPUReadersWithOptions is NewCPUReaders with reader options.
func (ev *Event) NewCPUReadersWithOptions(opts *perfring.ReaderOptions) ([]*perfring.Reader, error) {
	readers := make([]*perfring.Reader, 0, len(ev.res.rings))
	for _, ring := range ev.res.rings {
		rd, err := ev.newReader(opts, ring)
		if err != nil {
			for _, r := range readers {
				r.Close()
			}
			return nil, err
		}
		readers = append(readers, rd)
	}
	return readers, nil
}

func (ev *Event) newReader(opts *perfring.ReaderOptions, rings ...*perfring.Ring) (*perfring.Reader, error) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		return nil, fmt.Errorf("new reader for %s:%s: %w", ev.format.Group, ev.format.Name, os.ErrClosed)
	}
	rd, err := perfring.NewReaderWithOptions(opts, rings...)
	if err != nil {
		return nil, fmt.Errorf("new reader for %s:%s: %w", ev.format.Group, ev.format.Name, err)
	}
	ev.res.readers = append(ev.res.readers, rd)
	return rd, nil
}

// Lost returns the number of records the kernel could not write because a
// ring was full, summed over CPUs.
func (ev *Event) Lost() uint64 {
	var n uint64
	for _, r := range ev.res.rings {
		n += r.Lost()
	}
	return n
}

// Close closes the readers, then unmaps the rings and closes every perf event.
// It is safe to call more than once and after a partial Open.
func (ev *Event) Close() error {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		return nil
	}
	ev.closed = true
	ev.cleanup.Stop()
	return ev.res.close()
}

// resources is what an Event releases, in order: readers first (they may be
// blocked in a ring), then the mappings, then the perf events.
type resources struct {
	readers []*perfring.Reader
	rings   []*perfring.Ring
	fds     []int
}

func (r *resources) close() error {
	var errs []error
	for _, rd := range r.readers {
		errs = append(errs, rd.Close())
	}
	for _, ring := range r.rings {
		errs = append(errs, ring.Close())
	}
	for _, fd := range r.fds {
		errs = append(errs, unix.Close(fd))
	}
	*r = resources{}
	return errors.Join(errs...)
}

// fieldNames lists a format's own fields for error messages.
func fieldNames(f *Format) string {
	var names []string
	for _, fld := range f.Fields {
		if !fld.Common {
			names = append(names, fld.Name)
		}
	}
	return strings.Join(names, ", ")
}
