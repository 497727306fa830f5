package flowdissect

import (
	"errors"
	"testing"
)

// FuzzDissectKernel feeds arbitrary frames to Dissect and to the kernel's
// test run: same verdict and keys, or the same refusal. Seeded with the
// corpus.
func FuzzDissectKernel(f *testing.F) {
	for _, p := range Corpus() {
		if len(p.Frame) <= MaxKernelFrame() {
			f.Add(p.Frame)
		}
	}
	kp := loadKernel(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var native, kernel Keys
		nv, nerr := Dissect(frame, &native)
		kv, _, kerr := kp.Run(frame, &kernel, 1)
		switch {
		case len(frame) < EthHlen:
			if !errors.Is(nerr, ErrShortFrame) || !errors.Is(kerr, ErrShortFrame) {
				t.Fatalf("%d bytes: native %v, kernel %v", len(frame), nerr, kerr)
			}
		case len(frame) > MaxKernelFrame():
			if !errors.Is(kerr, ErrFrameTooLong) || nerr != nil {
				t.Fatalf("%d bytes: native %v, kernel %v", len(frame), nerr, kerr)
			}
		case nerr != nil || kerr != nil:
			t.Fatalf("native %v, kernel %v", nerr, kerr)
		case nv != kv || native != kernel:
			t.Fatalf("native %v %s\nkernel %v %s", nv, &native, kv, &kernel)
		}
	})
}
