package netnstest

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/testutil"
)

// Link is one end of the veth pair, as seen inside the namespace.
type Link struct {
	Name  string
	Index int
	MAC   net.HardwareAddr
}

// Pair is a namespace holding a veth pair: frames sent out of A arrive
// on B, and the other way round. Both ends are up, with IPv6 and the
// offloads (GRO, GSO, TSO, tx checksumming) off and no addresses, so that
// the kernel sends nothing of its own on them: what arrives is what the
// test sent.
type Pair struct {
	NS   *Namespace
	A, B Link
}

// Fixed, locally administered addresses (the 0x02 bit of the first byte),
// so that frames and failures read the same in every run.
var (
	macA = net.HardwareAddr{0x02, 0xd0, 0x00, 0x00, 0x00, 0x0a}
	macB = net.HardwareAddr{0x02, 0xd0, 0x00, 0x00, 0x00, 0x0b}
)

// Names of the pair's ends inside the namespace.
const (
	NameA = "dmveth0"
	NameB = "dmveth1"
)

// NewPair creates a namespace with a veth pair for the test and removes
// both when the test ends. It skips the test when the process lacks the
// privilege (or fails it when DROPMON_REQUIRE_PRIVILEGED=1), and fails it
// on any other error.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	p, err := CreatePair()
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("remove veth pair: %v", err)
		}
	})
	return p
}

// CreatePair is NewPair without a test: the caller closes the pair.
// Permission errors wrap os.ErrPermission.
func CreatePair() (_ *Pair, err error) {
	ns, err := NewNamespace()
	if err != nil {
		return nil, err
	}
	p := &Pair{NS: ns}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	// New interfaces take their IPv6 setting from "default": with it off
	// first, the veths never send router solicitations or MLD reports.
	if err := ns.Do(func() error { return disableIPv6("default") }); err != nil {
		return nil, err
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(ns.FD()))
	if err != nil {
		return nil, fmt.Errorf("netns: netlink handle: %w", err)
	}
	defer h.Close()
	veth := &netlink.Veth{
		LinkAttrs:        netlink.LinkAttrs{Name: NameA, HardwareAddr: macA},
		PeerName:         NameB,
		PeerHardwareAddr: macB,
	}
	if err := h.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("netns: add veth pair %s/%s: %w", NameA, NameB, err)
	}
	if p.A, err = lookup(h, NameA); err != nil {
		return nil, err
	}
	if p.B, err = lookup(h, NameB); err != nil {
		return nil, err
	}
	if err := ns.Do(func() error { return errors.Join(quiet(NameA), quiet(NameB)) }); err != nil {
		return nil, err
	}
	for _, name := range []string{NameA, NameB} {
		l, err := h.LinkByName(name)
		if err == nil {
			err = h.LinkSetUp(l)
		}
		if err != nil {
			return nil, fmt.Errorf("netns: set %s up: %w", name, err)
		}
	}
	return p, nil
}

func lookup(h *netlink.Handle, name string) (Link, error) {
	l, err := h.LinkByName(name)
	if err != nil {
		return Link{}, fmt.Errorf("netns: find %s: %w", name, err)
	}
	a := l.Attrs()
	return Link{Name: a.Name, Index: a.Index, MAC: a.HardwareAddr}, nil
}

// quiet turns IPv6 and the offloads off on the interface name; it runs
// inside the namespace.
func quiet(name string) error {
	if err := disableIPv6(name); err != nil {
		return err
	}
	return disableOffloads(name)
}

// Close removes the namespace and, with it, the pair.
func (p *Pair) Close() error {
	return p.NS.Close()
}

// AddAddress gives one end of the pair an IPv4 address and prefix, such
// as "192.0.2.2/24", so that the namespace's stack takes the frames sent to
// it: a UDP datagram to a closed port is then dropped there (NO_SOCKET).
func (p *Pair) AddAddress(link Link, cidr string) error {
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		return fmt.Errorf("netns: address %q: %w", cidr, err)
	}
	h, err := netlink.NewHandleAt(netns.NsHandle(p.NS.FD()))
	if err != nil {
		return fmt.Errorf("netns: netlink handle: %w", err)
	}
	defer h.Close()
	l, err := h.LinkByIndex(link.Index)
	if err == nil {
		err = h.AddrAdd(l, addr)
	}
	if err != nil {
		return fmt.Errorf("netns: add %s to %s: %w", cidr, link.Name, err)
	}
	return nil
}

// Inode returns the inode of the namespace: what /proc/PID/ns/net links to
// (net:[INODE]) and what the kernel's struct net ns.inum holds.
func (ns *Namespace) Inode() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(ns.fd, &st); err != nil {
		return 0, fmt.Errorf("netns: stat: %w", err)
	}
	return st.Ino, nil
}
