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

// TestCDropCounterInKernel loads the C drop counter into the running kernel
// with cilium/ebpf, which applies its CO-RE relocations against the
// kernel's BTF as FromELF does for the user-space engines, attaches it to
// skb:kfree_skb and checks that it counts the test's drops.
func TestCDropCounterInKernel(t *testing.T) {
	const n = 1000
	format, err := tracepoint.ReadFormat("skb", "kfree_skb")
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ebpf.LoadCollectionSpec(dropCountObject)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	testutil.Privileged(t, err)
	if err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			t.Fatalf("kernel verifier refused the C drop counter: %+v", verr)
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
}
