package flowdissect

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// bpfProgTestRun is BPF_PROG_TEST_RUN (alias BPF_PROG_RUN) of enum bpf_cmd.
const bpfProgTestRun = 10

// progRunAttr is the test member of union bpf_attr (include/uapi/linux/bpf.h).
// cilium/ebpf's Program.Run drops the kernel's duration and Benchmark the
// output data; the benchmark needs both from one call, so the call is made
// here.
type progRunAttr struct {
	progFD      uint32
	retval      uint32
	dataSizeIn  uint32
	dataSizeOut uint32
	dataIn      pointer
	dataOut     pointer
	repeat      uint32
	duration    uint32
	ctxSizeIn   uint32
	ctxSizeOut  uint32
	ctxIn       pointer
	ctxOut      pointer
	flags       uint32
	cpu         uint32
	batchSize   uint32
	_           uint32
}

// pointer is an __aligned_u64 holding a user address. It is a Go pointer,
// not a uintptr, so that the garbage collector keeps the memory and the
// stack copier updates it; it fills the 8 bytes only on 64-bit hosts, so
// progRun refuses the others (errNot64Bit).
type pointer = unsafe.Pointer

var errNot64Bit = errors.New("BPF_PROG_TEST_RUN is only called on 64-bit hosts")

// progRun calls BPF_PROG_TEST_RUN, again when a signal interrupted it
// (EINTR: the kernel stops the repeat loop when a signal is pending, and the
// Go runtime sends them).
func progRun(attr *progRunAttr) error {
	if unsafe.Sizeof(pointer(nil)) != 8 {
		return errNot64Bit
	}
	for {
		_, _, errno := unix.Syscall(unix.SYS_BPF, bpfProgTestRun, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
		if errno == 0 {
			return nil
		}
		if !errors.Is(errno, unix.EINTR) {
			return errno
		}
	}
}
