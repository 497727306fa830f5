package userspacevm

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// testCall builds a Call whose memory is one writable region over mem.
func testCall(mem []byte, trace *bytes.Buffer) *Call {
	rc := &RunContext{CPU: 1, Pid: 100, Tid: 101}
	if trace != nil {
		rc.Trace = trace
	}
	return &Call{RunContext: rc, Mem: &Memory{Regions: []Region{NewRegion(RegionStack, "", mem, true)}}}
}

func addrOf(b []byte, off int) uint64 {
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) + uint64(off)
}

func TestTracePrintk(t *testing.T) {
	tests := []struct {
		name   string
		format string
		args   [3]uint64
		want   string
		errno  unix.Errno
	}{
		{name: "plain", format: "hello\n", want: "hello\n"},
		{name: "int", format: "x=%d", args: [3]uint64{0xffffffff}, want: "x=-1"},
		{name: "long int", format: "x=%ld", args: [3]uint64{0xffffffff}, want: "x=4294967295"},
		{name: "long long neg", format: "%lld", args: [3]uint64{^uint64(0)}, want: "-1"},
		{name: "unsigned 32", format: "%u", args: [3]uint64{1<<32 + 5}, want: "5"},
		{name: "llu", format: "%llu", args: [3]uint64{1<<32 + 5}, want: "4294967301"},
		{name: "hex", format: "%x %lX", args: [3]uint64{0x1_0000_00ab, 0xabc}, want: "ab ABC"},
		{name: "width and zero", format: "[%08x][%-4d]", args: [3]uint64{0xbeef, 7}, want: "[0000beef][7   ]"},
		{name: "three args", format: "%d %d %d", args: [3]uint64{1, 2, 3}, want: "1 2 3"},
		{name: "percent", format: "100%%", want: "100%"},
		{name: "char", format: "%c", args: [3]uint64{'A'}, want: "A"},
		{name: "pointer", format: "%p", args: [3]uint64{0xffff1234}, want: "0xffff1234"},
		{name: "four args", format: "%d %d %d %d", errno: unix.EINVAL},
		{name: "float refused", format: "%f", errno: unix.EINVAL},
		{name: "n refused", format: "%n", errno: unix.EINVAL},
		{name: "dangling percent", format: "abc%", errno: unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := make([]byte, 256)
			copy(mem, tt.format+"\x00")
			var out bytes.Buffer
			c := testCall(mem, &out)
			r0 := helperTracePrintk(c, addrOf(mem, 0), uint64(len(tt.format)+1), tt.args[0], tt.args[1], tt.args[2])
			if c.Err != nil {
				t.Fatalf("helper failed the run: %v", c.Err)
			}
			if tt.errno != 0 {
				if r0 != errno(tt.errno) {
					t.Fatalf("r0 = %d, want -%d", int64(r0), tt.errno)
				}
				return
			}
			if out.String() != tt.want || r0 != uint64(len(tt.want)) {
				t.Fatalf("wrote %q (r0 %d), want %q", out.String(), r0, tt.want)
			}
		})
	}
}

func TestTracePrintkString(t *testing.T) {
	mem := make([]byte, 64)
	copy(mem, "name=%s\x00")
	copy(mem[32:], "eth0\x00")
	var out bytes.Buffer
	c := testCall(mem, &out)
	helperTracePrintk(c, addrOf(mem, 0), 9, addrOf(mem, 32), 0, 0)
	if out.String() != "name=eth0" {
		t.Fatalf("wrote %q", out.String())
	}
	out.Reset()
	helperTracePrintk(c, addrOf(mem, 0), 9, 0x10, 0, 0)
	if out.String() != "name=(efault)" {
		t.Fatalf("bad pointer: wrote %q", out.String())
	}
}

func TestTracePrintkBadFormatPointer(t *testing.T) {
	mem := make([]byte, 16)
	c := testCall(mem, nil)
	helperTracePrintk(c, addrOf(mem, 8), 16, 0, 0, 0) // runs past the region
	if c.Err == nil || !strings.Contains(c.Err.Error(), "bpf_trace_printk: invalid read of 16 bytes") {
		t.Fatalf("err = %v", c.Err)
	}
	c = testCall(mem, nil)
	copy(mem, "no terminator!!!")
	if r0 := helperTracePrintk(c, addrOf(mem, 0), 16, 0, 0, 0); r0 != errno(unix.EINVAL) {
		t.Fatalf("unterminated format: r0 = %d", int64(r0))
	}
}

func TestSimpleHelpers(t *testing.T) {
	c := testCall(make([]byte, 8), nil)
	if got := helperGetCurrentPidTgid(c, 0, 0, 0, 0, 0); got != 100<<32|101 {
		t.Errorf("pid_tgid = %#x", got)
	}
	if got := helperGetSmpProcessorID(c, 0, 0, 0, 0, 0); got != 1 {
		t.Errorf("cpu = %d", got)
	}
	c.Time, c.TimeIsMonotonic = 12345, true
	if got := helperKtimeGetNs(c, 0, 0, 0, 0, 0); got != 12345 {
		t.Errorf("ktime with a monotonic sample time = %d", got)
	}
	c.TimeIsMonotonic = false
	if a, b := helperKtimeGetNs(c, 0, 0, 0, 0, 0), helperKtimeGetNs(c, 0, 0, 0, 0, 0); a == 0 || b < a {
		t.Errorf("ktime not monotonic: %d then %d", a, b)
	}
	seen := map[uint64]bool{}
	for range 16 {
		v := helperGetPrandomU32(c, 0, 0, 0, 0, 0)
		if v > 0xffffffff {
			t.Fatalf("prandom %#x exceeds 32 bits", v)
		}
		seen[v] = true
	}
	if len(seen) < 2 {
		t.Errorf("prandom returned one value 16 times")
	}
}

func TestMemoryAccessError(t *testing.T) {
	ctx := make([]byte, 32)
	m := &Memory{Regions: []Region{NewRegion(RegionContext, "", ctx, false)}}
	if m.Pointer(addrOf(ctx, 24), 8, false) == nil {
		t.Fatal("read inside ctx refused")
	}
	if m.Pointer(addrOf(ctx, 0), 8, true) != nil {
		t.Fatal("write to read-only ctx allowed")
	}
	if m.Pointer(addrOf(ctx, 28), 8, false) != nil {
		t.Fatal("read past the end allowed")
	}
	if m.Pointer(^uint64(0)-2, 8, false) != nil {
		t.Fatal("wrapping address allowed")
	}
	err := m.Check(3, "", addrOf(ctx, 30), 4, false)
	if err == nil || !strings.Contains(err.Error(), "insn 3: invalid read of 4 bytes") || !strings.Contains(err.Error(), "ctx [") {
		t.Fatalf("err = %v", err)
	}
}
