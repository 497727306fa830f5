package maps

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/program"
)

// Options tune New. The zero value (or nil) is what a monitor wants.
type Options struct {
	// NumCPUs is how many values a per-CPU map keeps per entry: one per CPU
	// a program may run on. 0 means the possible CPUs of this machine
	// (PossibleCPUs). It also sizes a perf event array declared with
	// max_entries 0.
	NumCPUs int
	// EventBuffer is the capacity of a perf event array's Events channel.
	// 0 means 1024.
	EventBuffer int
}

// maxCPUs bounds Options.NumCPUs like the kernel's NR_CPUS limit.
const maxCPUs = 8192

const defaultEventBuffer = 1024

// Map flags (BPF_F_* of union bpf_attr's map_flags) the engines accept.
const (
	flagNoPrealloc = 1 << 0  // BPF_F_NO_PREALLOC: slots are preallocated anyway; no visible difference
	flagZeroSeed   = 1 << 6  // BPF_F_ZERO_SEED: Hash has no random seed anyway
	flagRdonlyProg = 1 << 7  // BPF_F_RDONLY_PROG: .rodata; see Map.ProgramReadOnly
	flagMmapable   = 1 << 10 // BPF_F_MMAPABLE: every block is mmap'd anyway
)

// Kernel limits a spec is checked against.
const (
	kmallocMaxSize   = 4 << 20 // KMALLOC_MAX_SIZE on x86-64: the largest key+value of a hash map
	pcpuMinUnitSize  = 32 << 10
	perfMaxStack     = 127 // sysctl kernel.perf_event_max_stack's default
	stackFrameSize   = 8
	perfEventValSize = 4
)

// validate checks a spec as the kernel's map_alloc_check functions do.
func validate(s *program.MapSpec, ops *mapOps) error {
	if ops == nil {
		return fmt.Errorf("map type %v (%d) is %w by the user-space engines", s.Type, uint32(s.Type), ErrNotSupported)
	}
	if s.InnerMap != nil {
		return fmt.Errorf("%w: inner map given for %v, which is not a map of maps", ErrInvalidSpec, s.Type)
	}
	if bad := s.Flags &^ ops.flags; bad != 0 {
		return fmt.Errorf("%w: flags %#x are not supported for %v", ErrInvalidSpec, bad, s.Type)
	}
	if s.MaxEntries == 0 {
		return fmt.Errorf("%w: max_entries is 0", ErrInvalidSpec)
	}
	if err := ops.check(s); err != nil {
		return err
	}
	if ops.perCPU && roundUp(uint64(s.ValueSize), 8) > pcpuMinUnitSize {
		return fmt.Errorf("%w: per-CPU value size %d is larger than %d", ErrInvalidSpec, s.ValueSize, pcpuMinUnitSize)
	}
	return nil
}

func checkPerf(s *program.MapSpec) error {
	if s.KeySize != 4 || s.ValueSize != perfEventValSize {
		return fmt.Errorf("%w: perf event array key and value sizes are %d and %d, must be 4 and 4", ErrInvalidSpec, s.KeySize, s.ValueSize)
	}
	return nil
}

func checkArray(s *program.MapSpec) error {
	if s.KeySize != 4 {
		return fmt.Errorf("%w: array key size is %d, must be 4", ErrInvalidSpec, s.KeySize)
	}
	if s.ValueSize == 0 {
		return fmt.Errorf("%w: value size is 0", ErrInvalidSpec)
	}
	if s.ValueSize > kmallocMaxSize {
		return fmt.Errorf("%w: value size %d is larger than %d", ErrInvalidSpec, s.ValueSize, kmallocMaxSize)
	}
	return nil
}

func checkHash(s *program.MapSpec) error {
	if s.KeySize == 0 || s.ValueSize == 0 {
		return fmt.Errorf("%w: key size %d and value size %d must not be 0", ErrInvalidSpec, s.KeySize, s.ValueSize)
	}
	if uint64(s.KeySize)+uint64(s.ValueSize) >= kmallocMaxSize-SlotOffKey {
		return fmt.Errorf("%w: key size %d plus value size %d is too large", ErrInvalidSpec, s.KeySize, s.ValueSize)
	}
	return nil
}

func checkStack(s *program.MapSpec) error {
	if s.KeySize != 4 {
		return fmt.Errorf("%w: stack trace key size is %d, must be 4", ErrInvalidSpec, s.KeySize)
	}
	if s.ValueSize < stackFrameSize || s.ValueSize%stackFrameSize != 0 {
		return fmt.Errorf("%w: stack trace value size %d is not a positive multiple of 8", ErrInvalidSpec, s.ValueSize)
	}
	if s.ValueSize/stackFrameSize > perfMaxStack {
		return fmt.Errorf("%w: stack trace value size %d holds more than %d frames", ErrInvalidSpec, s.ValueSize, perfMaxStack)
	}
	return nil
}

// numCPUs resolves Options.NumCPUs.
func (o *Options) numCPUs() (int, error) {
	if o != nil && o.NumCPUs != 0 {
		if o.NumCPUs < 0 || o.NumCPUs > maxCPUs {
			return 0, fmt.Errorf("options: %d CPUs is outside [1, %d]: %w", o.NumCPUs, maxCPUs, unix.EINVAL)
		}
		return o.NumCPUs, nil
	}
	return PossibleCPUs()
}

func (o *Options) eventBuffer() int {
	if o != nil && o.EventBuffer > 0 {
		return o.EventBuffer
	}
	return defaultEventBuffer
}

const possibleCPUsFile = "/sys/devices/system/cpu/possible"

// PossibleCPUs is the number of CPUs the kernel may ever bring online: the
// highest number in /sys/devices/system/cpu/possible, plus one. Per-CPU maps
// keep one value for each.
func PossibleCPUs() (int, error) { return possibleCPUs() }

var possibleCPUs = sync.OnceValues(func() (int, error) {
	b, err := os.ReadFile(possibleCPUsFile)
	if err != nil {
		return 0, fmt.Errorf("possible CPUs: %w", err)
	}
	n, err := parseCPUList(string(b))
	if err != nil {
		return 0, fmt.Errorf("possible CPUs: %s: %w", possibleCPUsFile, err)
	}
	return n, nil
})

// parseCPUList parses a kernel CPU list ("0-3,8,10-11") and returns the
// highest CPU plus one.
func parseCPUList(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty CPU list")
	}
	highest := -1
	for part := range strings.SplitSeq(s, ",") {
		last := part
		if i := strings.IndexByte(part, '-'); i >= 0 {
			last = part[i+1:]
			if _, err := strconv.ParseUint(part[:i], 10, 16); err != nil {
				return 0, fmt.Errorf("bad CPU list %q", s)
			}
		}
		n, err := strconv.ParseUint(last, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("bad CPU list %q", s)
		}
		highest = max(highest, int(n))
	}
	if highest+1 > maxCPUs {
		return 0, fmt.Errorf("%d CPUs, more than %d", highest+1, maxCPUs)
	}
	return highest + 1, nil
}
