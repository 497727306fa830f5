package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/tracepoint"
)

func TestFilterFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*filterFlags) bool
	}{
		{name: "none", args: nil, check: func(ff *filterFlags) bool { return !ff.any() }},
		{name: "reasons", args: []string{"--reason", "NO_SOCKET,tcp_flags", "--reason", "IP_NOPROTO", "--exclude-reason", "SKB_DROP_REASON_NOT_SPECIFIED"},
			check: func(ff *filterFlags) bool {
				return slices.Equal(ff.reasons, []string{"NO_SOCKET", "tcp_flags", "IP_NOPROTO"}) &&
					slices.Equal(ff.excludeReasons, []string{"SKB_DROP_REASON_NOT_SPECIFIED"})
			}},
		{name: "ipv6", args: []string{"--protocol", "ipv6"}, check: func(ff *filterFlags) bool {
			return ff.parsed.HasProtocol && ff.parsed.Protocol == 0x86dd
		}},
		{name: "ethertype", args: []string{"--protocol", "0x8100"}, check: func(ff *filterFlags) bool { return ff.parsed.Protocol == 0x8100 }},
		{name: "pid comm location", args: []string{"--pid", "42", "--comm", "iperf3", "--location", "__udp4_lib_rcv"},
			check: func(ff *filterFlags) bool {
				return ff.pid == 42 && ff.parsed.Comm == "iperf3" && ff.location == "__udp4_lib_rcv"
			}},
		{name: "bad protocol", args: []string{"--protocol", "ip"}, wantErr: "--protocol: protocol \"ip\": want ipv4, ipv6, arp or an EtherType number"},
		{name: "protocol too large", args: []string{"--protocol", "65536"}, wantErr: "want ipv4, ipv6, arp"},
		{name: "bad pid", args: []string{"--pid", "me"}, wantErr: "invalid argument"},
		{name: "long comm", args: []string{"--comm", "0123456789abcdef"}, wantErr: "--comm: comm \"0123456789abcdef\": longer than the kernel's 15 bytes"},
		{name: "glob comm", args: []string{"--comm", "kworker/*"}, wantErr: "not allowed"},
		{name: "empty reason", args: []string{"--reason", "NO_SOCKET,"}, wantErr: "empty reason name"},
		{name: "with program", args: []string{"--program", "x.o", "--reason", "NO_SOCKET"}, wantErr: "do not go with --program"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseMonitorFlags(tt.args, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(&f.filters) {
				t.Fatalf("filters = %+v", f.filters)
			}
		})
	}
}

// TestFilterResolve resolves reason names against a kernel's format and
// the function through a stand-in for /proc/kallsyms.
func TestFilterResolve(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "tracepoint", "testdata", "kfree_skb_6.18.format"))
	if err != nil {
		t.Fatal(err)
	}
	format, err := tracepoint.ParseFormat("skb", "kfree_skb", data)
	if err != nil {
		t.Fatal(err)
	}
	udp4 := &dropcount.Range{Name: "__udp4_lib_rcv", Start: 0x1000, End: 0x1800}
	function := func(name string) (*dropcount.Range, error) {
		if name == udp4.Name {
			return udp4, nil
		}
		return nil, errors.New("find function " + name + ": not a function of the running kernel")
	}
	tests := []struct {
		name    string
		args    []string
		want    string // the tracepoint filter
		wantErr string
	}{
		{name: "reason", args: []string{"--reason", "no_socket,SKB_DROP_REASON_IP_NOPROTO"}, want: "(reason == 3 || reason == 19)"},
		{name: "exclude", args: []string{"--exclude-reason", "NOT_SPECIFIED"}, want: "reason != 2"},
		{name: "everything", args: []string{"--reason", "NO_SOCKET", "--protocol", "ipv4", "--location", "__udp4_lib_rcv", "--comm", "dropgen", "--pid", "7"},
			want: `(reason == 3) && protocol == 0x800 && location >= 0x1000 && location < 0x1800 && comm == "dropgen"`},
		{name: "pid alone", args: []string{"--pid", "7"}, want: ""},
		{name: "unknown reason", args: []string{"--reason", "NO_SOCKET,NOSOCKET"},
			wantErr: `--reason: unknown drop reason "NOSOCKET" (this kernel's reasons: NOT_SPECIFIED, NO_SOCKET, SOCKET_CLOSE, `},
		{name: "unknown excluded reason", args: []string{"--exclude-reason", "nope"}, wantErr: `--exclude-reason: unknown drop reason "nope"`},
		{name: "unknown function", args: []string{"--location", "udp_rcv_nope"}, wantErr: "--location: find function udp_rcv_nope: not a function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseMonitorFlags(tt.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			filter, err := f.filters.resolve(format, function)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := filter.Tracepoint(format)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("filter\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFilterHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"--help"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	for _, want := range []string{"--reason", "--exclude-reason", "--protocol", "--pid", "--comm", "--location", "whichever task ran the softirq"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestFilterEndToEnd runs the binary with filters on each engine, on this
// process's drops (--pid): kept, they are all counted; filtered out, none.
func TestFilterEndToEnd(t *testing.T) {
	bin := buildDropmon(t)
	pid := strconv.Itoa(os.Getpid())
	for _, engine := range []string{"jit", "interp", "kernel"} {
		kept := []string{"--engine", engine, "--pid", pid, "--count", "2", "--interval", "700ms",
			"--reason", "no_socket", "--protocol", "ipv4", "--location", "__udp4_lib_rcv"}
		t.Run(engine+"/kept", func(t *testing.T) { testEndToEnd(t, bin, kept, 0, checkExact) })
		gone := []string{"--engine", engine, "--pid", pid, "--count", "2", "--interval", "700ms",
			"--exclude-reason", "NO_SOCKET,NOT_SPECIFIED"}
		t.Run(engine+"/filtered", func(t *testing.T) { testEndToEnd(t, bin, gone, 0, checkNone) })
	}
}

// checkExact checks that the summary counts exactly n drops, all of them
// at __udp4_lib_rcv with reason NO_SOCKET.
func checkExact(t *testing.T, out string, n int) {
	t.Helper()
	checkSummary(t, out, n)
	if _, summary, _ := strings.Cut(out, "summary: "); !strings.HasPrefix(summary, strconv.Itoa(n)+" drops in ") {
		t.Errorf("summary does not count exactly %d drops:\n%s", n, out)
	}
}

// checkNone checks that the summary counts no drop.
func checkNone(t *testing.T, out string, _ int) {
	t.Helper()
	_, summary, ok := strings.Cut(out, "summary: ")
	if !ok {
		t.Fatalf("no summary in output:\n%s", out)
	}
	if !strings.HasPrefix(summary, "0 drops in ") {
		t.Errorf("summary counts filtered drops:\n%s", out)
	}
}
