package flowdissect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/samples"
)

// ObjectName and ProgramName name the committed object and its program.
const (
	ObjectName  = "flowdissect.bpf.o"
	ProgramName = "flowdissect"
)

// ErrFrameTooLong is returned by Kernel.Run for a frame longer than a page:
// BPF_PROG_TEST_RUN copies the frame into one page-sized buffer with neither
// headroom nor tailroom (bpf_test_init in net/bpf/test_run.c) and refuses a
// longer one with EINVAL. Dissect has no such limit.
var ErrFrameTooLong = errors.New("frame longer than a page, which BPF_PROG_TEST_RUN refuses")

// MaxKernelFrame returns the longest frame Kernel.Run accepts: a page.
func MaxKernelFrame() int { return os.Getpagesize() }

// Kernel is samples/bpf/flowdissect.bpf.o loaded into the kernel, run with
// BPF_PROG_TEST_RUN.
type Kernel struct {
	prog *ebpf.Program
}

// LoadKernel loads the committed object's program into the kernel. Without
// the privilege (CAP_BPF and CAP_NET_ADMIN, or root) the error matches
// os.ErrPermission.
func LoadKernel() (*Kernel, error) {
	obj, err := samples.Object(ObjectName)
	if err != nil {
		return nil, err
	}
	spec, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(obj))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ObjectName, err)
	}
	ps, ok := spec.Programs[ProgramName]
	if !ok {
		return nil, fmt.Errorf("read %s: no program %s", ObjectName, ProgramName)
	}
	prog, err := ebpf.NewProgram(ps)
	if errors.Is(err, unix.EPERM) || errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("load %s from %s: %w (run as root, or grant CAP_BPF and CAP_NET_ADMIN)", ProgramName, ObjectName, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s from %s: %w", ProgramName, ObjectName, err)
	}
	return &Kernel{prog: prog}, nil
}

// Close unloads the program.
func (kp *Kernel) Close() error { return kp.prog.Close() }

// Program returns the loaded program, for callers that attach it or inspect
// what the kernel's verifier and JIT made of it.
func (kp *Kernel) Program() *ebpf.Program { return kp.prog }

// Run runs the program repeat times (at least once) on frame with
// BPF_PROG_TEST_RUN and decodes the keys of the last run into k. It returns
// the program's verdict and the kernel's own measure of one run: the time
// of all runs over repeat, taken with ktime_get_ns around the loop in
// bpf_test_run's timer (so without the syscall, but with bpf_flow_dissect's
// memset and clamping, as Dissect does them). A frame shorter than 14 bytes
// gives ErrShortFrame, one longer than MaxKernelFrame ErrFrameTooLong; both
// wrap the kernel's EINVAL.
func (kp *Kernel) Run(frame []byte, k *Keys, repeat uint32) (Verdict, time.Duration, error) {
	var out [KeysSize]byte
	attr := progRunAttr{
		progFD:      uint32(kp.prog.FD()),
		dataSizeIn:  uint32(len(frame)),
		dataSizeOut: KeysSize,
		dataOut:     pointer(&out[0]),
		repeat:      repeat,
	}
	if len(frame) > 0 {
		attr.dataIn = pointer(&frame[0])
	}
	err := progRun(&attr)
	runtime.KeepAlive(frame)
	switch {
	case errors.Is(err, unix.EINVAL) && len(frame) < EthHlen:
		return Drop, 0, fmt.Errorf("%w: %w", ErrShortFrame, err)
	case errors.Is(err, unix.EINVAL) && len(frame) > MaxKernelFrame():
		return Drop, 0, fmt.Errorf("%w: %d bytes: %w", ErrFrameTooLong, len(frame), err)
	case err != nil:
		return Drop, 0, fmt.Errorf("BPF_PROG_TEST_RUN %s: %w", ProgramName, err)
	}
	if attr.dataSizeOut != KeysSize {
		return Drop, 0, fmt.Errorf("BPF_PROG_TEST_RUN %s: %d bytes of keys, want %d", ProgramName, attr.dataSizeOut, KeysSize)
	}
	k.Decode(&out)
	return Verdict(attr.retval), time.Duration(attr.duration), nil
}
