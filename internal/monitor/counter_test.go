package monitor_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// lengthCounter counts net:netif_receive_skb records per packet length,
// in a map laid out like the drop counter's (the length as the location),
// so that DropCounter's Decode reads it.
var lengthCounter = newLengthCounter(ebpf.Hash)

// newLengthCounter is lengthCounter counting into a map of type typ; a
// per-CPU map's values (one a CPU, end to end) are summed.
func newLengthCounter(typ ebpf.MapType) *monitor.Counter {
	c := &monitor.Counter{
		Group: "net",
		Name:  "netif_receive_skb",
		Map:   "len_counts",
		Build: func(format *tracepoint.Format, maxEntries uint32) (*program.Program, error) {
			length, err := format.Field("len")
			if err != nil {
				return nil, err
			}
			insns := asm.Instructions{
				asm.LoadMem(asm.R2, asm.R1, int16(length.Offset), asm.Word),
				asm.StoreMem(asm.RFP, -16, asm.R2, asm.DWord),
				asm.Mov.Imm(asm.R3, 0),
				asm.StoreMem(asm.RFP, -8, asm.R3, asm.DWord),
				asm.LoadMapPtr(asm.R1, 0).WithReference("len_counts"),
				asm.Mov.Reg(asm.R2, asm.RFP),
				asm.Add.Imm(asm.R2, -16),
				asm.FnMapLookupElem.Call(),
				asm.JNE.Imm(asm.R0, 0, "add"),
				asm.Mov.Imm(asm.R3, 1),
				asm.StoreMem(asm.RFP, -24, asm.R3, asm.DWord),
				asm.LoadMapPtr(asm.R1, 0).WithReference("len_counts"),
				asm.Mov.Reg(asm.R2, asm.RFP),
				asm.Add.Imm(asm.R2, -16),
				asm.Mov.Reg(asm.R3, asm.RFP),
				asm.Add.Imm(asm.R3, -24),
				asm.Mov.Imm(asm.R4, int32(ebpf.UpdateAny)),
				asm.FnMapUpdateElem.Call(),
				asm.Ja.Label("out"),
				asm.Mov.Imm(asm.R1, 1).WithSymbol("add"),
				asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
				asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
				asm.Return(),
			}
			return &program.Program{Name: "count_lengths", Type: program.Tracepoint, Insns: insns, License: "GPL",
				Maps: []*program.MapSpec{{Name: "len_counts", Type: typ, KeySize: 16, ValueSize: 8, MaxEntries: maxEntries}}}, nil
		},
	}
	c.Decode = func(key, value []byte) (report.Key, uint64, error) {
		if len(value) == 0 || len(value)%8 != 0 {
			return report.Key{}, 0, fmt.Errorf("value of %d bytes", len(value))
		}
		var sum uint64
		for i := 0; i < len(value); i += 8 {
			sum += binary.NativeEndian.Uint64(value[i:])
		}
		k, _, err := monitor.DropCounter.Decode(key, value[:8])
		return k, sum, err
	}
	return c
}

// TestCounterOtherTracepoint runs another program on another tracepoint
// through the same monitor, on every engine: packets this process sends
// over loopback, counted by length where the kernel receives them.
func TestCounterOtherTracepoint(t *testing.T) {
	const n = 300
	// An IPv4 header, a UDP header and SendToClosedPort's 21-byte payload:
	// the length netif_receive_skb sees on lo once the Ethernet header is
	// pulled.
	const wantLen = 20 + 8 + 21
	for _, typ := range []ebpf.MapType{ebpf.Hash, ebpf.PerCPUHash} {
		counter := newLengthCounter(typ)
		for _, engine := range monitor.Engines {
			t.Run(fmt.Sprintf("%s/%v", engine, typ), func(t *testing.T) {
				m, counts := countDrops(t, monitor.Config{Engine: engine, Counter: counter}, n)
				if m.Tracepoint() != "net:netif_receive_skb" {
					t.Errorf("Tracepoint() = %s", m.Tracepoint())
				}
				if got := counts[report.Key{Location: wantLen}]; got != n {
					t.Errorf("counted %d packets of %d bytes, want %d: %s", got, wantLen, n, fmt.Sprint(counts))
				}
			})
		}
	}
}

// cDropCounter is the drop counter compiled from C (samples/bpf), its CO-RE
// relocations applied against the running kernel's BTF: the same map and
// keys as DropCounter's.
var cDropCounter = &monitor.Counter{
	Group: "skb",
	Name:  "kfree_skb",
	Map:   "drop_counts",
	Build: func(*tracepoint.Format, uint32) (*program.Program, error) {
		return program.FromELFWithOptions(filepath.Join("..", "..", "samples", "bpf", "dropcount.bpf.o"), "", "count_drops", nil)
	},
	Decode: monitor.DropCounter.Decode,
}

// TestCDropCounter counts the same drops with the C counter on every
// engine, exactly, at the one location and reason the asm counter finds.
func TestCDropCounter(t *testing.T) {
	const n = 1000
	for _, engine := range monitor.Engines {
		t.Run(engine, func(t *testing.T) {
			if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
				t.Skipf("no kernel BTF to relocate the C counter against: %v", err)
			}
			m, counts := countDrops(t, monitor.Config{Engine: engine, Counter: cDropCounter}, n)
			if len(counts) != 1 {
				t.Fatalf("counted %d drop sites, want 1: %v", len(counts), counts)
			}
			for key, got := range counts {
				if got != n {
					t.Errorf("counted %d drops, want %d", got, n)
				}
				if m.HasReasons() && m.ReasonName(key.Reason) != "NO_SOCKET" {
					t.Errorf("reason %d (%s), want NO_SOCKET", key.Reason, m.ReasonName(key.Reason))
				}
			}
		})
	}
}
