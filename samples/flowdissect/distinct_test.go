package flowdissect

import (
	"bytes"
	"testing"
)

// TestDistinct checks that the generated frames are deterministic, all
// dissected, and distinct in their flows.
func TestDistinct(t *testing.T) {
	const n = 5000
	frames, again := Distinct(n), Distinct(n)
	if len(frames) != n {
		t.Fatalf("%d frames, want %d", len(frames), n)
	}
	flows := map[Keys]bool{}
	for i, f := range frames {
		if !bytes.Equal(f, again[i]) {
			t.Fatalf("frame %d differs between calls", i)
		}
		var k Keys
		if v, err := Dissect(f, &k); v != OK || err != nil {
			t.Fatalf("frame %d: %v %v %s", i, v, err, &k)
		}
		flows[k] = true
	}
	if len(flows) != n {
		t.Errorf("%d distinct keys among %d frames", len(flows), n)
	}
	spanning := DistinctSpanning(1 << 20)
	total := 0
	for _, f := range spanning {
		total += len(f)
	}
	if total < 1<<20 || total > 1<<20+maxDistinctFrame {
		t.Errorf("DistinctSpanning(1 MiB): %d bytes", total)
	}
}

// TestDistinctKernel checks a few thousand distinct frames against the
// kernel, as the corpus is.
func TestDistinctKernel(t *testing.T) {
	kp := loadKernel(t)
	for i, f := range Distinct(3000) {
		var native, kernel Keys
		nv, _ := Dissect(f, &native)
		kv, _, err := kp.Run(f, &kernel, 1)
		if err != nil || nv != kv || native != kernel {
			t.Fatalf("frame %d: native %v %s, kernel %v %s %v", i, nv, &native, kv, &kernel, err)
		}
	}
}

func TestLLCSize(t *testing.T) {
	size, err := LLCSize()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if size < 64<<10 || size > 1<<30 {
		t.Errorf("last-level cache of %d bytes", size)
	}
}
