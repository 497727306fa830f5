package flowdissect

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/dropmon/dropmon/internal/testutil"
)

// loadKernel loads the program, skipping the test without the privilege to
// (or failing it with DROPMON_REQUIRE_PRIVILEGED=1).
func loadKernel(tb testing.TB) *Kernel {
	tb.Helper()
	kp, err := LoadKernel()
	testutil.Privileged(tb, err)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { kp.Close() })
	return kp
}

// TestKernelEqualsNative runs every corpus frame through the kernel's test
// run and through Dissect: same verdict, same 56 bytes of keys. Frames the
// test run refuses (under 14 bytes, over a page) must be refused with the
// documented errors.
func TestKernelEqualsNative(t *testing.T) {
	kp := loadKernel(t)
	for _, p := range Corpus() {
		t.Run(p.Name, func(t *testing.T) {
			var native, kernel Keys
			nv, nerr := Dissect(p.Frame, &native)
			kv, _, kerr := kp.Run(p.Frame, &kernel, 1)
			switch {
			case len(p.Frame) < EthHlen:
				if !errors.Is(nerr, ErrShortFrame) || !errors.Is(kerr, ErrShortFrame) {
					t.Fatalf("%d-byte frame: native error %v, kernel error %v, want ErrShortFrame from both", len(p.Frame), nerr, kerr)
				}
				return
			case len(p.Frame) > MaxKernelFrame():
				if !errors.Is(kerr, ErrFrameTooLong) {
					t.Fatalf("%d-byte frame: kernel error %v, want ErrFrameTooLong", len(p.Frame), kerr)
				}
				if nerr != nil || nv != p.Want {
					t.Fatalf("native: %v %v, want %v", nv, nerr, p.Want)
				}
				return
			}
			if nerr != nil || kerr != nil {
				t.Fatalf("native error %v, kernel error %v", nerr, kerr)
			}
			var nb, kb [KeysSize]byte
			native.Encode(&nb)
			kernel.Encode(&kb)
			if nv != kv || nb != kb {
				t.Errorf("native %v %s\nkernel %v %s\nnative % x\nkernel % x", nv, &native, kv, &kernel, nb, kb)
			}
			if kv != p.Want {
				t.Errorf("verdict %v, want %v (%s)", kv, p.Want, &kernel)
			}
		})
	}
}

// TestKernelRepeat checks that a run of many repeats gives the keys of one
// and a positive duration per run.
func TestKernelRepeat(t *testing.T) {
	kp := loadKernel(t)
	frame := Corpus()[0].Frame
	var once, many Keys
	if _, _, err := kp.Run(frame, &once, 1); err != nil {
		t.Fatal(err)
	}
	v, d, err := kp.Run(frame, &many, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if v != OK || once != many {
		t.Errorf("1000 runs: %v %s, one run: %s", v, &many, &once)
	}
	if d <= 0 || d > 1e6 {
		t.Errorf("duration per run %v, want between 0 and 1ms", d)
	}
}

// TestProgRunAttrLayout checks progRunAttr against the test member of
// union bpf_attr.
func TestProgRunAttrLayout(t *testing.T) {
	var a progRunAttr
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"data_in", unsafe.Offsetof(a.dataIn), 16},
		{"data_out", unsafe.Offsetof(a.dataOut), 24},
		{"repeat", unsafe.Offsetof(a.repeat), 32},
		{"duration", unsafe.Offsetof(a.duration), 36},
		{"ctx_in", unsafe.Offsetof(a.ctxIn), 48},
		{"ctx_out", unsafe.Offsetof(a.ctxOut), 56},
		{"batch_size", unsafe.Offsetof(a.batchSize), 72},
		{"size", unsafe.Sizeof(a), 80},
	} {
		if tc.got != tc.want {
			t.Errorf("%s at %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
