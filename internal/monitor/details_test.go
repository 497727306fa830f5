package monitor_test

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dropmon/dropmon/dropdetails"
	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/netnstest"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/symbolize"
)

// TestDetails makes UDP drops inside a network namespace of its own (frames
// sent over a veth pair to an address with no socket on the port) and on
// loopback in the test's namespace, watches them with several filters at
// once, and checks each monitor's counts and flows exactly: the
// namespace's inode, the veth's name and index, the 5-tuple, the length.
func TestDetails(t *testing.T) {
	pair, nsInode := addressedPair(t)
	hostInode := statInode(t, "/proc/self/ns/net")
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := symbolize.Load()
	if err != nil {
		t.Fatal(err)
	}
	const (
		nNS      = 7  // UDP frames over the veth pair, each its own flow
		nLo      = 5  // datagrams on loopback, one flow
		nLo6     = 3  // datagrams on IPv6 loopback, one flow
		payload  = 10 // bytes of each
		udpHdr   = 8
		nsPort   = 9 // the frames' destination port (netnstest.Frame)
		nsSrc    = "192.0.2.1"
		nsDst    = "192.0.2.2"
		nsSport0 = 40000
	)
	// The loopback drops' ports: a bound sender, and a port nothing holds.
	sender, closedPort := closedUDPPort(t)
	loSport := uint16(sender.LocalAddr().(*net.UDPAddr).Port)

	nsFlows := map[report.Flow]uint64{}
	for i := range nNS {
		nsFlows[report.Flow{Netns: uint32(nsInode), NetnsFrom: "device", Ifindex: uint32(pair.B.Index), Ifname: netnstest.NameB,
			L3Proto: 0x0800, L4Proto: 17, Src: netip.MustParseAddr(nsSrc), Dst: netip.MustParseAddr(nsDst),
			Sport: uint16(nsSport0 + i), Dport: nsPort}] = 1
	}
	loFlows := map[report.Flow]uint64{
		{Netns: uint32(hostInode), NetnsFrom: "device", Ifindex: uint32(lo.Index), Ifname: "lo", L3Proto: 0x0800, L4Proto: 17,
			Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("127.0.0.1"), Sport: loSport, Dport: closedPort}: nLo,
	}
	sender6, closedPort6 := closedUDPPort6(t)
	lo6Flows := map[report.Flow]uint64{
		{Netns: uint32(hostInode), NetnsFrom: "device", Ifindex: uint32(lo.Index), Ifname: "lo", L3Proto: 0x86dd, L4Proto: 17,
			Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::1"), Sport: uint16(sender6.LocalAddr().(*net.UDPAddr).Port), Dport: closedPort6}: nLo6,
	}
	loopback := netip.MustParsePrefix("127.0.0.1/32")
	tests := []struct {
		name   string
		filter dropdetails.Filter
		want   map[report.Flow]uint64 // packets per flow
	}{
		{name: "netns and port", filter: dropdetails.Filter{Netns: uint32(nsInode), Port: nsPort}, want: nsFlows},
		{name: "ifname and src", filter: dropdetails.Filter{Ifname: netnstest.NameB, Src: netip.MustParsePrefix(nsSrc + "/32")}, want: nsFlows},
		{name: "dst prefix and port", filter: dropdetails.Filter{Dst: netip.MustParsePrefix("192.0.2.0/24"), Port: nsPort}, want: nsFlows},
		{name: "loopback", filter: dropdetails.Filter{Dst: loopback, Port: closedPort}, want: loFlows},
		{name: "loopback in its netns", filter: dropdetails.Filter{Netns: uint32(hostInode), Ifname: "lo", Port: closedPort}, want: loFlows},
		{name: "ipv6 loopback", filter: dropdetails.Filter{Dst: netip.MustParsePrefix("::1/128"), Port: closedPort6}, want: lo6Flows},
		{name: "other port", filter: dropdetails.Filter{Netns: uint32(nsInode), Port: nsPort + 1}, want: nil},
		{name: "other netns", filter: dropdetails.Filter{Netns: uint32(nsInode), Dst: loopback}, want: nil},
	}
	monitors := make([]*monitor.Monitor, len(tests))
	for i, tt := range tests {
		monitors[i] = startDetails(t, &tt.filter, 0, false)
	}
	if err := pair.Send(0, nNS, payload); err != nil {
		t.Fatal(err)
	}
	for range nLo {
		if _, err := sender.WriteToUDP(make([]byte, payload), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(closedPort)}); err != nil {
			t.Fatal(err)
		}
	}
	for range nLo6 {
		if _, err := sender6.WriteToUDP(make([]byte, payload), &net.UDPAddr{IP: net.IPv6loopback, Port: int(closedPort6)}); err != nil {
			t.Fatal(err)
		}
	}
	// The receiving side may take a moment: wait for the first monitor of
	// each kind of drop to see them all.
	waitDrops(t, monitors[0], nNS)
	waitDrops(t, monitors[3], nLo)
	waitDrops(t, monitors[5], nLo6)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := monitors[i]
			if err := m.Stop(); err != nil {
				t.Fatal(err)
			}
			var wantDrops uint64
			for _, n := range tt.want {
				wantDrops += n
			}
			counts, err := m.Counts()
			if err != nil {
				t.Fatal(err)
			}
			var drops uint64
			for k, n := range counts {
				drops += n
				if kind := dropKind(tab.Format(k.Location), m.ReasonName(k.Reason)); kind != "udp4" && kind != "udp6" {
					t.Errorf("counted %d drops at %s, want only __udp4_lib_rcv or __udp6_lib_rcv NO_SOCKET", n, kind)
				}
			}
			if drops != wantDrops {
				t.Errorf("counted %d drops, want %d", drops, wantDrops)
			}
			flows, err := m.Flows()
			if err != nil {
				t.Fatal(err)
			}
			got := map[report.Flow]uint64{}
			for k, c := range flows.Counts {
				got[k.Flow] += c.Packets
				if want := uint64(udpHdr+payload) * c.Packets; c.Bytes != want || c.Len != udpHdr+payload {
					t.Errorf("flow %s: %d bytes, last length %d; want %d and %d", k.Flow, c.Bytes, c.Len, want, udpHdr+payload)
				}
			}
			for f, n := range tt.want {
				if got[f] != n {
					t.Errorf("flow %s: %d packets, want %d", f, got[f], n)
				}
			}
			for f, n := range got {
				if _, ok := tt.want[f]; !ok {
					t.Errorf("flow %s (%d packets) should have been filtered out", f, n)
				}
			}
			if flows.Evicted != 0 || flows.Failed != 0 {
				t.Errorf("evicted %d, failed %d; want none", flows.Evicted, flows.Failed)
			}
		})
	}
}

// TestDetailsEvictions fills a flows map of 4 entries with 7 flows and
// checks that the evictions are counted: 7 inserted, 4 present, 3
// evicted, and the drops per location stay exact.
func TestDetailsEvictions(t *testing.T) {
	pair, nsInode := addressedPair(t)
	const n, size = 7, 4
	m := startDetails(t, &dropdetails.Filter{Netns: uint32(nsInode), Port: 9}, size, false)
	// One frame at a time, each its own flow (Frame's seq sets the source
	// port), so that the flows enter the map one after the other.
	for seq := range n {
		frame, err := netnstest.Frame(pair.B.MAC, pair.A.MAC, netnstest.ProtoUDP, uint16(seq), make([]byte, 10))
		if err != nil {
			t.Fatal(err)
		}
		if err := pair.SendFrames([][]byte{frame}); err != nil {
			t.Fatal(err)
		}
		waitDrops(t, m, uint64(seq+1))
	}
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	counts, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	var drops uint64
	for _, c := range counts {
		drops += c
	}
	flows, err := m.Flows()
	if err != nil {
		t.Fatal(err)
	}
	present := uint64(len(flows.Counts))
	t.Logf("%d flows: %d present, %d evicted, %d not stored", n, present, flows.Evicted, flows.Failed)
	switch {
	case drops != n:
		t.Errorf("counted %d drops, want %d: evictions must not change the counts", drops, n)
	case present > size:
		t.Errorf("%d flows present in a map of %d", present, size)
	case present+flows.Evicted+flows.Failed != n:
		t.Errorf("%d present + %d evicted + %d not stored != %d flows: some went unseen", present, flows.Evicted, flows.Failed, n)
	case flows.Evicted == 0:
		t.Errorf("no eviction counted for %d flows in a map of %d", n, size)
	}
}

// startDetails starts the details counter on the kernel engine, closed
// with the test; without the privilege the test skips.
func startDetails(t *testing.T, filter *dropdetails.Filter, maxFlows uint32, stacks bool) *monitor.Monitor {
	t.Helper()
	counter, err := monitor.DetailsCounter(filter, maxFlows, stacks)
	if err != nil {
		t.Fatal(err)
	}
	m, err := monitor.Start(monitor.Config{Engine: "kernel", Counter: counter})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// waitDrops waits up to five seconds for the monitor to count n drops.
func waitDrops(t *testing.T, m *monitor.Monitor, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		counts, err := m.Counts()
		if err != nil {
			t.Fatal(err)
		}
		var got uint64
		for _, c := range counts {
			got += c
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("counted %d drops in 5s, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closedUDPPort returns a bound UDP socket on 127.0.0.1, closed with the
// test, and a port there that no socket holds.
func closedUDPPort(t *testing.T) (*net.UDPConn, uint16) {
	return closedUDPPortOn(t, "udp4", net.IPv4(127, 0, 0, 1))
}

// closedUDPPort6 is closedUDPPort on ::1; it skips without IPv6.
func closedUDPPort6(t *testing.T) (*net.UDPConn, uint16) {
	return closedUDPPortOn(t, "udp6", net.IPv6loopback)
}

func closedUDPPortOn(t *testing.T, network string, ip net.IP) (*net.UDPConn, uint16) {
	t.Helper()
	probe, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		t.Skipf("skipping: no %s on %s: %v", network, ip, err)
	}
	port := uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	probe.Close()
	conn, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, port
}

// addressedPair is a veth pair in a namespace of the test's, whose B end
// has 192.0.2.2/24 (netnstest.Frame's destination), and the namespace's
// inode.
func addressedPair(t *testing.T) (*netnstest.Pair, uint64) {
	t.Helper()
	pair := netnstest.NewPair(t)
	if err := pair.AddAddress(pair.B, "192.0.2.2/24"); err != nil {
		t.Fatal(err)
	}
	inode, err := pair.NS.Inode()
	if err != nil {
		t.Fatal(err)
	}
	return pair, inode
}

func statInode(t *testing.T, path string) uint64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*syscall.Stat_t).Ino
}

// TestDetailsStacks runs the details program with call chains (--details
// --stacks): loopback drops are counted exactly, under chains that run
// through __udp4_lib_rcv, and with their flow.
func TestDetailsStacks(t *testing.T) {
	sender, closed := closedUDPPort(t)
	const n = 9
	m := startDetails(t, &dropdetails.Filter{Dst: netip.MustParsePrefix("127.0.0.1/32"), Port: closed}, 0, true)
	tab, err := symbolize.Load() // root, as the monitor
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := sender.WriteToUDP([]byte("stacks"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(closed)}); err != nil {
			t.Fatal(err)
		}
	}
	waitDrops(t, m, n)
	if err := m.Stop(); err != nil {
		t.Fatal(err)
	}
	counts, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	var drops, chained uint64
	for k, c := range counts {
		drops += c
		frames := k.Stack.Frames()
		for _, ip := range frames {
			if strings.HasPrefix(tab.Format(ip), "__udp4_lib_rcv+") {
				chained += c
				break
			}
		}
	}
	if drops != n || chained != n {
		t.Errorf("%d drops, %d of them with a chain through __udp4_lib_rcv; want %d and %d", drops, chained, n, n)
	}
	flows, err := m.Flows()
	if err != nil {
		t.Fatal(err)
	}
	var packets uint64
	for k, c := range flows.Counts {
		packets += c.Packets
		if k.Flow.Dport != closed || k.Flow.Ifname != "lo" {
			t.Errorf("flow %s", k.Flow)
		}
	}
	if packets != n || len(flows.Counts) != 1 {
		t.Errorf("%d flows of %d packets, want one of %d", len(flows.Counts), packets, n)
	}
}
