package flowdissect

import (
	"errors"
	"net/netip"
	"testing"
)

func corpusFrame(tb testing.TB, name string) []byte {
	tb.Helper()
	for _, p := range Corpus() {
		if p.Name == name {
			return p.Frame
		}
	}
	tb.Fatalf("no corpus packet %q", name)
	return nil
}

// TestDissect checks Dissect's keys field by field on frames worked out by
// hand.
func TestDissect(t *testing.T) {
	a4 := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	addrs6 := func(k *Keys) {
		k.AddrProto = EthPIPv6
		copy(k.Addrs[:16], srcV6[:])
		copy(k.Addrs[16:], dstV6[:])
	}
	addrs4 := func(k *Keys) {
		k.AddrProto = EthPIPv4
		copy(k.Addrs[:4], srcV4[:])
		copy(k.Addrs[4:8], dstV4[:])
	}
	for _, tc := range []struct {
		name string
		want Verdict
		keys func(k *Keys)
	}{
		{"ipv4/tcp", OK, func(k *Keys) {
			addrs4(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 14, 34, EthPIPv4, 6, 40000, 80
		}},
		{"ipv4/options-40/tcp", OK, func(k *Keys) {
			addrs4(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 14, 74, EthPIPv4, 6, 1234, 5678
		}},
		{"qinq/ipv4/udp", OK, func(k *Keys) {
			addrs4(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 22, 42, EthPIPv4, 17, 4789, 4789
		}},
		{"ipv4/first-fragment/udp", OK, func(k *Keys) {
			addrs4(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 14, 34, EthPIPv4, 17, 7, 9
			k.IsFrag, k.IsFirstFrag = 1, 1
		}},
		{"ipv4/later-fragment", OK, func(k *Keys) {
			addrs4(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto = 14, 34, EthPIPv4, 17
			k.IsFrag = 1
		}},
		{"ipv6/udp-flow-label", OK, func(k *Keys) {
			addrs6(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 14, 54, EthPIPv6, 17, 1000, 2000
			k.FlowLabel = 0xabcde
		}},
		{"ipv6/chain-4/udp", OK, func(k *Keys) {
			addrs6(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 14, 14+40+4*8, EthPIPv6, 17, 3, 4
			k.IsFrag, k.IsFirstFrag = 1, 1
		}},
		{"ipv6/ext-255-units/udp", OK, func(k *Keys) {
			addrs6(k)
			k.Nhoff, k.Thoff, k.NProto, k.IPProto, k.Sport, k.Dport = 14, 14+40+2048, EthPIPv6, 17, 1, 2
		}},
		{"vlan/ipv6/icmpv6/cut-at-61", Drop, func(k *Keys) {
			// Dropped in ICMPv6: the addresses and flow label stay behind.
			addrs6(k)
			k.AddrProto = 0
			k.Nhoff, k.Thoff, k.NProto, k.FlowLabel = 14, 14, ethP8021Q, 1
		}},
		{"ipv4/ihl-4", Drop, func(k *Keys) {
			k.Nhoff, k.Thoff, k.NProto = 14, 14, EthPIPv4
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got, want Keys
			tc.keys(&want)
			v, err := Dissect(corpusFrame(t, tc.name), &got)
			if err != nil || v != tc.want || got != want {
				t.Errorf("got %v %v %s\nwant %v %s", v, err, &got, tc.want, &want)
			}
			if v == OK && want.AddrProto == EthPIPv4 && (got.Src() != a4("10.0.0.1") || got.Dst() != a4("10.0.0.2")) {
				t.Errorf("addresses %v > %v", got.Src(), got.Dst())
			}
		})
	}
}

// TestDissectShortFrame checks the refusal of frames the test run refuses.
func TestDissectShortFrame(t *testing.T) {
	for _, n := range []int{0, 1, 13} {
		var k Keys
		if _, err := Dissect(make([]byte, n), &k); !errors.Is(err, ErrShortFrame) {
			t.Errorf("%d bytes: error %v, want ErrShortFrame", n, err)
		}
	}
}

// TestCorpusVerdicts checks that Dissect gives each corpus packet the
// verdict it was built for, so that the corpus covers what it says it does.
func TestCorpusVerdicts(t *testing.T) {
	seen := map[Verdict]int{}
	for _, p := range Corpus() {
		var k Keys
		v, err := Dissect(p.Frame, &k)
		if err != nil && len(p.Frame) >= EthHlen {
			t.Errorf("%s: %v", p.Name, err)
		}
		if v != p.Want {
			t.Errorf("%s: %v, want %v (%s)", p.Name, v, p.Want, &k)
		}
		seen[v]++
	}
	if seen[OK] < 30 || seen[Drop] < 100 {
		t.Errorf("verdicts %v: the corpus lost cases", seen)
	}
}

func TestDissectAllocs(t *testing.T) {
	frame := corpusFrame(t, "ipv6/chain-4/udp")
	var k Keys
	if n := testing.AllocsPerRun(100, func() { Dissect(frame, &k) }); n != 0 {
		t.Errorf("Dissect allocates %v times per frame", n)
	}
}
