//go:build amd64 && linux

package jit

import "unsafe"

// jitContext is all the state of a run that is not in x86 registers. It
// lives on the Go heap, owned by the runner (the Go heap does not move
// objects), and holds no Go pointers, so machine code may write any field.
// Its layout is the contract between Go and the generated code: every
// offset the code uses is a named constant below, checked against
// unsafe.Offsetof by TestContextOffsets (and the trampoline's #defines
// against these constants).
type jitContext struct {
	savedBP uint64 // the trampoline's: Go's RBP
	resume  uint64 // where the resume stub jumps: the instruction after the last helper exit
	helper  uint64 // the helper number of an exitHelper
	pc      uint64 // the eBPF slot of the last exit to Go (for errors)
	depth   uint64 // byte offset of the next free call frame in frames
	pktData uint64 // the run's bytes for LD_ABS/LD_IND
	pktLen  uint64
	cpu     uint64     // the run's CPU (RunContext.CPU), for per-CPU array lookups
	top     uint64     // R10 of a new run: the top of the runner's eBPF stack
	guard   uint64     // address of the runner's maps.Guard sequence word, 0 when none
	regs    [11]uint64 // R0-R10, spilled at helper exits, loaded when Go resumes the code
	frames  [maxFrames]callFrame
	// A batch (Runner.RunBatch): the address of the userspacevm.BatchItem
	// running and the address past the last one; batchEnd is 0 outside
	// batches, so that a run's end returns to Go.
	batchItem uint64
	batchEnd  uint64
	// flowKeys is the address of a flow dissector run's struct
	// bpf_flow_keys, which its end clamps (emitFlowExit).
	flowKeys uint64
}

// callFrame is what a bpf-to-bpf call saves: the native return address and
// the caller's R6-R10.
type callFrame struct {
	ret   uint64
	saved [5]uint64 // R6-R9, R10
}

const (
	maxFrames  = 8
	frameSize  = 512 // eBPF stack bytes per frame (MAX_BPF_STACK)
	stackSize  = frameSize * maxFrames
	frameBytes = int32(unsafe.Sizeof(callFrame{}))

	offSavedBP   = 0
	offResume    = 8
	offHelper    = 16
	offPC        = 24
	offDepth     = 32
	offPktData   = 40
	offPktLen    = 48
	offCPU       = 56
	offTop       = 64
	offGuard     = 72
	offRegs      = 80
	offFrames    = offRegs + 11*8
	offBatchItem = offFrames + maxFrames*frameBytes
	offBatchEnd  = offBatchItem + 8
	offFlowKeys  = offBatchEnd + 8

	// Where the code writes callJIT's results, as offsets from RSP while
	// it runs: callJIT jumps to the code with no frame, so RSP points at
	// the return address into Go, the arguments follow (four words) and
	// then the results.
	retR0   = 8 + 32
	retExit = 8 + 40

	offFrameRet   = 0
	offFrameSaved = 8

	// The layout of userspacevm.BatchItem: the context's pointer and
	// length, the packet's, R0 (checked by TestBatchItemLayout).
	itemCtx    = 0
	itemCtxLen = 8
	itemPkt    = 24
	itemPktLen = 32
	itemR0     = 48
	itemSize   = 56
)

// exitCode says why generated code returned to Go.
type exitCode uint64

const (
	exitDone      exitCode = iota // the program exited; R0 is in RBX
	exitHelper                    // call helper ctx.helper with R1-R5, put R0, resume
	exitCallDepth                 // a bpf-to-bpf call would exceed maxFrames
)

func (c exitCode) String() string {
	switch c {
	case exitDone:
		return "done"
	case exitHelper:
		return "helper"
	case exitCallDepth:
		return "call depth"
	}
	return "exitCode(?)"
}
