package dropcount_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/jit"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

// perfContextKernel is PERF_CONTEXT_KERNEL, the marker a perf callchain
// starts with.
const perfContextKernel = ^uint64(128) + 1

// TestStackProgram runs the drop counter with stacks on both user-space
// engines over records with perf callchains: drops of one site with the
// same chain share a stack id, other chains get other ids, the stack map
// holds each chain's frames without perf's markers, and a record without
// a chain is still counted, under a negative id.
func TestStackProgram(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "tracepoint", "testdata", "kfree_skb_6.18.format"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := tracepoint.ParseFormat("skb", "kfree_skb", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []userspacevm.Engine{userspacevm.Interp{}, jit.Engine{}} {
		t.Run(engine.Name(), func(t *testing.T) {
			prog, err := dropcount.StackProgram(f, 64)
			if err != nil {
				t.Fatal(err)
			}
			v, err := verifier.Verify(prog, &verifier.Options{ContextSize: f.Size()})
			if err != nil {
				t.Fatalf("verify: %+v", err)
			}
			prep, err := userspacevm.PrepareVerified(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer prep.Close()
			runner, err := engine.Load(prep)
			if err != nil {
				t.Fatal(err)
			}
			defer runner.Close()
			chainA := []uint64{perfContextKernel, 0xffffffff81000010, 0xffffffff81000020, 0xffffffff81000030}
			chainB := []uint64{perfContextKernel, 0xffffffff81000010, 0xffffffff81000040}
			raw := record(t, f, 0xffffffff81a3c5f1, 3)
			rc := &userspacevm.RunContext{}
			for _, run := range []struct {
				chain []uint64
				n     int
			}{{chainA, 7}, {chainB, 5}, {nil, 2}} {
				rc.Callchain = run.chain
				for range run.n {
					if r0, err := runner.Run(raw, rc); err != nil || r0 != 0 {
						t.Fatalf("run: r0=%d err=%v", r0, err)
					}
				}
			}
			byCount := map[uint64]dropcount.Key{}
			var key, value []byte
			it := prep.Maps[0].Iterate()
			for it.Next(&key, &value) {
				k, err := dropcount.DecodeKey(key)
				if err != nil {
					t.Fatal(err)
				}
				byCount[binary.NativeEndian.Uint64(value)] = k
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if len(byCount) != 3 {
				t.Fatalf("keys by count: %+v, want counts 7, 5 and 2", byCount)
			}
			for n, want := range map[uint64][]uint64{7: chainA[1:], 5: chainB[1:]} {
				k := byCount[n]
				if k.Location != 0xffffffff81a3c5f1 || k.Reason != 3 || k.StackID < 0 {
					t.Fatalf("key of the %d drops: %+v", n, k)
				}
				id := binary.NativeEndian.AppendUint32(nil, uint32(k.StackID))
				v, err := prep.Maps[1].Lookup(id)
				if err != nil {
					t.Fatalf("stack %d: %v", k.StackID, err)
				}
				if got := dropcount.DecodeStack(v); !slices.Equal(got, want) {
					t.Errorf("stack %d: %x, want %x", k.StackID, got, want)
				}
			}
			if byCount[7].StackID == byCount[5].StackID {
				t.Errorf("two chains share stack id %d", byCount[7].StackID)
			}
			if k := byCount[2]; k.StackID >= 0 {
				t.Errorf("a record without a callchain got stack id %d", k.StackID)
			}
		})
	}
}
