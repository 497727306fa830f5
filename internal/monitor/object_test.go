package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/dropmon/dropmon/program"
)

func TestAttachPoint(t *testing.T) {
	tests := []struct {
		name, section, tp   string
		wantGroup, wantName string
		wantErr             string
	}{
		{name: "section", section: "tracepoint/net/netif_receive_skb", wantGroup: "net", wantName: "netif_receive_skb"},
		{name: "tp section", section: "tp/skb/kfree_skb", wantGroup: "skb", wantName: "kfree_skb"},
		{name: "flag wins", section: "tracepoint/net/x", tp: "skb:consume_skb", wantGroup: "skb", wantName: "consume_skb"},
		{name: "no tracepoint", section: "kprobe/kfree_skb", wantErr: "names no tracepoint: give one with --tracepoint"},
		{name: "bad flag", tp: "skb/kfree_skb", wantErr: "want GROUP:NAME"},
		{name: "empty name", tp: "skb:", wantErr: "want GROUP:NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			group, name, err := attachPoint(&program.Program{Name: "p", Section: tt.section}, tt.tp)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || group != tt.wantGroup || name != tt.wantName {
				t.Fatalf("= %s, %s, %v; want %s, %s", group, name, err, tt.wantGroup, tt.wantName)
			}
		})
	}
}

func TestCountedMap(t *testing.T) {
	hash := &program.MapSpec{Name: "counts", Type: ebpf.Hash}
	array := &program.MapSpec{Name: "cfg", Type: ebpf.Array}
	ring := &program.MapSpec{Name: "events", Type: ebpf.PerfEventArray}
	tests := []struct {
		name    string
		maps    []*program.MapSpec
		flag    string
		want    string
		wantErr string
	}{
		{name: "the only hash map", maps: []*program.MapSpec{hash, ring}, want: "counts"},
		{name: "named", maps: []*program.MapSpec{hash, array}, flag: "cfg", want: "cfg"},
		{name: "two candidates", maps: []*program.MapSpec{hash, array}, wantErr: "has 2 hash or array maps (its maps: counts, cfg): name the one"},
		{name: "none", maps: []*program.MapSpec{ring}, wantErr: "has 0 hash or array maps (its maps: events)"},
		{name: "unknown name", maps: []*program.MapSpec{hash}, flag: "x", wantErr: "has no map x (its maps: counts)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := countedMap(&program.Program{Name: "p", Maps: tt.maps}, tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || m.Name != tt.want {
				t.Fatalf("= %v, %v; want %s", m, err, tt.want)
			}
		})
	}
}

// TestObjectCounter reads samples/bpf/rxlen.bpf.o: its section names the
// tracepoint, its only hash map is read, and the key's BTF comes along.
func TestObjectCounter(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skipf("no kernel BTF to relocate the object against: %v", err)
	}
	c, spec, err := ObjectCounter(filepath.Join("..", "..", "samples", "bpf", "rxlen.bpf.o"), "", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Tracepoint() != "net:netif_receive_skb" || c.Map != "rx_lengths" || spec.Name != "rx_lengths" {
		t.Errorf("counter for %s reading %s (%s)", c.Tracepoint(), c.Map, spec.Name)
	}
	if s, ok := btf.UnderlyingType(spec.KeyType).(*btf.Struct); !ok || len(s.Members) != 2 || s.Members[0].Name != "len" {
		t.Errorf("key type %v, want struct len_key {len; pad}", spec.KeyType)
	}
	key, n, err := c.Decode([]byte{49, 0, 0, 0, 0, 0, 0, 0}, []byte{3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0})
	if err != nil || key.Raw != "1\x00\x00\x00\x00\x00\x00\x00" || n != 7 {
		t.Errorf("Decode = %q, %d, %v; want the raw key and 3+4 (per-CPU values summed)", key.Raw, n, err)
	}
	if _, _, err := ObjectCounter("no-such.o", "", nil, ""); err == nil || !strings.Contains(err.Error(), "no-such.o") {
		t.Errorf("missing object: %v", err)
	}
}
