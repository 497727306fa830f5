package recording_test

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/recording"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// formatBefore610 is skb:kfree_skb as Linux 5.17 to 6.9 lay it out: no
// rx_sk, the reason at offset 28 (6.10+ has it at 36).
const formatBefore610 = `name: kfree_skb
ID: 1234
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:void * skbaddr;	offset:8;	size:8;	signed:0;
	field:void * location;	offset:16;	size:8;	signed:0;
	field:unsigned short protocol;	offset:24;	size:2;	signed:0;
	field:enum skb_drop_reason reason;	offset:28;	size:4;	signed:0;

print fmt: "skbaddr=%p protocol=%u location=%p reason: %s", REC->skbaddr, REC->protocol, REC->location, __print_symbolic(REC->reason, { 1, "NOT_SPECIFIED" }, { 2, "NO_SOCKET" })
`

// TestTypesRelocateForTheRecording runs the C drop counter, relocated
// against the types of a recording made on a kernel older than the one it
// replays on, over a record of that kernel: it must read the reason where
// that kernel put it.
func TestTypesRelocateForTheRecording(t *testing.T) {
	format, err := tracepoint.ParseFormat("skb", "kfree_skb", []byte(formatBefore610))
	if err != nil {
		t.Fatal(err)
	}
	types, err := recording.Types([]*tracepoint.Format{format})
	if err != nil {
		t.Fatal(err)
	}
	counter, _, err := monitor.ObjectCounterWithOptions("../../samples/bpf/dropcount.bpf.o", "", nil, "", &program.ELFOptions{KernelTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	formatOf := func(group, name string) (*tracepoint.Format, error) { return format, nil }
	o, err := monitor.StartOffline(monitor.Config{Engine: "interp", Counter: counter}, formatOf, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	raw := make([]byte, format.Size())
	binary.LittleEndian.PutUint64(raw[16:], 0xffffffff81000123) // location
	binary.LittleEndian.PutUint32(raw[28:], 2)                  // reason: NO_SOCKET
	for range 3 {
		if err := o.Run("skb:kfree_skb", &perfring.Record{Raw: raw}); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := o.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 {
		t.Fatalf("counts %v, want one key", counts)
	}
	for k, n := range counts {
		key := []byte(k.Raw)
		if loc, reason := binary.LittleEndian.Uint64(key), binary.LittleEndian.Uint32(key[8:]); loc != 0xffffffff81000123 || reason != 2 || n != 3 {
			t.Errorf("counted %d at %#x reason %d, want 3 at 0xffffffff81000123 reason 2", n, loc, reason)
		}
	}
	// The types also carry the reasons, under both spellings.
	var e *btf.Enum
	if err := types.TypeByName("skb_drop_reason", &e); err != nil {
		t.Fatal(err)
	}
	names := map[string]uint64{}
	for _, v := range e.Values {
		names[v.Name] = v.Value
	}
	if names["NO_SOCKET"] != 2 || names["SKB_DROP_REASON_NO_SOCKET"] != 2 || len(names) != 4 {
		t.Errorf("enum skb_drop_reason: %v", names)
	}
}
