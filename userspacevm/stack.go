package userspacevm

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// FrameSize is the stack of one frame (MAX_BPF_STACK).
	FrameSize = 512
	// MaxFrames is the deepest chain of frames, the main program's
	// included (the kernel's MAX_CALL_FRAMES).
	MaxFrames = 8
	// StackSize is a runner's whole stack.
	StackSize = FrameSize * MaxFrames
)

// stack is a runner's stack: off the Go heap, at a fixed address, so that
// the addresses programs compute from R10 stay valid and machine code can
// use them. Frame 0 (the main program) is at the top; each call's frame
// is FrameSize below its caller's.
type stack struct {
	mem     []byte
	cleanup runtime.Cleanup
}

func newStack() (*stack, error) {
	mem, err := unix.Mmap(-1, 0, StackSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mmap a %d-byte stack: %w", StackSize, err)
	}
	s := &stack{mem: mem}
	// A net under Close: a runner dropped without Close still unmaps.
	s.cleanup = runtime.AddCleanup(s, func(m []byte) { _ = unix.Munmap(m) }, mem)
	return s, nil
}

// top is R10 of the main program's frame: one past the stack's last byte.
func (s *stack) top() uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(s.mem)))) + StackSize
}

func (s *stack) region() Region {
	return NewRegion(RegionStack, "", s.mem, true)
}

func (s *stack) close() error {
	if s.mem == nil {
		return nil
	}
	s.cleanup.Stop()
	err := unix.Munmap(s.mem)
	s.mem = nil
	return err
}
