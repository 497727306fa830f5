package monitor_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/monitor"
)

// TestObjectTwoPrograms runs samples/bpf/skbevents.bpf.o, whose two
// programs (on skb:kfree_skb and skb:consume_skb) count into one map keyed
// by event and location, on every engine: both programs share the map, and
// the test's drops are counted exactly under event 0 at one location, and
// the ICMP answers they cause, consumed by this process, under event 1.
func TestObjectTwoPrograms(t *testing.T) {
	const n = 500
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF to relocate the object against: %v", err)
	}
	counter, _, err := monitor.ObjectCounter(filepath.Join("..", "..", "samples", "bpf", "skbevents.bpf.o"), "", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := counter.Tracepoint(); got != "skb:consume_skb, skb:kfree_skb" {
		t.Fatalf("tracepoints %q", got)
	}
	for _, engine := range monitor.Engines {
		t.Run(engine, func(t *testing.T) {
			_, counts := countDrops(t, monitor.Config{Engine: engine, Counter: counter}, n)
			drops, consumed := map[uint64]uint64{}, uint64(0)
			for key, c := range counts {
				raw := []byte(key.Raw)
				if len(raw) != 16 {
					t.Fatalf("key of %d bytes", len(raw))
				}
				switch event := binary.NativeEndian.Uint32(raw); event {
				case 0:
					drops[binary.NativeEndian.Uint64(raw[8:])] += c
				case 1:
					consumed += c
				default:
					t.Fatalf("event %d", event)
				}
			}
			if len(drops) != 1 {
				t.Fatalf("drops at %d locations, want 1: %v", len(drops), drops)
			}
			for loc, c := range drops {
				if c != n {
					t.Errorf("counted %d drops at %#x, want %d", c, loc, n)
				}
			}
			// Each datagram's ICMP port-unreachable answer comes back to this
			// process's socket over loopback and is consumed there once.
			if consumed != n {
				t.Errorf("the consume_skb program counted %d packets into the shared map, want %d", consumed, n)
			}
		})
	}
}

// TestObjectOneProgramTwoTracepoints attaches one program of
// skbevents.bpf.o (count_kfree, which reads only the location both records
// have at the same offset) to skb:kfree_skb and skb:consume_skb, as
// repeated --tracepoint flags do: on every engine its counts from both
// events land in its one map, n drops at one location and the n consumed
// ICMP answers at another.
func TestObjectOneProgramTwoTracepoints(t *testing.T) {
	const n = 500
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF to relocate the object against: %v", err)
	}
	counter, _, err := monitor.ObjectCounter(filepath.Join("..", "..", "samples", "bpf", "skbevents.bpf.o"),
		"tracepoint/skb/kfree_skb", []string{"skb:kfree_skb", "skb:consume_skb"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := counter.Tracepoint(); got != "skb:kfree_skb, skb:consume_skb" {
		t.Fatalf("tracepoints %q", got)
	}
	for _, engine := range monitor.Engines {
		t.Run(engine, func(t *testing.T) {
			m, counts := countDrops(t, monitor.Config{Engine: engine, Counter: counter}, n)
			if engine == "kernel" && len(m.KernelProgramIDs()) != 1 {
				t.Errorf("kernel program ids %v: want the one program, linked twice", m.KernelProgramIDs())
			}
			perLocation := map[uint64]uint64{}
			for key, c := range counts {
				raw := []byte(key.Raw)
				if len(raw) != 16 || binary.NativeEndian.Uint32(raw) != 0 {
					t.Fatalf("key %x: want event 0 (count_kfree's) only", raw)
				}
				perLocation[binary.NativeEndian.Uint64(raw[8:])] += c
			}
			if len(perLocation) != 2 {
				t.Fatalf("counts at %d locations, want 2 (the drop and the consume): %v", len(perLocation), perLocation)
			}
			for loc, c := range perLocation {
				if c != n {
					t.Errorf("counted %d at %#x, want %d", c, loc, n)
				}
			}
		})
	}
	if _, _, err := monitor.ObjectCounter(filepath.Join("..", "..", "samples", "bpf", "skbevents.bpf.o"),
		"", []string{"skb:kfree_skb"}, ""); err == nil || !strings.Contains(err.Error(), "pick one with --section") {
		t.Errorf("two programs on --tracepoint: %v", err)
	}
}
