package maps

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Commands of membarrier(2), from include/uapi/linux/membarrier.h.
const (
	membarrierCmdQuery                    = 0
	membarrierCmdPrivateExpedited         = 1 << 3
	membarrierCmdRegisterPrivateExpedited = 1 << 4
)

// fences says whether the maps' writers fence every thread of the process
// (membarrier) before they read guards, so that engines may enter guards
// without a barrier of their own (AsymmetricFences).
var fences struct {
	once       sync.Once
	registered bool        // membarrier registration succeeded (set once)
	on         atomic.Bool // writers fence; only tests turn it off again
}

// AsymmetricFences reports whether machine code may enter a Guard with a
// plain increment of the word at Guard.Addr, with no memory barrier: the
// maps' writers then make every thread of the process execute one
// (membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED) between unlinking
// slots and reading guards, which orders a run's entry before its bucket
// loads as the barrier would have. The first call registers the process
// for membarrier; it reports false, and engines keep their barrier, where
// the kernel lacks membarrier (before 4.14) or a seccomp filter refuses it.
//
// The writers' cost is one membarrier per batch of deleted or evicted
// slots (a quarter of a map's spare slots), a few microseconds; the
// readers save a locked instruction per run.
func AsymmetricFences() bool {
	fences.once.Do(func() {
		cmds, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdQuery, 0, 0)
		if errno != 0 || cmds&membarrierCmdPrivateExpedited == 0 {
			return
		}
		if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdRegisterPrivateExpedited, 0, 0); errno != 0 {
			return
		}
		fences.registered = true
	})
	if fences.registered {
		fences.on.Store(true)
	}
	return fences.registered
}

// fenceReaders makes every running thread of the process execute a full
// memory barrier: every guard entry made before it is visible after it.
// The process registered in AsymmetricFences, so the call cannot fail but
// for a kernel bug; nothing safe is left to do then.
func fenceReaders() {
	if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdPrivateExpedited, 0, 0); errno != 0 {
		panic(fmt.Sprintf("BUG: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after registration: %v", errno))
	}
}
