package netnstest_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/dropmon/dropmon/internal/netnstest"
)

// TestPair checks what NewPair promises: the interfaces exist only inside
// the namespace, are up with IPv6 off, stay silent, and carry exactly the
// frames Send sends.
func TestPair(t *testing.T) {
	p := netnstest.NewPair(t)

	if _, err := net.InterfaceByName(netnstest.NameA); err == nil {
		t.Fatalf("%s is visible outside the namespace", netnstest.NameA)
	}
	err := p.NS.Do(func() error {
		for _, l := range []netnstest.Link{p.A, p.B} {
			ifi, err := net.InterfaceByName(l.Name)
			if err != nil {
				return err
			}
			if ifi.Index != l.Index || ifi.HardwareAddr.String() != l.MAC.String() {
				return errors.New(l.Name + ": index or MAC differs from the Link")
			}
			if ifi.Flags&net.FlagUp == 0 {
				return errors.New(l.Name + " is down")
			}
			v, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv6/conf", l.Name, "disable_ipv6"))
			if err == nil && strings.TrimSpace(string(v)) != "1" {
				return errors.New(l.Name + ": IPv6 is on")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	h, err := netlink.NewHandleAt(netns.NsHandle(p.NS.FD()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	// Give the kernel a moment to send anything it would send on its
	// own when a link comes up, then check that it sent nothing.
	time.Sleep(200 * time.Millisecond)
	before := rxPackets(t, h, p.B.Name)
	if before != 0 {
		t.Errorf("%s received %d packets nobody sent", p.B.Name, before)
	}
	const tcp, udp = 5, 4
	if err := p.Send(tcp, udp, 10); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rxPackets(t, h, p.B.Name)-before < tcp+udp && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := rxPackets(t, h, p.B.Name) - before; got != tcp+udp {
		t.Errorf("%s received %d packets, want %d", p.B.Name, got, tcp+udp)
	}
}

func rxPackets(t *testing.T, h *netlink.Handle, name string) uint64 {
	t.Helper()
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l.Attrs().Statistics.RxPackets
}

func TestDoRestoresNamespace(t *testing.T) {
	p := netnstest.NewPair(t)
	outside, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var inside string
	if err := p.NS.Do(func() error {
		inside, err = os.Readlink("/proc/thread-self/ns/net")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inside == outside {
		t.Fatalf("Do ran in the caller's namespace %s", outside)
	}
	wantErr := errors.New("from fn")
	if err := p.NS.Do(func() error { return wantErr }); !errors.Is(err, wantErr) {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	// Many goroutines later, none runs in the test's namespace by accident.
	for range 20 {
		done := make(chan string)
		go func() {
			s, _ := os.Readlink("/proc/thread-self/ns/net")
			done <- s
		}()
		if s := <-done; s != outside {
			t.Fatalf("a goroutine ran in namespace %s after Do", s)
		}
	}
}
