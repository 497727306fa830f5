package flowdissect

import (
	"errors"
	"runtime"
	"testing"

	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/userspacevm"
)

// userEngines are dropmon's user-space engines, by name; the JIT where it
// compiles (amd64).
func userEngines(tb testing.TB) map[string]userspacevm.Engine {
	tb.Helper()
	e := map[string]userspacevm.Engine{"interp": userspacevm.Interp{}}
	if runtime.GOARCH == "amd64" {
		e["jit"] = jit.Engine{Exclusive: true}
	}
	return e
}

func loadUser(tb testing.TB, e userspacevm.Engine) *User {
	tb.Helper()
	u, err := LoadUser(e)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { u.Close() })
	return u
}

// TestUserEqualsNative runs every corpus frame, malformed, truncated and
// oversized ones included, and 3000 distinct frames, through the object
// on the interpreter and on the JIT (verified by dropmon's verifier) and
// through Dissect: the same verdict and the same 56 bytes of keys. The
// corpus frames' verdicts are also the corpus's own.
func TestUserEqualsNative(t *testing.T) {
	frames := Corpus()
	for _, f := range Distinct(3000) {
		frames = append(frames, Packet{Name: "distinct", Want: OK, Frame: f})
	}
	for name, e := range userEngines(t) {
		t.Run(name, func(t *testing.T) {
			u := loadUser(t, e)
			bad := 0
			for _, p := range frames {
				var native Keys
				var nativeRaw [KeysSize]byte
				nv, nerr := Dissect(p.Frame, &native)
				uv, uerr := u.RunRaw(p.Frame)
				if len(p.Frame) < EthHlen {
					if !errors.Is(nerr, ErrShortFrame) || !errors.Is(uerr, ErrShortFrame) {
						t.Errorf("%s (%d bytes): native %v, %s %v", p.Name, len(p.Frame), nerr, name, uerr)
					}
					continue
				}
				native.Encode(&nativeRaw)
				if nerr != nil || uerr != nil || nv != uv || nativeRaw != *u.RawKeys() || uv != p.Want {
					var got Keys
					got.Decode(u.RawKeys())
					t.Errorf("%s (%d bytes): want %v\nnative %v %v %s\n%s %v %v %s", p.Name, len(p.Frame), p.Want,
						nv, nerr, &native, name, uv, uerr, &got)
					if bad++; bad > 5 {
						t.FailNow()
					}
				}
			}
		})
	}
}

// TestUserRun checks Run's decoded keys against Dissect's on one frame
// of each corpus kind.
func TestUserRun(t *testing.T) {
	for name, e := range userEngines(t) {
		u := loadUser(t, e)
		for _, p := range Corpus() {
			var native, got Keys
			nv, nerr := Dissect(p.Frame, &native)
			uv, uerr := u.Run(p.Frame, &got)
			if nv != uv || (nerr == nil) != (uerr == nil) || (nerr == nil && native != got) {
				t.Errorf("%s: %s: native %v %v %s, Run %v %v %s", name, p.Name, nv, nerr, &native, uv, uerr, &got)
			}
		}
	}
}

// FuzzFlowDissector feeds arbitrary frames to Dissect and to the object on
// the JIT (the interpreter where there is no JIT): same verdict and same
// keys, or the same refusal. Seeded with the corpus.
func FuzzFlowDissector(f *testing.F) {
	for _, p := range Corpus() {
		f.Add(p.Frame)
	}
	engines := userEngines(f)
	e, ok := engines["jit"]
	if !ok {
		e = engines["interp"]
	}
	u := loadUser(f, e)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var native Keys
		var nativeRaw [KeysSize]byte
		nv, nerr := Dissect(frame, &native)
		uv, uerr := u.RunRaw(frame)
		if len(frame) < EthHlen {
			if !errors.Is(nerr, ErrShortFrame) || !errors.Is(uerr, ErrShortFrame) {
				t.Fatalf("%d bytes: native %v, engine %v", len(frame), nerr, uerr)
			}
			return
		}
		native.Encode(&nativeRaw)
		if nerr != nil || uerr != nil || nv != uv || nativeRaw != *u.RawKeys() {
			var got Keys
			got.Decode(u.RawKeys())
			t.Fatalf("native %v %v %s\nengine %v %v %s", nv, nerr, &native, uv, uerr, &got)
		}
	})
}

// TestUserBatchEqualsNative runs the corpus (frames of at least 14 bytes)
// and 1000 distinct frames in batches of 64 (the last one shorter) on both
// engines: each frame's verdict and keys equal Dissect's.
func TestUserBatchEqualsNative(t *testing.T) {
	var frames [][]byte
	for _, p := range Corpus() {
		if len(p.Frame) >= EthHlen {
			frames = append(frames, p.Frame)
		}
	}
	frames = append(frames, Distinct(1000)...)
	for name, e := range userEngines(t) {
		t.Run(name, func(t *testing.T) {
			u := loadUser(t, e)
			verdicts := make([]Verdict, 64)
			for start := 0; start < len(frames); start += 64 {
				batch := frames[start:min(start+64, len(frames))]
				if err := u.RunBatch(batch, verdicts); err != nil {
					t.Fatal(err)
				}
				for i, f := range batch {
					var native Keys
					var raw [KeysSize]byte
					nv, err := Dissect(f, &native)
					if err != nil {
						t.Fatal(err)
					}
					native.Encode(&raw)
					if nv != verdicts[i] || raw != *u.BatchKeys(i) {
						var got Keys
						got.Decode(u.BatchKeys(i))
						t.Fatalf("frame %d: native %v %s, batch %v %s", start+i, nv, &native, verdicts[i], &got)
					}
				}
			}
			short := [][]byte{frames[0], make([]byte, 13)}
			if err := u.RunBatch(short, verdicts); !errors.Is(err, ErrShortFrame) {
				t.Errorf("a batch with a 13-byte frame: %v, want ErrShortFrame", err)
			}
		})
	}
}
