package testutil

import (
	"net"
	"testing"
)

// SendToClosedPort sends n UDP datagrams from this process to a port on
// 127.0.0.1 where nothing listens, and so makes n drops: the kernel frees
// each with reason NO_SOCKET in __udp4_lib_rcv, in the softirq that the
// send itself runs, so the perf sample's pid is this process. The socket is
// unconnected, so the ICMP port-unreachable answers fail no later send.
func SendToClosedPort(t testing.TB, n int) {
	t.Helper()
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
