package maps

import "encoding/binary"

// hashMul is 2^64 divided by the golden ratio (Fibonacci hashing).
const hashMul = 0x9E3779B97F4A7C15

// Hash is the hash every hash map stores in its slots and buckets on: the
// bucket of a key is Hash(key) & Header.BucketMask. It is simple enough for
// generated code to compute inline:
//
//	h := uint64(len(key))
//	for each 8-byte word w of the key, little-endian, the last one zero-padded:
//		h = (h ^ w) * 0x9E3779B97F4A7C15
//		h ^= h >> 29
//	return uint32(h ^ h>>32)
//
// Keys in slots are zero-padded to 8 bytes, so the padded words are what a
// JIT loads from a slot; from a program's stack it must mask the last word.
func Hash(key []byte) uint32 {
	h := uint64(len(key))
	for len(key) >= 8 {
		h = hashMix(h, binary.LittleEndian.Uint64(key))
		key = key[8:]
	}
	if len(key) > 0 {
		var w uint64
		for i, b := range key {
			w |= uint64(b) << (8 * i)
		}
		h = hashMix(h, w)
	}
	return uint32(h ^ h>>32)
}

// hashWords is Hash of the little-endian bytes of ws, without making them.
func hashWords(ws []uint64) uint32 {
	h := uint64(len(ws) * 8)
	for _, w := range ws {
		h = hashMix(h, w)
	}
	return uint32(h ^ h>>32)
}

func hashMix(h, w uint64) uint64 {
	h = (h ^ w) * hashMul
	return h ^ h>>29
}
