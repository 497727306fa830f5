package recording

import (
	"strings"
	"testing"
	"time"

	"github.com/dropmon/dropmon/symbolize"
)

func TestMarkerRoundTrip(t *testing.T) {
	m := &Marker{Kind: KindReport, Wall: time.Unix(1764758400, 123456789), Clock: 987654321, CPUs: []int{0, 1, 3}, Lost: []uint64{0, 7, 1 << 40}}
	raw := m.encode()
	// The perf.data sample pads raw data to 8 bytes: padding is ignored.
	got, err := decodeMarker(append(raw, 0, 0, 0, 0), m.Clock)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != m.Kind || !got.Wall.Equal(m.Wall) || got.Clock != m.Clock || len(got.CPUs) != 3 || got.CPUs[2] != 3 || got.Lost[2] != 1<<40 {
		t.Errorf("got %+v, want %+v", got, m)
	}
	for name, bad := range map[string][]byte{
		"empty":      nil,
		"not magic":  []byte("dropmon2................"),
		"bad kind":   append(append([]byte{}, raw[:8]...), append([]byte{9, 0, 0, 0}, raw[12:]...)...),
		"cut":        raw[:len(raw)-1],
		"many cpus":  append(append([]byte{}, raw[:12]...), append([]byte{0xff, 0xff, 0, 0}, raw[16:]...)...),
		"just magic": raw[:8],
	} {
		if _, err := decodeMarker(bad, 0); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestKallsymsOf(t *testing.T) {
	tab, err := symbolize.Parse(strings.NewReader(
		"ffffffff81000000 T _text\n" +
			"ffffffff81a3c000 t __udp4_lib_rcv\n" +
			"ffffffff81a3d000 t udp_rcv\n" +
			"ffffffff81b00000 T ip_rcv\n" +
			"ffffffffc0a00000 t veth_xmit\t[veth]\n" +
			"ffffffffc0a00100 t veth_poll\t[veth]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(KallsymsOf([]uint64{0xffffffff81a3c4bc, 0xffffffffc0a00042, 0xffffffff81a3c001, 1}, tab))
	want := "ffffffff81a3c000 t __udp4_lib_rcv\n" +
		"ffffffff81a3d000 t udp_rcv\n" +
		"ffffffffc0a00000 t veth_xmit\t[veth]\n" +
		"ffffffffc0a00100 t veth_poll\t[veth]\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// What it wrote reads back and names the same addresses.
	back, err := symbolize.Parse(strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if s := back.Format(0xffffffffc0a00042); s != "veth_xmit+0x42 [veth]" {
		t.Errorf("read back: %s", s)
	}
}
