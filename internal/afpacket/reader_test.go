package afpacket_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/afpacket"
	"github.com/dropmon/dropmon/internal/netnstest"
	"github.com/dropmon/dropmon/internal/testutil"
)

// openOn opens a Reader on the pair's end B, inside the namespace.
func openOn(t *testing.T, p *netnstest.Pair, opts *afpacket.Options) *afpacket.Reader {
	t.Helper()
	var r *afpacket.Reader
	err := p.NS.Do(func() (err error) {
		r, err = afpacket.Open(p.B.Name, opts)
		return err
	})
	testutil.Privileged(t, err)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// readN reads until n frames came, or 5 seconds passed.
func readN(t *testing.T, r *afpacket.Reader, n int, fn func(*afpacket.Frame)) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := 0
	for got < n {
		k, err := r.Read(ctx, fn)
		got += k
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// TestRead sends exactly 37 TCP and 23 UDP frames to B and checks that the
// ring gives exactly those, with the fields the kernel fills in.
func TestRead(t *testing.T) {
	p := netnstest.NewPair(t)
	r := openOn(t, p, &afpacket.Options{BlockSize: 1 << 16, Blocks: 4})
	const tcp, udp, payload = 37, 23, 50
	if err := p.Send(tcp, udp, payload); err != nil {
		t.Fatal(err)
	}
	byProto := map[byte]int{}
	var bad []string
	n := readN(t, r, tcp+udp, func(f *afpacket.Frame) {
		switch {
		case f.Protocol != 0x0800 || len(f.Data) < 34:
			bad = append(bad, "not IPv4")
		case f.PktType != unix.PACKET_HOST:
			bad = append(bad, "pkt_type not PACKET_HOST")
		case f.Ifindex != p.B.Index:
			bad = append(bad, "wrong ifindex")
		case f.Snaplen != f.Len || int(f.Len) != len(f.Data):
			bad = append(bad, "truncated")
		case f.Time().IsZero() || time.Since(f.Time()) > time.Minute:
			bad = append(bad, "bad time stamp")
		default:
			byProto[f.Data[14+9]]++
		}
	})
	if len(bad) > 0 {
		t.Errorf("bad frames: %v", bad)
	}
	if n != tcp+udp || byProto[netnstest.ProtoTCP] != tcp || byProto[netnstest.ProtoUDP] != udp {
		t.Errorf("read %d frames (TCP %d, UDP %d), want %d (TCP %d, UDP %d)",
			n, byProto[netnstest.ProtoTCP], byProto[netnstest.ProtoUDP], tcp+udp, tcp, udp)
	}
	st, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != tcp+udp || st.Drops != 0 {
		t.Errorf("Stats = %+v, want %d packets, no drops", st, tcp+udp)
	}
}

// TestDrops fills a one-page ring without reading it: what does not fit
// is counted as dropped, and frames read plus drops are all that was sent.
func TestDrops(t *testing.T) {
	p := netnstest.NewPair(t)
	r := openOn(t, p, &afpacket.Options{BlockSize: 4096, Blocks: 1, FrameSize: 2048})
	const sent = 100
	if err := p.Send(sent, 0, 0); err != nil {
		t.Fatal(err)
	}
	var st afpacket.Stats
	for deadline := time.Now().Add(5 * time.Second); st.Packets < sent && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		var err error
		if st, err = r.Stats(); err != nil {
			t.Fatal(err)
		}
	}
	if st.Packets != sent || st.Drops == 0 || st.FreezeQueueCount == 0 {
		t.Fatalf("Stats = %+v, want %d packets, some dropped, the queue frozen", st, sent)
	}
	n := readN(t, r, int(sent-st.Drops), func(*afpacket.Frame) {})
	if uint64(n)+st.Drops != sent {
		t.Errorf("read %d frames and %d were dropped, want %d in all", n, st.Drops, sent)
	}
	t.Logf("one-page ring: %d frames kept, %d dropped", n, st.Drops)
}

// TestReadEnds checks that a Read waiting on a silent interface returns
// when its context ends and when the Reader is closed, promptly.
func TestReadEnds(t *testing.T) {
	p := netnstest.NewPair(t)
	r := openOn(t, p, &afpacket.Options{BlockSize: 4096, Blocks: 2})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Read(ctx, func(*afpacket.Frame) {}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read with an ending context: %v, want %v", err, context.DeadlineExceeded)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Read took %s to notice its context ended", d)
	}

	done := make(chan error, 1)
	go func() {
		_, err := r.Read(context.Background(), func(*afpacket.Frame) {})
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, afpacket.ErrClosed) {
			t.Errorf("Read after Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting Read")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Stats(); err != nil {
		t.Errorf("Stats after Close: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	p := netnstest.NewPair(t)
	tests := []struct {
		name    string
		ifname  string
		opts    *afpacket.Options
		wantIs  error
		wantMsg string
	}{
		{name: "no such interface", ifname: "eth9", wantIs: afpacket.ErrNoInterface,
			wantMsg: "afpacket: open on eth9: no such interface"},
		{name: "name too long", ifname: "an-interface-name-too-long", wantIs: afpacket.ErrNoInterface},
		{name: "bad options", ifname: p.B.Name, opts: &afpacket.Options{BlockSize: 100},
			wantMsg: "afpacket: open on dmveth1: block size 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.NS.Do(func() error {
				r, err := afpacket.Open(tt.ifname, tt.opts)
				if err == nil {
					r.Close()
				}
				return err
			})
			testutil.Privileged(t, err)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not match %v", err, tt.wantIs)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("error %q, want it to start with %q", err, tt.wantMsg)
			}
		})
	}
}

// TestReadInterfaceGone removes the interface under a waiting Read, which
// must return the socket's error instead of waiting forever.
func TestReadInterfaceGone(t *testing.T) {
	p := netnstest.NewPair(t)
	r := openOn(t, p, &afpacket.Options{BlockSize: 4096, Blocks: 2})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for {
			if _, err := r.Read(ctx, func(*afpacket.Frame) {}); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	h, err := netlink.NewHandleAt(netns.NsHandle(p.NS.FD()))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName(p.B.Name)
	if err == nil {
		err = h.LinkDel(l)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, unix.ENETDOWN) {
		t.Errorf("Read on a removed interface: %v, want %v", err, unix.ENETDOWN)
	}
}
