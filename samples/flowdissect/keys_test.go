package flowdissect

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestKeysRoundTrip checks that Decode then Encode gives back any 56 bytes.
func TestKeysRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		var in, out [KeysSize]byte
		for i := range in {
			in[i] = byte(r.Uint32())
		}
		var k Keys
		k.Decode(&in)
		k.Encode(&out)
		if in != out {
			t.Fatalf("in  % x\nout % x", in, out)
		}
	}
}

// TestKeysByteOrder checks which fields are kept in network order.
func TestKeysByteOrder(t *testing.T) {
	k := Keys{Nhoff: 0x0102, NProto: 0x0800, Sport: 0x1234, Dport: 80, FlowLabel: 0xabcde, Flags: 1}
	var b [KeysSize]byte
	k.Encode(&b)
	for _, tc := range []struct {
		name string
		off  int
		want []byte
	}{
		{"nhoff (host)", OffNhoff, []byte{0x02, 0x01}},
		{"n_proto (network)", OffNProto, []byte{0x08, 0x00}},
		{"sport (network)", OffSport, []byte{0x12, 0x34}},
		{"dport (network)", OffDport, []byte{0x00, 0x50}},
		{"flags (host)", OffFlags, []byte{1, 0, 0, 0}},
		{"flow_label (network)", OffFlowLabel, []byte{0, 0x0a, 0xbc, 0xde}},
	} {
		if got := b[tc.off : tc.off+len(tc.want)]; string(got) != string(tc.want) {
			t.Errorf("%s: % x, want % x", tc.name, got, tc.want)
		}
	}
}

func TestKeysString(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{
		{"ipv4/tcp", "nhoff=14 thoff=34 n_proto=0x0800 tcp 10.0.0.1:40000 > 10.0.0.2:80"},
		{"ipv6/first-fragment/udp", "nhoff=14 thoff=62 n_proto=0x86dd udp [2001:db8::1]:11 > [2001:db8::2]:12 frag=1 first=1"},
		{"arp", "nhoff=14 thoff=14 n_proto=0x0806"},
	} {
		var k Keys
		Dissect(corpusFrame(t, tc.name), &k)
		if got := k.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if v := Verdict(7).String(); !strings.Contains(v, "7") {
		t.Errorf("Verdict(7) = %q", v)
	}
}
