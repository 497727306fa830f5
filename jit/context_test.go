//go:build amd64 && linux

package jit

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/dropmon/dropmon/userspacevm"
)

// TestContextOffsets checks the contract between Go and machine code: each
// offset constant the emitters use equals unsafe.Offsetof, and the
// trampoline's #defines equal the constants.
func TestContextOffsets(t *testing.T) {
	var x jitContext
	var f callFrame
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"offSavedBP", offSavedBP, unsafe.Offsetof(x.savedBP)},
		{"offResume", offResume, unsafe.Offsetof(x.resume)},
		{"offHelper", offHelper, unsafe.Offsetof(x.helper)},
		{"offPC", offPC, unsafe.Offsetof(x.pc)},
		{"offDepth", offDepth, unsafe.Offsetof(x.depth)},
		{"offPktData", offPktData, unsafe.Offsetof(x.pktData)},
		{"offPktLen", offPktLen, unsafe.Offsetof(x.pktLen)},
		{"offCPU", offCPU, unsafe.Offsetof(x.cpu)},
		{"offTop", offTop, unsafe.Offsetof(x.top)},
		{"offGuard", offGuard, unsafe.Offsetof(x.guard)},
		{"offRegs", offRegs, unsafe.Offsetof(x.regs)},
		{"offFrames", offFrames, unsafe.Offsetof(x.frames)},
		{"offFrameRet", offFrameRet, unsafe.Offsetof(f.ret)},
		{"offFrameSaved", offFrameSaved, unsafe.Offsetof(f.saved)},
		{"frameBytes", uintptr(frameBytes), unsafe.Sizeof(f)},
		{"offBatchItem", uintptr(offBatchItem), unsafe.Offsetof(x.batchItem)},
		{"offBatchEnd", uintptr(offBatchEnd), unsafe.Offsetof(x.batchEnd)},
		{"offFlowKeys", uintptr(offFlowKeys), unsafe.Offsetof(x.flowKeys)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, unsafe.Offsetof says %d", tt.name, tt.got, tt.want)
		}
	}

	src, err := os.ReadFile("trampoline_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	defines := map[string]uintptr{"ctx_savedBP": offSavedBP}
	for _, m := range regexp.MustCompile(`(?m)^#define (ctx_\w+) (\d+)$`).FindAllStringSubmatch(string(src), -1) {
		want, ok := defines[m[1]]
		if !ok {
			t.Errorf("trampoline defines %s, which the test does not know", m[1])
			continue
		}
		delete(defines, m[1])
		if got, _ := strconv.Atoi(m[2]); uintptr(got) != want {
			t.Errorf("trampoline: #define %s %s, the Go constant is %d", m[1], m[2], want)
		}
	}
	for name := range defines {
		t.Errorf("trampoline does not define %s", name)
	}
}

// TestBatchItemLayout checks the offsets the batch stub reads
// userspacevm.BatchItem at.
func TestBatchItemLayout(t *testing.T) {
	var it userspacevm.BatchItem
	sliceLen := unsafe.Sizeof(uintptr(0)) // a slice is pointer, length, capacity
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"itemCtx", itemCtx, unsafe.Offsetof(it.Ctx)},
		{"itemCtxLen", itemCtxLen, unsafe.Offsetof(it.Ctx) + sliceLen},
		{"itemPkt", itemPkt, unsafe.Offsetof(it.Packet)},
		{"itemPktLen", itemPktLen, unsafe.Offsetof(it.Packet) + sliceLen},
		{"itemR0", itemR0, unsafe.Offsetof(it.R0)},
		{"itemSize", itemSize, unsafe.Sizeof(it)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %d, want %d", tt.name, tt.got, tt.want)
		}
	}
}

// TestTrampolineFrame checks where the code writes callJIT's results:
// after the return address and the arguments of callJIT's Go declaration,
// as ABI0 lays them out (each in its own 8-byte slot), and that the
// trampoline declares the frame the code assumes (no frame of its own,
// 48 bytes of arguments and results).
func TestTrampolineFrame(t *testing.T) {
	typ := reflect.TypeOf(callJIT)
	var args uintptr
	for i := range typ.NumIn() {
		if typ.In(i).Size() != 8 {
			t.Fatalf("argument %d of callJIT has %d bytes: the offsets assume 8", i, typ.In(i).Size())
		}
		args += 8
	}
	if typ.NumOut() != 2 || typ.Out(0).Size() != 8 || typ.Out(1).Size() != 8 {
		t.Fatalf("callJIT returns %v: the offsets assume (uint64, exitCode)", typ)
	}
	if retR0 != 8+args || retExit != 8+args+8 {
		t.Errorf("retR0 = %d, retExit = %d; callJIT's results are at %d and %d", retR0, retExit, 8+args, 8+args+8)
	}
	src, err := os.ReadFile("trampoline_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	frame := fmt.Sprintf("TEXT ·callJIT(SB), NOSPLIT|NOFRAME, $0-%d\n", args+16)
	if !strings.Contains(string(src), frame) {
		t.Errorf("trampoline does not declare %q", strings.TrimSpace(frame))
	}
}

func TestExitCodeString(t *testing.T) {
	for c, want := range map[exitCode]string{exitDone: "done", exitHelper: "helper", exitCallDepth: "call depth"} {
		if got := c.String(); got != want {
			t.Errorf("exitCode(%d) = %q, want %q", c, got, want)
		}
	}
}
