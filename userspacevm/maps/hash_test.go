package maps

import (
	"encoding/binary"
	"testing"
)

// hashVectors pin Hash: generated code must compute the same values.
var hashVectors = []struct {
	key  []byte
	want uint32
}{
	{[]byte{0}, 0x10c6c863},
	{[]byte{1}, 0x00000000}, // h = len ^ w = 0: a legitimate fixed point
	{[]byte{1, 2, 3, 4}, 0xc90a366c},
	{[]byte{0, 0, 0, 0, 0, 0, 0, 0}, 0x8636433b},
	{[]byte{1, 0, 0, 0, 0, 0, 0, 0}, 0x89f72717},
	{[]byte{1, 2, 3, 4, 5, 6, 7, 8}, 0x9cd7afe3},
	{[]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, 0x391ad9e0},
	{[]byte("dropmon-kfree_skb"), 0xd0d4d750},
	{make([]byte, 16), 0xe323115f},
}

// refHash is Hash written out word by word from the documented formula.
func refHash(key []byte) uint32 {
	h := uint64(len(key))
	for i := 0; i < len(key); i += 8 {
		var word [8]byte
		copy(word[:], key[i:])
		h ^= binary.LittleEndian.Uint64(word[:])
		h *= 0x9E3779B97F4A7C15
		h ^= h >> 29
	}
	return uint32(h) ^ uint32(h>>32)
}

func TestHashVectors(t *testing.T) {
	for _, v := range hashVectors {
		if got := Hash(v.key); got != v.want {
			t.Errorf("Hash(%v) = %#08x, want %#08x", v.key, got, v.want)
		}
		if got := refHash(v.key); got != v.want {
			t.Errorf("refHash(%v) = %#08x, want %#08x", v.key, got, v.want)
		}
	}
}

func TestHashWords(t *testing.T) {
	ips := []uint64{0xffffffff81000000, 0xffffffff81234567, 42}
	var b []byte
	for _, ip := range ips {
		b = binary.LittleEndian.AppendUint64(b, ip)
	}
	if got, want := hashWords(ips), Hash(b); got != want {
		t.Errorf("hashWords = %#08x, Hash of the bytes = %#08x", got, want)
	}
	if got, want := hashWords(ips[:2]), uint32(0x28a31a0b); got != want {
		t.Errorf("hashWords(2 ips) = %#08x, want %#08x", got, want)
	}
}

// TestHashSpread: sequential integer keys, the commonest case, must spread
// over the buckets.
func TestHashSpread(t *testing.T) {
	for _, keySize := range []int{4, 8, 16} {
		const n, buckets = 4096, 4096
		var count [buckets]int
		key := make([]byte, keySize)
		for i := range n {
			binary.LittleEndian.PutUint32(key, uint32(i))
			count[Hash(key)&(buckets-1)]++
		}
		longest, empty := 0, 0
		for _, c := range count {
			longest = max(longest, c)
			if c == 0 {
				empty++
			}
		}
		// A random function leaves about 1/e (37%) empty, longest ~7.
		if longest > 10 || empty > buckets/2 {
			t.Errorf("%d-byte keys: longest chain %d, %d of %d buckets empty", keySize, longest, empty, buckets)
		}
	}
}
