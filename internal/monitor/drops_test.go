package monitor_test

import (
	"bufio"
	"encoding/binary"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/testutil"
)

// Three kinds of drops the filter tests make, each of them exactly n times
// and each told apart from the others by the drop counter's key and by the
// record's protocol:
//
//	udp4:    UDP to a closed port on 127.0.0.1: NO_SOCKET in __udp4_lib_rcv, IPv4
//	udp6:    UDP to a closed port on ::1: NO_SOCKET in __udp6_lib_rcv, IPv6
//	noproto: IPv4 to 127.0.0.1 with an IP protocol nobody handles (253, for
//	         experiments, RFC 3692): IP_NOPROTO in ip_protocol_deliver_rcu, IPv4
//
// Each waits until the kernel's own counter of that drop has grown by n, so
// the records have been written when it returns.

// sendUDP6ToClosedPort is testutil.SendToClosedPort over IPv6's loopback.
func sendUDP6ToClosedPort(t *testing.T, n int) {
	t.Helper()
	before := snmpCounter(t, "/proc/net/snmp6", "Udp6", "NoPorts")
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("skipping: no IPv6 on loopback: %v", err)
	}
	closed := probe.LocalAddr().(*net.UDPAddr)
	probe.Close()
	conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range n {
		if _, err := conn.WriteToUDP([]byte("dropmon test datagram"), closed); err != nil {
			t.Fatalf("send datagram %d: %v", i, err)
		}
	}
	waitCounter(t, "/proc/net/snmp6", "Udp6", "NoPorts", before, n)
}

// sendNoProto sends n IPv4 packets of protocol 253 to 127.0.0.1 from a
// send-only raw socket (IPPROTO_RAW, which receives nothing).
func sendNoProto(t *testing.T, n int) {
	t.Helper()
	before := snmpCounter(t, "/proc/net/snmp", "Ip", "InUnknownProtos")
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	pkt := make([]byte, 20+8)
	pkt[0] = 0x45 // IPv4, 5 words of header
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	pkt[8] = 64  // TTL
	pkt[9] = 253 // protocol
	copy(pkt[12:], []byte{127, 0, 0, 1})
	copy(pkt[16:], []byte{127, 0, 0, 1})
	// The kernel fills in the checksum (and the id, left 0) of a
	// header-included packet (raw_send_hdrinc).
	to := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	for i := range n {
		if err := unix.Sendto(fd, pkt, 0, to); err != nil {
			t.Fatalf("send packet %d: %v", i, err)
		}
	}
	waitCounter(t, "/proc/net/snmp", "Ip", "InUnknownProtos", before, n)
}

// snmpCounter reads one counter of /proc/net/snmp ("Ip: a b" then
// "Ip: 1 2") or /proc/net/snmp6 ("Udp6NoPorts 3").
func snmpCounter(t *testing.T, path, proto, name string) uint64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 2 && fields[0] == proto+name:
			return parseCounter(t, fields[1])
		case len(fields) > 1 && fields[0] == proto+":" && header == nil:
			header = fields
		case len(fields) == len(header) && fields[0] == proto+":":
			for i, h := range header {
				if h == name {
					return parseCounter(t, fields[i])
				}
			}
		}
	}
	t.Fatalf("%s has no %s %s", path, proto, name)
	return 0
}

func parseCounter(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitCounter waits, at most 10 seconds, until the counter has grown by n
// since before, and then a moment more: the counters grow just before the
// packet is freed.
func waitCounter(t *testing.T, path, proto, name string, before uint64, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := snmpCounter(t, path, proto, name)
		if now-before >= uint64(n) {
			time.Sleep(10 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kernel counted %d of %d drops (%s %s) within 10s", now-before, n, proto, name)
		}
		time.Sleep(time.Millisecond)
	}
}
