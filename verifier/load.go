package verifier

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// What bpf_prog_load and map_create refuse before the verifier runs,
// with the errno the syscall returns in place of a log.

// maxInsnsUnpriv is BPF_MAXINSNS: the longest program a loader without
// CAP_BPF may load; with CAP_BPF the limit is BPF_COMPLEXITY_LIMIT_INSNS.
const maxInsnsUnpriv = 4096

// checkProgramSize refuses an empty program and one longer than the
// loader may load (bpf_prog_load: E2BIG), counting 64-bit loads as two
// instructions, as the kernel does.
func (e *env) checkProgramSize() error {
	n := int(e.prog.Insns.Size() / asm.InstructionSize)
	limit := complexityLimitInsns
	if !e.bpfCapable() {
		limit = maxInsnsUnpriv
	}
	if n == 0 || n > limit {
		return e.reject(-1, "program of %d insns: the limit is %d (bpf_prog_load: E2BIG, argument list too long)", n, limit)
	}
	return nil
}

// mapNeedsCapBPF lists the map types map_create lets only a loader with
// CAP_BPF create (EPERM); the others it refuses without CAP_NET_ADMIN,
// but for the arrays, hashes and the ring buffer, which anyone may
// create.
func mapNeedsCapBPF(t program.MapType) bool {
	switch t {
	case ebpf.Array, ebpf.PerCPUArray, ebpf.ProgramArray, ebpf.PerfEventArray, ebpf.CGroupArray,
		ebpf.ArrayOfMaps, ebpf.Hash, ebpf.PerCPUHash, ebpf.HashOfMaps, ebpf.RingBuf:
		return false
	}
	return true
}

// checkMapPrivilege refuses a map the loader may not create. Only
// unprivileged loaders are checked: WithoutPerfmon keeps CAP_BPF, and
// dropmon assumes such a loader has CAP_NET_ADMIN too, as a loader of
// network programs needs it.
func (e *env) checkMapPrivilege(m *program.MapSpec) string {
	if e.bpfCapable() || !mapNeedsCapBPF(m.Type) {
		return ""
	}
	name := mapTypeNames[m.Type]
	return "map \"" + m.Name + "\": " + name + " needs CAP_BPF (map_create: EPERM, operation not permitted)"
}
