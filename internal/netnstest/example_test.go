package netnstest_test

import (
	"encoding/binary"
	"fmt"
	"net"

	"github.com/dropmon/dropmon/internal/netnstest"
)

// Build the UDP frame Send would send, and check its IPv4 header: a header
// with its checksum in place sums to zero.
func ExampleFrame() {
	dst := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	src := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	f, err := netnstest.Frame(dst, src, netnstest.ProtoUDP, 1, []byte("hello"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ip := f[14:]
	fmt.Printf("%d bytes, EtherType %#04x, protocol %d, header checksum verifies: %v\n",
		len(f), binary.BigEndian.Uint16(f[12:]), ip[9], netnstest.Checksum(0, ip[:20]) == 0)
	// Output: 47 bytes, EtherType 0x0800, protocol 17, header checksum verifies: true
}
