package dropcount_test

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/verifier"
)

var udp4 = &dropcount.Range{Name: "__udp4_lib_rcv", Start: 0xffffffff820a8770, End: 0xffffffff820a9000}

func TestFilterTracepoint(t *testing.T) {
	f618 := readFixture(t, "kfree_skb_6.18.format")
	f510 := readFixture(t, "kfree_skb_5.10.format")
	tests := []struct {
		name    string
		format  *tracepoint.Format
		filter  *dropcount.Filter
		want    string
		wantErr string
	}{
		{name: "nil", format: f618, filter: nil, want: ""},
		{name: "empty", format: f618, filter: &dropcount.Filter{}, want: ""},
		{name: "one reason", format: f618, filter: &dropcount.Filter{Reasons: []uint32{3}}, want: "(reason == 3)"},
		{name: "two reasons", format: f618, filter: &dropcount.Filter{Reasons: []uint32{3, 19}}, want: "(reason == 3 || reason == 19)"},
		{name: "exclude", format: f618, filter: &dropcount.Filter{ExcludeReasons: []uint32{2, 3}}, want: "reason != 2 && reason != 3"},
		{name: "ipv4", format: f618, filter: &dropcount.Filter{Protocol: 0x0800, HasProtocol: true}, want: "protocol == 0x800"},
		{name: "ipv6 on 5.10", format: f510, filter: &dropcount.Filter{Protocol: 0x86dd, HasProtocol: true}, want: "protocol == 0x86dd"},
		{name: "location", format: f618, filter: &dropcount.Filter{Location: udp4},
			want: "location >= 0xffffffff820a8770 && location < 0xffffffff820a9000"},
		{name: "comm", format: f618, filter: &dropcount.Filter{Comm: "iperf3"}, want: `comm == "iperf3"`},
		{name: "all", format: f618, filter: &dropcount.Filter{Reasons: []uint32{3}, ExcludeReasons: []uint32{2}, Protocol: 0x0806, HasProtocol: true, Comm: "x", Location: udp4},
			want: `(reason == 3) && reason != 2 && protocol == 0x806 && location >= 0xffffffff820a8770 && location < 0xffffffff820a9000 && comm == "x"`},
		{name: "reason on 5.10", format: f510, filter: &dropcount.Filter{Reasons: []uint32{3}}, wantErr: `has no field "reason"`},
		{name: "comm too long", format: f618, filter: &dropcount.Filter{Comm: "a-very-long-task-name"}, wantErr: "longer than the kernel's 15 bytes"},
		{name: "comm glob", format: f618, filter: &dropcount.Filter{Comm: "kworker*"}, wantErr: `character '*' not allowed`},
		{name: "comm quote", format: f618, filter: &dropcount.Filter{Comm: `a"b`}, wantErr: `not allowed`},
		{name: "empty range", format: f618, filter: &dropcount.Filter{Location: &dropcount.Range{Name: "f", Start: 8, End: 8}}, wantErr: "empty range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.filter.Tracepoint(tt.format)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if _, err := tt.filter.Insns(tt.format); err == nil {
					t.Fatal("Insns took what Tracepoint refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("filter\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestFilterInsns runs the filter's instructions, followed by r0 = 1, on
// the interpreter over records of every kind, and checks they keep what
// the tracepoint filter's expression keeps. (comm needs the current task:
// the kernel engine's TestFilter in internal/monitor checks it.)
func TestFilterInsns(t *testing.T) {
	f := readFixture(t, "kfree_skb_6.18.format")
	type rec struct {
		location uint64
		reason   uint32
		protocol uint16
	}
	records := []rec{
		{udp4.Start, 3, 0x0800}, {udp4.End - 1, 3, 0x0800}, {udp4.End, 3, 0x0800}, {udp4.Start - 1, 3, 0x0800},
		{udp4.Start + 0x4bc, 19, 0x0800}, {udp4.Start + 0x4bc, 3, 0x86dd}, {0xffffffffc0a00042, 2, 0x0806},
	}
	tests := []struct {
		name   string
		filter dropcount.Filter
		keep   func(rec) bool
	}{
		{"reason", dropcount.Filter{Reasons: []uint32{3}}, func(r rec) bool { return r.reason == 3 }},
		{"reasons", dropcount.Filter{Reasons: []uint32{2, 19}}, func(r rec) bool { return r.reason == 2 || r.reason == 19 }},
		{"exclude", dropcount.Filter{ExcludeReasons: []uint32{3, 2}}, func(r rec) bool { return r.reason == 19 }},
		{"in and out", dropcount.Filter{Reasons: []uint32{3, 19}, ExcludeReasons: []uint32{19}}, func(r rec) bool { return r.reason == 3 }},
		{"ipv6", dropcount.Filter{Protocol: 0x86dd, HasProtocol: true}, func(r rec) bool { return r.protocol == 0x86dd }},
		{"location", dropcount.Filter{Location: udp4}, func(r rec) bool { return r.location >= udp4.Start && r.location < udp4.End }},
		{"ipv4 in udp4 not 19", dropcount.Filter{Protocol: 0x0800, HasProtocol: true, Location: udp4, ExcludeReasons: []uint32{19}},
			func(r rec) bool {
				return r.protocol == 0x0800 && r.location >= udp4.Start && r.location < udp4.End && r.reason != 19
			}},
	}
	loc, _ := f.Field("location")
	reason, _ := f.Field("reason")
	proto, _ := f.Field("protocol")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			insns, err := tt.filter.Insns(f)
			if err != nil {
				t.Fatal(err)
			}
			prog := &program.Program{Name: "filter", Type: program.Tracepoint, License: "GPL",
				Insns: append(slices.Clone(insns), asm.Mov.Imm(asm.R0, 1), asm.Return())}
			v, err := verifier.Verify(prog, &verifier.Options{ContextSize: f.Size()})
			if err != nil {
				t.Fatalf("verify: %+v", err)
			}
			prep, err := userspacevm.PrepareVerified(v, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer prep.Close()
			runner, err := userspacevm.Interp{}.Load(prep)
			if err != nil {
				t.Fatal(err)
			}
			defer runner.Close()
			for _, r := range records {
				raw := make([]byte, f.Size())
				binary.NativeEndian.PutUint64(raw[loc.Offset:], r.location)
				binary.NativeEndian.PutUint32(raw[reason.Offset:], r.reason)
				binary.NativeEndian.PutUint16(raw[proto.Offset:], r.protocol)
				r0, err := runner.Run(raw, &userspacevm.RunContext{})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := r0 == 1, tt.keep(r); got != want {
					t.Errorf("record %+v: kept %v, want %v", r, got, want)
				}
			}
		})
	}
}

func TestParseReasons(t *testing.T) {
	f := readFixture(t, "kfree_skb_6.18.format")
	tests := []struct {
		names   []string
		want    []uint32
		wantErr string
	}{
		{names: nil, want: nil},
		{names: []string{"NO_SOCKET"}, want: []uint32{3}},
		{names: []string{"no_socket"}, want: []uint32{3}},
		{names: []string{"SKB_DROP_REASON_NO_SOCKET"}, want: []uint32{3}},
		{names: []string{"skb_drop_reason_ip_noproto", "NO_SOCKET", "no_socket"}, want: []uint32{19, 3}},
		{names: []string{"NO_SOCKETS"}, wantErr: `unknown drop reason "NO_SOCKETS" (this kernel's reasons: NOT_SPECIFIED, NO_SOCKET, SOCKET_CLOSE,`},
		{names: []string{"NOT_DROPPED_YET"}, wantErr: "unknown drop reason"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			got, err := dropcount.ParseReasons(f, tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := dropcount.ParseReasons(readFixture(t, "kfree_skb_5.10.format"), []string{"NO_SOCKET"}); err == nil ||
		!strings.Contains(err.Error(), "gives no drop reasons") {
		t.Errorf("a kernel without reasons: err = %v", err)
	}
}

func TestParseProtocol(t *testing.T) {
	tests := []struct {
		in      string
		want    uint16
		wantErr bool
	}{
		{"ipv4", 0x0800, false}, {"IPv6", 0x86dd, false}, {"arp", 0x0806, false},
		{"0x8100", 0x8100, false}, {"2048", 0x0800, false}, {"0x10000", 0, true}, {"ip", 0, true}, {"", 0, true},
	}
	for _, tt := range tests {
		got, err := dropcount.ParseProtocol(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseProtocol(%q) = %#x, %v; want %#x, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
