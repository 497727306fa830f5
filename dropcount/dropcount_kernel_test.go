package dropcount_test

import (
	"errors"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/tracepoint"
)

// TestDropCounterInKernel loads the drop counter, built with asm and
// compiled from C, into the running kernel with cilium/ebpf (the kernel's
// verifier must accept it; for the C object cilium applies the CO-RE
// relocations against the kernel's BTF, as FromELFWithOptions does for the
// user-space engines), attaches it to skb:kfree_skb and checks that it
// counts the test's drops at one location with NO_SOCKET.
func TestDropCounterInKernel(t *testing.T) {
	const n = 1000
	format, err := tracepoint.ReadFormat("skb", "kfree_skb")
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := dropcount.Program(format, 1024)
	if err != nil {
		t.Fatal(err)
	}
	cSpec, err := ebpf.LoadCollectionSpec(dropCountObject)
	if err != nil {
		t.Fatal(err)
	}
	asmSpec, err := prog.KernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec *ebpf.CollectionSpec
	}{
		{"asm", asmSpec},
		{"C", cSpec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			coll, err := ebpf.NewCollection(tt.spec)
			testutil.Privileged(t, err)
			if err != nil {
				var verr *ebpf.VerifierError
				if errors.As(err, &verr) {
					t.Fatalf("kernel verifier refused the drop counter: %+v", verr)
				}
				t.Fatal(err)
			}
			defer coll.Close()
			tp, err := link.Tracepoint("skb", "kfree_skb", coll.Programs["count_drops"], nil)
			if err != nil {
				t.Fatal(err)
			}
			testutil.SendToClosedPort(t, n)
			tp.Close()
			checkNoSocketDrops(t, coll.Maps[dropcount.MapName], format, n)
		})
	}
}

// checkNoSocketDrops checks that one location of the kernel map m counted
// the n NO_SOCKET drops that testutil.SendToClosedPort made.
func checkNoSocketDrops(t *testing.T, m *ebpf.Map, format *tracepoint.Format, n uint64) {
	t.Helper()
	noSocket := uint32(0)
	for v, name := range format.Symbols["reason"] {
		if name == "NO_SOCKET" {
			noSocket = uint32(v)
		}
	}
	var (
		key   []byte
		value uint64
		found int
	)
	it := m.Iterate()
	for it.Next(&key, &value) {
		k, err := dropcount.DecodeKey(key)
		if err != nil {
			t.Fatal(err)
		}
		if k.Reason == noSocket && value >= n {
			found++
			if value != n {
				t.Logf("location %#x counted %d NO_SOCKET drops, %d more than the test made (other traffic on the machine)", k.Location, value, value-n)
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if found != 1 {
		t.Fatalf("%d locations counted at least %d NO_SOCKET drops, want 1", found, n)
	}
}
