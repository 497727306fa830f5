package netnstest

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"
)

func TestChecksum(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want uint16
	}{
		// The IPv4 header of the Wikipedia article "Internet checksum",
		// its checksum field zero.
		{name: "ipv4 header", in: []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}, want: 0xb861},
		// RFC 1071 section 3's example: sum 0xddf2, complemented.
		{name: "rfc 1071", in: []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, want: ^uint16(0xddf2)},
		{name: "odd length pads with zero", in: []byte{0x01}, want: ^uint16(0x0100)},
		{name: "empty", in: nil, want: 0xffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Checksum(0, tt.in); got != tt.want {
				t.Errorf("Checksum = %#04x, want %#04x", got, tt.want)
			}
		})
	}
}

func TestFrame(t *testing.T) {
	dst, src := net.HardwareAddr{2, 0, 0, 0, 0, 2}, net.HardwareAddr{2, 0, 0, 0, 0, 1}
	tests := []struct {
		name    string
		proto   uint8
		payload int
		wantLen int
	}{
		{name: "tcp syn", proto: ProtoTCP, payload: 0, wantLen: 14 + 20 + 20},
		{name: "tcp with payload", proto: ProtoTCP, payload: 33, wantLen: 14 + 20 + 20 + 33},
		{name: "udp", proto: ProtoUDP, payload: 0, wantLen: 14 + 20 + 8},
		{name: "udp odd payload", proto: ProtoUDP, payload: 101, wantLen: 14 + 20 + 8 + 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(strings.Repeat("x", tt.payload))
			f, err := Frame(dst, src, tt.proto, 7, payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(f) != tt.wantLen {
				t.Fatalf("frame of %d bytes, want %d", len(f), tt.wantLen)
			}
			if got := net.HardwareAddr(f[0:6]); got.String() != dst.String() {
				t.Errorf("destination %v, want %v", got, dst)
			}
			if et := binary.BigEndian.Uint16(f[12:]); et != 0x0800 {
				t.Errorf("EtherType %#04x, want 0x0800", et)
			}
			ip := f[14:]
			if ip[9] != tt.proto {
				t.Errorf("protocol %d, want %d", ip[9], tt.proto)
			}
			if got := int(binary.BigEndian.Uint16(ip[2:])); got != len(ip) {
				t.Errorf("IPv4 total length %d, want %d", got, len(ip))
			}
			// A header with its checksum in place sums to zero.
			if c := Checksum(0, ip[:20]); c != 0 {
				t.Errorf("IPv4 header checksum does not verify (%#04x)", c)
			}
			pseudo := append(append([]byte{}, ip[12:20]...), 0, tt.proto, 0, 0)
			binary.BigEndian.PutUint16(pseudo[10:], uint16(len(ip)-20))
			if c := Checksum(sum(0, pseudo), ip[20:]); c != 0 {
				t.Errorf("transport checksum does not verify (%#04x)", c)
			}
		})
	}
}

func TestFrameErrors(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	tests := []struct {
		name     string
		dst      net.HardwareAddr
		proto    uint8
		payload  int
		wantErrs string
	}{
		{name: "icmp", dst: mac, proto: 1, wantErrs: "protocol 1"},
		{name: "short mac", dst: mac[:3], proto: ProtoUDP, wantErrs: "want 6 bytes"},
		{name: "jumbo payload", dst: mac, proto: ProtoUDP, payload: 1500, wantErrs: "does not fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Frame(tt.dst, mac, tt.proto, 0, make([]byte, tt.payload))
			if err == nil || !strings.Contains(err.Error(), tt.wantErrs) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErrs)
			}
		})
	}
}

func BenchmarkChecksum(b *testing.B) {
	buf := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		Checksum(0, buf)
	}
}
