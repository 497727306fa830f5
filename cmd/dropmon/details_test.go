package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDetailsCommand runs dropmon --details with filters on a loopback drop
// of the test's own making and checks its JSON lines: the flow's
// namespace, interface and 5-tuple, and the evictions field.
func TestDetailsCommand(t *testing.T) {
	bin := buildDropmon(t)
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closed := probe.LocalAddr().(*net.UDPAddr).Port
	probe.Close()
	sender, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	sport := sender.LocalAddr().(*net.UDPAddr).Port
	const n = 4
	run := startDropmon(t, bin, "--details", "--netns", "/proc/self/ns/net", "--ifname", "lo", "--dst", "127.0.0.0/8",
		"--port", strconv.Itoa(closed), "--output", "json", "--interval", "300ms", "--duration", "1500ms")
	if !strings.Contains(run.watching, "engine kernel") {
		t.Errorf("--details without --engine: %q, want the kernel engine", run.watching)
	}
	for range n {
		if _, err := sender.WriteToUDP([]byte("details"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: closed}); err != nil {
			t.Fatal(err)
		}
	}
	run.wait(t)
	var last struct {
		Type         string
		FlowsEvicted *uint64 `json:"flows_evicted"`
		Entries      []struct {
			Symbol, Reason string
			Count          uint64
			Flows          []struct {
				Netns      uint64
				NetnsFrom  string `json:"netns_from"`
				Ifname, L3 string
				Protocol   string
				Src, Dst   string
				Sport      int
				Dport      int
				Len        int
				Count      uint64
			}
		}
	}
	sc := bufio.NewScanner(strings.NewReader(run.stdout.String()))
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
	}
	link, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if last.Type != "summary" || last.FlowsEvicted == nil || *last.FlowsEvicted != 0 || len(last.Entries) != 1 {
		t.Fatalf("summary: %+v\n%s", last, run.stdout.String())
	}
	e := last.Entries[0]
	if e.Symbol != "__udp4_lib_rcv" || e.Reason != "NO_SOCKET" || e.Count != n || len(e.Flows) != 1 {
		t.Fatalf("entry %+v, want %d NO_SOCKET drops in __udp4_lib_rcv, one flow", e, n)
	}
	f := e.Flows[0]
	if "net:["+strconv.FormatUint(f.Netns, 10)+"]" != link || f.NetnsFrom != "device" || f.Ifname != "lo" || f.L3 != "ipv4" ||
		f.Protocol != "udp" || f.Src != "127.0.0.1" || f.Dst != "127.0.0.1" || f.Sport != sport || f.Dport != closed ||
		f.Len != 8+len("details") || f.Count != n {
		t.Errorf("flow %+v; want netns %s, lo, udp 127.0.0.1:%d -> 127.0.0.1:%d, len %d, %d packets", f, link, sport, closed, 8+len("details"), n)
	}
}
