package dropdetails

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/tracepoint"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "10.1.2.3", want: "10.1.2.3/32"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "fd00::1", want: "fd00::1/128"},
		{in: "fd00::1/64", want: "fd00::/64"},
		{in: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{in: "10.0.0.0/33", err: "want an address or ADDR/PREFIX"},
		{in: "1.2.3", err: "want an address or ADDR/PREFIX"},
		{in: "", err: "want an address"},
	}
	for _, tt := range tests {
		p, err := ParsePrefix(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePrefix(%q) = %v, %v; want error %q", tt.in, p, err, tt.err)
			}
		case err != nil || p.String() != tt.want:
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

func TestParseNetns(t *testing.T) {
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		t.Skipf("skipping: no /proc/self/ns/net: %v", err)
	}
	want, err := ParseNetns("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	link, err := os.Readlink("/proc/self/ns/net") // net:[INODE]
	if err != nil {
		t.Fatal(err)
	}
	if link != "net:["+strconv.FormatUint(uint64(want), 10)+"]" {
		t.Errorf("ParseNetns(/proc/self/ns/net) = %d, link says %s", want, link)
	}
	plain := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for in, wantErr := range map[string]string{
		"4026531840": "",
		"0":          "not 0",
		"netns":      "want an inode number",
		"-1":         "want an inode number",
		plain:        "not a namespace file",
		"/no/such":   "no such file",
	} {
		_, err := ParseNetns(in)
		if (wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("ParseNetns(%q): %v, want error %q", in, err, wantErr)
		}
	}
}

// TestEncode checks the configuration's layout, as the C program reads it.
func TestEncode(t *testing.T) {
	f := &Filter{Netns: 7, Ifname: "veth0", Src: netip.MustParsePrefix("10.1.0.0/16"), Dst: netip.MustParsePrefix("fd00::/12"), Port: 53}
	b := f.encode()
	ne := binary.NativeEndian
	if len(b) != ConfigSize {
		t.Fatalf("%d bytes, want %d", len(b), ConfigSize)
	}
	if got := ne.Uint32(b[0:]); got != filterNetns|filterIfname|filterSrc|filterDst|filterPort {
		t.Errorf("flags %#x", got)
	}
	if ne.Uint32(b[4:]) != 7 || string(b[8:13]) != "veth0" || b[13] != 0 || ne.Uint16(b[88:]) != 53 {
		t.Errorf("netns, ifname or port wrong: % x", b)
	}
	src := netip.AddrFrom16([16]byte(b[24:40]))
	if src != netip.MustParseAddr("::ffff:10.1.0.0") {
		t.Errorf("src %s, want IPv4-mapped 10.1.0.0", src)
	}
	// /16 of IPv4 is /112 of the mapped address: 14 bytes of ones.
	wantMask := append(bytesOf(0xff, 14), 0, 0)
	if string(b[40:56]) != string(wantMask) {
		t.Errorf("src mask % x, want % x", b[40:56], wantMask)
	}
	wantMask = append([]byte{0xff, 0xf0}, bytesOf(0, 14)...)
	if string(b[72:88]) != string(wantMask) {
		t.Errorf("dst mask % x, want % x", b[72:88], wantMask)
	}
	if got := (*Filter)(nil).encode(); string(got) != string(make([]byte, ConfigSize)) {
		t.Errorf("nil filter encodes to % x", got)
	}
	if err := (&Filter{Ifname: "a-very-long-name"}).Check(); err == nil {
		t.Error("16-byte interface name accepted")
	}
}

func bytesOf(v byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = v
	}
	return b
}

func TestDecodeFlow(t *testing.T) {
	ne := binary.NativeEndian
	key := make([]byte, FlowKeySize)
	ne.PutUint64(key[0:], 0xffffffff81000000)
	ne.PutUint32(key[8:], 3)
	ne.PutUint32(key[12:], 4026531840)
	ne.PutUint32(key[16:], 2)
	ne.PutUint32(key[20:], 0x10)
	key[34], key[35] = 0xff, 0xff
	copy(key[36:40], []byte{10, 0, 0, 1})
	key[50], key[51] = 0xff, 0xff
	copy(key[52:56], []byte{10, 0, 0, 2})
	ne.PutUint16(key[56:], 5000)
	ne.PutUint16(key[58:], 53)
	ne.PutUint16(key[60:], 0x0800)
	key[62], key[63] = 17, NetnsDevice
	k, err := DecodeFlowKey(key)
	if err != nil {
		t.Fatal(err)
	}
	want := FlowKey{Location: 0xffffffff81000000, Reason: 3, Netns: 4026531840, Ifindex: 2, Mark: 0x10,
		Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Sport: 5000, Dport: 53,
		L3Proto: 0x0800, L4Proto: 17, NetnsFrom: NetnsDevice}
	if k != want {
		t.Errorf("got %+v\nwant %+v", k, want)
	}
	// An ARP packet: no addresses.
	arp := make([]byte, FlowKeySize)
	ne.PutUint16(arp[60:], 0x0806)
	if k, _ := DecodeFlowKey(arp); k.Src.IsValid() || k.Dst.IsValid() {
		t.Errorf("ARP key has addresses: %+v", k)
	}
	// IPv4 whose header could not be read: not mapped, no addresses.
	ip4 := make([]byte, FlowKeySize)
	ne.PutUint16(ip4[60:], 0x0800)
	if k, _ := DecodeFlowKey(ip4); k.Src.IsValid() {
		t.Errorf("unread IPv4 header has addresses: %+v", k)
	}
	if _, err := DecodeFlowKey(key[:10]); err == nil {
		t.Error("short key accepted")
	}
	value := make([]byte, FlowValueSize)
	ne.PutUint64(value[0:], 3)
	ne.PutUint64(value[8:], 300)
	ne.PutUint32(value[16:], 100)
	copy(value[24:], "eth0")
	v, err := DecodeFlowValue(value)
	if err != nil || v != (FlowValue{Packets: 3, Bytes: 300, Len: 100, Ifname: "eth0"}) {
		t.Errorf("DecodeFlowValue = %+v, %v", v, err)
	}
	if _, err := DecodeFlowValue(value[:39]); err == nil {
		t.Error("short value accepted")
	}
	if got := (Stats{Inserted: 10}).Evicted(4); got != 6 {
		t.Errorf("Evicted = %d, want 6", got)
	}
}

// TestNoBTF checks the message on a kernel without BTF.
func TestNoBTF(t *testing.T) {
	old := btfPath
	btfPath = filepath.Join(t.TempDir(), "vmlinux")
	defer func() { btfPath = old }()
	format := &tracepoint.Format{Group: "skb", Name: "kfree_skb"}
	_, err := Program(format, nil, Options{})
	if !errors.Is(err, ErrNoBTF) || !strings.Contains(err.Error(), "CONFIG_DEBUG_INFO_BTF") {
		t.Errorf("err = %v, want ErrNoBTF", err)
	}
}
