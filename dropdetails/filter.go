package dropdetails

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Filter keeps only the drops it matches; the zero value (or nil) keeps
// every drop. The program applies it in the kernel, before counting.
type Filter struct {
	// Netns is the inode of a network namespace (ParseNetns); 0 means any.
	// A drop whose namespace the program could not find does not match.
	Netns uint32
	// Ifname is the name of the skb's device, as the drop's own namespace
	// names it; "" means any.
	Ifname string
	// Src and Dst are prefixes the packet's IP source and destination must
	// be in; the zero Prefix means any. Packets without an IP header the
	// program can read do not match a set one.
	Src, Dst netip.Prefix
	// Port is a TCP or UDP port, source or destination; 0 means any.
	Port uint16
}

// Empty reports whether the filter keeps every drop.
func (f *Filter) Empty() bool {
	return f == nil || *f == Filter{}
}

// Filter flags of struct details_config.
const (
	filterNetns  = 1 << 0
	filterIfname = 1 << 1
	filterSrc    = 1 << 2
	filterDst    = 1 << 3
	filterPort   = 1 << 4
)

// ifnameMax is IFNAMSIZ: 15 bytes and the terminating NUL.
const ifnameMax = 16

// Check reports what is wrong with the filter.
func (f *Filter) Check() error {
	if f == nil {
		return nil
	}
	if len(f.Ifname) >= ifnameMax || strings.ContainsRune(f.Ifname, 0) {
		return fmt.Errorf("interface name %q: at most %d bytes, no NUL", f.Ifname, ifnameMax-1)
	}
	return nil
}

// encode lays the filter out as struct details_config.
func (f *Filter) encode() []byte {
	b := make([]byte, ConfigSize)
	if f.Empty() {
		return b
	}
	ne := binary.NativeEndian
	var flags uint32
	if f.Netns != 0 {
		flags |= filterNetns
		ne.PutUint32(b[4:], f.Netns)
	}
	if f.Ifname != "" {
		flags |= filterIfname
		copy(b[8:24], f.Ifname)
	}
	if f.Src.IsValid() {
		flags |= filterSrc
		putPrefix(b[24:56], f.Src)
	}
	if f.Dst.IsValid() {
		flags |= filterDst
		putPrefix(b[56:88], f.Dst)
	}
	if f.Port != 0 {
		flags |= filterPort
		ne.PutUint16(b[88:], f.Port)
	}
	ne.PutUint32(b[0:], flags)
	return b
}

// putPrefix writes a prefix as the program compares it: the network's 16
// bytes, then the mask's; IPv4 as IPv4-mapped, as the keys hold it.
func putPrefix(b []byte, p netip.Prefix) {
	p = p.Masked()
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4() {
		addr, bits = netip.AddrFrom16(addr.As16()), bits+96
	}
	a := addr.As16()
	copy(b[:16], a[:])
	for i := range 16 {
		switch {
		case bits >= 8:
			b[16+i] = 0xff
			bits -= 8
		case bits > 0:
			b[16+i] = byte(0xff << (8 - bits))
			bits = 0
		}
	}
}

// ParsePrefix parses --src and --dst: an address or a prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q: want an address or ADDR/PREFIX such as 10.0.0.0/8 or fd00::/64", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: want an address or ADDR/PREFIX such as 10.0.0.0/8 or fd00::/64", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseNetns parses --netns: a namespace's inode number, or the path of a
// namespace file (/proc/PID/ns/net, /var/run/netns/NAME, which ip netns
// add bind-mounts), whose inode it reads.
func ParseNetns(s string) (uint32, error) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		if n == 0 {
			return 0, fmt.Errorf("%q: namespace inodes are not 0", s)
		}
		return uint32(n), nil
	}
	if !strings.Contains(s, "/") {
		return 0, fmt.Errorf("%q: want an inode number (lsns -t net) or a path such as /var/run/netns/NAME or /proc/PID/ns/net", s)
	}
	info, err := os.Stat(s)
	if err != nil {
		return 0, fmt.Errorf("network namespace %s: %w", s, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || st.Ino == 0 || st.Ino > 1<<32-1 {
		return 0, fmt.Errorf("network namespace %s: no inode", s)
	}
	// nsfs files are namespaces; any other file's inode would match none.
	if !isNsfs(s) {
		return 0, fmt.Errorf("%s is not a namespace file (want /proc/PID/ns/net or a bind mount of one, such as /var/run/netns/NAME)", s)
	}
	return uint32(st.Ino), nil
}
