package verifier

import (
	"fmt"
	"math/bits"
)

// tnum is a tristate number: every bit is known 0, known 1 or unknown.
// Bits set in m are unknown; v holds the known bits (and is zero where m
// is set). This is the kernel's struct tnum (kernel/bpf/tnum.c), whose
// arithmetic follows "Sound, Precise, and Fast Abstract Interpretation
// with Tristate Numbers" (Vishwanathan et al., CGO 2022).
type tnum struct{ v, m uint64 }

var tnumUnknown = tnum{0, ^uint64(0)}

func tnumConst(v uint64) tnum { return tnum{v: v} }

// tnumRange is the smallest tnum that holds every value in [lo, hi].
func tnumRange(lo, hi uint64) tnum {
	n := bits.Len64(lo ^ hi)
	if n > 63 {
		return tnumUnknown
	}
	delta := uint64(1)<<n - 1
	return tnum{lo &^ delta, delta}
}

func (a tnum) isConst() bool { return a.m == 0 }

// umin and umax are the smallest and largest values a may hold.
func (a tnum) umin() uint64 { return a.v }
func (a tnum) umax() uint64 { return a.v | a.m }

func (a tnum) add(b tnum) tnum {
	sm := a.m + b.m
	sv := a.v + b.v
	chi := (sm + sv) ^ sv
	mu := chi | a.m | b.m
	return tnum{sv &^ mu, mu}
}

func (a tnum) sub(b tnum) tnum {
	dv := a.v - b.v
	chi := (dv + a.m) ^ (dv - b.m)
	mu := chi | a.m | b.m
	return tnum{dv &^ mu, mu}
}

func (a tnum) and(b tnum) tnum {
	v := a.v & b.v
	return tnum{v, (a.v | a.m) & (b.v | b.m) &^ v}
}

func (a tnum) or(b tnum) tnum {
	v := a.v | b.v
	return tnum{v, (a.m | b.m) &^ v}
}

func (a tnum) xor(b tnum) tnum {
	mu := a.m | b.m
	return tnum{(a.v ^ b.v) &^ mu, mu}
}

func (a tnum) lsh(s uint) tnum { return tnum{a.v << s, a.m << s} }
func (a tnum) rsh(s uint) tnum { return tnum{a.v >> s, a.m >> s} }

func (a tnum) arsh(s uint) tnum {
	return tnum{uint64(int64(a.v) >> s), uint64(int64(a.m) >> s)}
}

// mul multiplies bit by bit: each bit of a that is known 1 adds b's
// unknown bits, each unknown bit adds all of b's possible bits, and the
// known parts multiply exactly.
func (a tnum) mul(b tnum) tnum {
	accV := a.v * b.v
	accM := tnum{}
	for a.v != 0 || a.m != 0 {
		if a.v&1 != 0 {
			accM = accM.add(tnum{0, b.m})
		} else if a.m&1 != 0 {
			accM = accM.add(tnum{0, b.v | b.m})
		}
		a = a.rsh(1)
		b = b.lsh(1)
	}
	return tnumConst(accV).add(accM)
}

// intersect combines two facts about the same value.
func (a tnum) intersect(b tnum) tnum {
	v := a.v | b.v
	mu := a.m & b.m
	return tnum{v &^ mu, mu}
}

// cast keeps the low size bytes.
func (a tnum) cast(size int) tnum {
	if size >= 8 {
		return a
	}
	mask := uint64(1)<<(8*size) - 1
	return tnum{a.v & mask, a.m & mask}
}

// contains reports whether every value b may hold, a may hold too.
func (a tnum) contains(b tnum) bool {
	if b.m&^a.m != 0 {
		return false
	}
	return b.v&^a.m == a.v
}

// conflicts reports whether a and b cannot hold the same value.
func (a tnum) conflicts(b tnum) bool { return (a.v^b.v)&^(a.m|b.m) != 0 }

func (a tnum) String() string {
	if a.isConst() {
		return fmt.Sprintf("%#x", a.v)
	}
	return fmt.Sprintf("(%#x; %#x)", a.v, a.m)
}
