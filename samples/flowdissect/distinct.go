package flowdissect

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Distinct returns n different frames, the same on every call: a mix of
// IPv4 and IPv6, TCP, UDP and ICMP, a few with VLAN tags, IP options,
// extension headers or fragments, each with its own addresses and ports and
// 0 to 96 bytes of payload (zeros). The frames sit one after the other in a
// single buffer, so that walking them in order walks memory in order.
func Distinct(n int) [][]byte {
	return distinct(n, 0)
}

// DistinctSpanning returns as many of Distinct's frames as it takes for
// their bytes to add up to at least size.
func DistinctSpanning(size int) [][]byte {
	return distinct(-1, size)
}

// maxDistinctFrame bounds appendDistinct's frames: a QinQ or hop-by-hop
// IPv6 UDP frame, 166 bytes with the largest payload.
const maxDistinctFrame = 176

// distinct makes n frames, or frames of size bytes when n < 0.
func distinct(n, size int) [][]byte {
	capacity := size + maxDistinctFrame
	if n >= 0 {
		capacity = n * maxDistinctFrame
	}
	buf := make([]byte, 0, capacity)
	var frames [][]byte
	r := rand.New(rand.NewPCG(0x666c6f77, 0x64697373)) // "flow", "diss"
	for i := 0; n < 0 && len(buf) < size || i < n; i++ {
		start := len(buf)
		buf = appendDistinct(buf, r, i)
		if cap(buf) != capacity {
			panic("BUG: distinct frames outgrew their buffer")
		}
		frames = append(frames, buf[start:len(buf):len(buf)])
	}
	return frames
}

// appendDistinct appends the i-th distinct frame: the kind by a roll of
// 100, addresses and ports from i and r.
func appendDistinct(b []byte, r *rand.Rand, i int) []byte {
	payload := r.IntN(97)
	sport, dport := uint16(1024+r.IntN(64512)), uint16(r.IntN(65536))
	s4, d4 := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}, [4]byte{}
	binary.BigEndian.PutUint32(d4[:], r.Uint32())
	var s6, d6 [16]byte
	binary.BigEndian.PutUint64(s6[:], 0x20010db8_00000000|uint64(i))
	binary.BigEndian.PutUint64(s6[8:], r.Uint64())
	binary.BigEndian.PutUint64(d6[:], 0x20010db8_ffff0000)
	binary.BigEndian.PutUint64(d6[8:], r.Uint64())

	v4 := func(proto uint8, frag uint16, opts []byte, l4len int, tpids ...uint16) []byte {
		b = appendEther(b, EthPIPv4, tpids...)
		return ipv4{proto: proto, src: s4, dst: d4, frag: frag, opts: opts, payload: l4len + payload}.append(b)
	}
	v6 := func(next uint8, l4len int, tpids ...uint16) []byte {
		b = appendEther(b, EthPIPv6, tpids...)
		return ipv6{next: next, label: uint32(i) & 0xfffff, src: s6, dst: d6, payload: l4len + payload}.append(b)
	}
	switch roll := r.IntN(100); {
	case roll < 45:
		b = appendTCP(v4(ipprotoTCP, 0x4000, nil, 20), sport, dport, 5)
	case roll < 65:
		b = appendUDP(v4(ipprotoUDP, 0, nil, 8), sport, dport, payload)
	case roll < 80:
		b = appendTCP(v6(ipprotoTCP, 20), sport, dport, 5)
	case roll < 88:
		b = appendUDP(v6(ipprotoUDP, 8), sport, dport, payload)
	case roll < 92:
		b = appendTCP(v4(ipprotoTCP, 0, nil, 20, ethP8021Q), sport, dport, 5)
	case roll < 94:
		b = appendUDP(v6(ipprotoUDP, 8, ethP8021AD, ethP8021Q), sport, dport, payload)
	case roll < 96:
		b = appendICMP(v4(ipprotoICMP, 0, nil, 8), 8, 0)
	case roll < 97:
		b = appendICMP(v6(ipprotoICMPv6, 8), 128, 0)
	case roll < 98:
		b = appendExtHdr(v6(ipprotoHopOpts, 16), ipprotoUDP, 0)
		b = appendUDP(b, sport, dport, payload)
	case roll < 99:
		b = appendUDP(v4(ipprotoUDP, 0x2000, nil, 8), sport, dport, payload)
	default:
		b = appendTCP(v4(ipprotoTCP, 0, []byte{1, 1, 1, 0}, 20), sport, dport, 5)
	}
	return append(b, make([]byte, payload)...)
}

// DefaultLLCSize is what LLCSize's callers assume when sysfs does not say.
const DefaultLLCSize = 32 << 20

// LLCSize returns the size of CPU 0's last-level cache, the largest level
// under /sys/devices/system/cpu/cpu0/cache.
func LLCSize() (int, error) {
	dirs, err := filepath.Glob("/sys/devices/system/cpu/cpu0/cache/index*")
	if err != nil {
		return 0, fmt.Errorf("last-level cache: %w", err)
	}
	level, size := 0, 0
	for _, dir := range dirs {
		l, err := readSysfs(filepath.Join(dir, "level"))
		if err != nil || l < level {
			continue
		}
		s, err := readSysfs(filepath.Join(dir, "size"))
		if err != nil {
			continue
		}
		if l > level || s > size {
			level, size = l, s
		}
	}
	if size == 0 {
		return 0, fmt.Errorf("last-level cache: no size under /sys/devices/system/cpu/cpu0/cache")
	}
	return size, nil
}

// readSysfs reads a number such as "3" or "32768K" from a sysfs file.
func readSysfs(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s, mult := strings.TrimSpace(string(b)), 1
	switch {
	case strings.HasSuffix(s, "K"):
		s, mult = s[:len(s)-1], 1<<10
	case strings.HasSuffix(s, "M"):
		s, mult = s[:len(s)-1], 1<<20
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v * mult, nil
}
