package verifier

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/program"
)

// TestKernelVerdicts loads every case of the table into the running kernel
// and checks that Linux gives the verdict the table says, and that its log
// holds the case's message. It needs privileges (CAP_BPF and CAP_PERFMON or
// root) and skips without them, unless DROPMON_REQUIRE_PRIVILEGED=1.
//
// Unprivileged cases cannot be loaded unprivileged where
// kernel.unprivileged_bpf_disabled is set; those the table accepts are
// loaded privileged (a privileged load accepts whatever an unprivileged one
// does), the rejections are skipped.
func TestKernelVerdicts(t *testing.T) {
	_ = rlimit.RemoveMemlock() // kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK
	probe, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: ret0, License: "GPL"})
	testutil.Privileged(t, err)
	if errors.Is(err, ebpf.ErrNotSupported) {
		t.Skipf("no BPF on this system: %v", err)
	}
	if err != nil {
		t.Fatalf("load of a trivial program: %v", err)
	}
	probe.Close()

	counts := map[verdict]int{}
	for _, c := range verifierCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.kernelWant()
			if c.unprivileged && want == reject {
				t.Skip("unprivileged case: kernel.unprivileged_bpf_disabled forbids loading it unprivileged, " +
					"and a privileged load would accept it")
			}
			got, log, err := loadIntoKernel(&c)
			if err != nil {
				t.Fatal(err)
			}
			counts[got]++
			if got != want {
				t.Fatalf("kernel: %s, table: %s (%s); log:\n%s", got, want, c.msg, log)
			}
			if got == reject && log != "" && !strings.Contains(log, c.msg) {
				t.Errorf("kernel log does not contain %q:\n%s", c.msg, log)
			}
		})
	}
	t.Logf("kernel: %d accepted, %d rejected", counts[accept], counts[reject])
}

// loadIntoKernel creates the case's maps, points its map loads at them and
// loads the program. err is for failures that are not the verifier's
// verdict (a map the kernel cannot create, a program cilium cannot encode).
func loadIntoKernel(c *verifierCase) (got verdict, log string, err error) {
	var maps []*ebpf.Map
	defer func() {
		for _, m := range maps {
			m.Close()
		}
	}()
	for i, ms := range c.maps {
		m, err := ebpf.NewMap(kernelMapSpec(ms))
		if err != nil {
			return reject, "", fmt.Errorf("create map %d (%v): %w", i, ms.Type, err)
		}
		maps = append(maps, m)
	}
	insns := make(asm.Instructions, len(c.insns))
	copy(insns, c.insns)
	for i := range insns {
		if atomic := insns[i].OpCode.AtomicOp(); insns[i].OpCode.Class() == asm.StXClass && atomic != asm.InvalidAtomic {
			// cilium/ebpf v0.22's Marshal takes an atomic's immediate from
			// Constant before it derives it from the opcode, so every
			// atomic would load as BPF_ADD; give it the immediate.
			insns[i].Constant = int64(atomic >> 8)
		}
		if !insns[i].IsLoadFromMap() {
			continue
		}
		idx := int(uint32(insns[i].Constant))
		if idx >= len(maps) {
			continue // left to the kernel, which rejects the fd
		}
		if err := insns[i].AssociateMap(maps[idx]); err != nil {
			return reject, "", fmt.Errorf("instruction %d: %w", i, err)
		}
	}
	typ := c.progType
	if typ == program.Unspec {
		typ = program.SocketFilter
	}
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Name:         "dropmon_case",
		Type:         ebpf.ProgramType(typ),
		Instructions: insns,
		License:      "GPL",
	}, ebpf.ProgramOptions{
		// Errors and statistics only: a per-instruction log of a
		// million-instruction run would not fit.
		LogLevel:     ebpf.LogLevelStats,
		LogSizeStart: 1 << 20,
	})
	if err == nil {
		prog.Close()
		return accept, "", nil
	}
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		return reject, strings.Join(verr.Log, "\n"), nil
	}
	if errors.Is(err, unix.EFAULT) {
		// The kernel gives up on too complex a program ("The sequence of
		// 8193 jumps is too complex") with EFAULT, and cilium/ebpf then
		// drops the log; the message cannot be checked.
		return reject, "", nil
	}
	for _, errno := range []error{unix.EINVAL, unix.EACCES, unix.E2BIG} {
		if errors.Is(err, errno) {
			return reject, err.Error(), nil
		}
	}
	return reject, "", fmt.Errorf("load: %w", err)
}

func kernelMapSpec(ms *program.MapSpec) *ebpf.MapSpec {
	spec := &ebpf.MapSpec{
		Type:       ms.Type,
		KeySize:    ms.KeySize,
		ValueSize:  ms.ValueSize,
		MaxEntries: ms.MaxEntries,
		Flags:      ms.Flags,
	}
	if ms.InnerMap != nil {
		spec.InnerMap = kernelMapSpec(ms.InnerMap)
	}
	return spec
}
