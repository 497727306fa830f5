package dropcount_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// record builds a raw kfree_skb record for format f with the given
// location and reason (where the format has one).
func record(t *testing.T, f *tracepoint.Format, location uint64, reason uint32) []byte {
	t.Helper()
	raw := make([]byte, f.Size()+4) // perf pads raw data; the program must not care
	loc, err := f.Field("location")
	if err != nil {
		t.Fatal(err)
	}
	binary.NativeEndian.PutUint64(raw[loc.Offset:], location)
	if r, err := f.Field("reason"); err == nil {
		binary.NativeEndian.PutUint32(raw[r.Offset:], reason)
	}
	return raw
}

// TestDropCounterOnInterpreter runs the drop counter over records of three
// kernel generations of kfree_skb (no reason; reason; reason and rx_sk, at
// other offsets) from several goroutines, one runner each, and checks the
// counts per key exactly.
func TestDropCounterOnInterpreter(t *testing.T) {
	for _, fixture := range []string{"kfree_skb_5.10.format", "kfree_skb_6.1.format", "kfree_skb_6.18.format"} {
		t.Run(fixture, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "tracepoint", "testdata", fixture))
			if err != nil {
				t.Fatal(err)
			}
			f, err := tracepoint.ParseFormat("skb", "kfree_skb", data)
			if err != nil {
				t.Fatal(err)
			}
			_, reasonErr := f.Field("reason")
			hasReason := reasonErr == nil
			prog, err := dropcount.Program(f, 64)
			if err != nil {
				t.Fatal(err)
			}
			v, err := verifier.Verify(prog, &verifier.Options{ContextSize: f.Size()})
			if err != nil {
				t.Fatalf("verify: %+v", err)
			}
			if v.MaxCtxOffset() > f.Size() {
				t.Fatalf("reads up to %d, past the record of %d", v.MaxCtxOffset(), f.Size())
			}
			prep, err := userspacevm.PrepareVerified(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer prep.Close()

			const workers, perKey = 4, 500
			keys := []dropcount.Key{{Location: 0xffffffff81a3c5f1, Reason: 2}, {Location: 0xffffffff81a3c5f1, Reason: 5}, {Location: 0xffffffffc0a00042, Reason: 2}}
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				runner, err := userspacevm.Interp{}.Load(prep)
				if err != nil {
					t.Fatal(err)
				}
				defer runner.Close()
				records := make([][]byte, len(keys))
				for i, k := range keys {
					records[i] = record(t, f, k.Location, k.Reason)
				}
				wg.Add(1)
				go func(cpu int) {
					defer wg.Done()
					rc := &userspacevm.RunContext{CPU: cpu}
					for i := 0; i < perKey; i++ {
						for _, raw := range records {
							if r0, err := runner.Run(raw, rc); err != nil || r0 != 0 {
								t.Errorf("run: r0=%d err=%v", r0, err)
								return
							}
						}
					}
				}(w)
			}
			wg.Wait()

			want := map[dropcount.Key]uint64{}
			for _, k := range keys {
				if !hasReason {
					k.Reason = 0
				}
				want[k] += workers * perKey
			}
			got := map[dropcount.Key]uint64{}
			var key, value []byte
			it := prep.Maps[0].Iterate()
			for it.Next(&key, &value) {
				k, err := dropcount.DecodeKey(key)
				if err != nil {
					t.Fatal(err)
				}
				got[k] = binary.NativeEndian.Uint64(value)
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d keys %v, want %v", len(got), got, want)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("key %+v: %d, want %d", k, got[k], n)
				}
			}
		})
	}
}

func TestDropCounterNeedsLocation(t *testing.T) {
	f, err := tracepoint.ParseFormat("skb", "other", []byte("name: other\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"x=%d\", REC->x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dropcount.Program(f, 16); err == nil {
		t.Fatal("a format without location gave a program")
	}
}
