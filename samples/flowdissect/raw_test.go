package flowdissect

import (
	"errors"
	"testing"
)

// TestRawEqualsKeys checks PrepareRaw and ClampRaw against Prepare and Clamp.
func TestRawEqualsKeys(t *testing.T) {
	for _, tc := range []struct {
		name         string
		frame        []byte
		nhoff, thoff uint16 // as a program might leave them
	}{
		{"in range", make([]byte, 60), 18, 38},
		{"below", make([]byte, 60), 2, 1},
		{"past the end", make([]byte, 60), 100, 200},
		{"thoff below nhoff", make([]byte, 60), 30, 20},
		{"long frame", make([]byte, 70000), 65535, 65535},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.frame[12], tc.frame[13] = 0x86, 0xdd
			var k Keys
			var raw, want [KeysSize]byte
			if err := Prepare(tc.frame, &k); err != nil {
				t.Fatal(err)
			}
			if err := PrepareRaw(tc.frame, &raw); err != nil {
				t.Fatal(err)
			}
			k.Encode(&want)
			if raw != want {
				t.Fatalf("prepared\nraw  % x\nkeys % x", raw, want)
			}
			k.Nhoff, k.Thoff = tc.nhoff, tc.thoff
			k.Encode(&raw)
			Clamp(tc.frame, &k)
			ClampRaw(tc.frame, &raw)
			k.Encode(&want)
			if raw != want {
				t.Fatalf("clamped\nraw  % x\nkeys % x", raw, want)
			}
		})
	}
	var raw [KeysSize]byte
	if err := PrepareRaw(make([]byte, 13), &raw); !errors.Is(err, ErrShortFrame) {
		t.Errorf("13 bytes: %v, want ErrShortFrame", err)
	}
}
