package testutil

import (
	"net"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/snmp"
)

// SendToClosedPort sends n UDP datagrams from this process to a port on
// 127.0.0.1 where nothing listens, and so makes n drops: the kernel frees
// each with reason NO_SOCKET in __udp4_lib_rcv, in the softirq that the
// send itself runs, so the perf sample's pid is mostly this process. The socket is
// unconnected, so the ICMP port-unreachable answers fail no later send.
//
// The softirq may also run later, in ksoftirqd, when the machine is busy
// (tests of several packages run at once), so SendToClosedPort returns only
// once the kernel's Udp NoPorts counter has grown by n: the drops have been
// made, and their records written. It waits at most 10 seconds.
func SendToClosedPort(t testing.TB, n int) {
	t.Helper()
	before, snmpErr := snmp.ReadNoPorts(snmp.Path)
	defer func() {
		if snmpErr == nil {
			waitForNoPorts(t, before, n)
		}
	}()
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	closed := probe.LocalAddr().(*net.UDPAddr)
	probe.Close()

	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := []byte("dropmon test datagram")
	for i := 0; i < n; i++ {
		if _, err := conn.WriteToUDP(payload, closed); err != nil {
			t.Fatalf("send datagram %d: %v", i, err)
		}
	}
}

// waitForNoPorts waits until Udp NoPorts has grown by n since before, for
// at most 10 seconds, and then a moment more: the counter grows just before
// the packet is freed (__udp4_lib_rcv), and with it the tracepoint fires.
func waitForNoPorts(t testing.TB, before uint64, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now, err := snmp.ReadNoPorts(snmp.Path)
		if err != nil {
			t.Fatal(err)
		}
		if now-before >= uint64(n) {
			time.Sleep(10 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kernel counted %d of %d datagrams to a closed port within 10s", now-before, n)
		}
		time.Sleep(time.Millisecond)
	}
}
