//go:build amd64 && linux

package jit

import (
	"os"
	"regexp"
	"strconv"
	"testing"
	"unsafe"
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

func TestExitCodeString(t *testing.T) {
	for c, want := range map[exitCode]string{exitDone: "done", exitHelper: "helper", exitCallDepth: "call depth"} {
		if got := c.String(); got != want {
			t.Errorf("exitCode(%d) = %q, want %q", c, got, want)
		}
	}
}
