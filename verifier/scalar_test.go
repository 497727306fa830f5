package verifier

import (
	"math"
	"math/rand/v2"
	"testing"
)

// holds reports whether x is among the values r may have.
func (r *regState) holds(x uint64) bool {
	return r.umin <= x && x <= r.umax && r.smin <= int64(x) && int64(x) <= r.smax && x&^r.tn.m == r.tn.v &&
		r.u32min <= uint32(x) && uint32(x) <= r.u32max && r.s32min <= int32(x) && int32(x) <= r.s32max
}

// randValue favours the values where bounds arithmetic breaks: small ones,
// sign and word boundaries.
func randValue(rng *rand.Rand) uint64 {
	edges := []uint64{0, 1, 2, 7, 8, 255, 256, math.MaxInt32, 1 << 31, math.MaxUint32, 1 << 32,
		math.MaxInt64, 1 << 63, math.MaxUint64, math.MaxUint64 - 1}
	switch rng.IntN(4) {
	case 0:
		return edges[rng.IntN(len(edges))] + uint64(rng.IntN(3)) - 1
	case 1:
		return uint64(rng.IntN(1000))
	case 2:
		return uint64(rng.Uint32())
	}
	return rng.Uint64()
}

// randScalar returns a scalar that may hold x, with random facts.
func randScalar(rng *rand.Rand, x uint64) regState {
	var r regState
	r.setUnknownScalar()
	if rng.IntN(4) == 0 {
		r.markConst(x)
		return r
	}
	if rng.IntN(2) == 0 {
		r.umin = x - min(x, uint64(rng.IntN(100)))
		r.umax = x + min(math.MaxUint64-x, uint64(rng.IntN(100)))
	}
	if rng.IntN(2) == 0 {
		lo, hi := int64(x)-int64(rng.IntN(100)), int64(x)+int64(rng.IntN(100))
		if lo <= int64(x) && hi >= int64(x) {
			r.smin, r.smax = lo, hi
		}
	}
	if rng.IntN(3) == 0 {
		r.u32min = uint32(x) - min(uint32(x), uint32(rng.IntN(100)))
		r.u32max = uint32(x) + min(math.MaxUint32-uint32(x), uint32(rng.IntN(100)))
	}
	if rng.IntN(3) == 0 {
		lo, hi := int32(x)-int32(rng.IntN(100)), int32(x)+int32(rng.IntN(100))
		if lo <= int32(x) && hi >= int32(x) {
			r.s32min, r.s32max = lo, hi
		}
	}
	if rng.IntN(2) == 0 {
		m := rng.Uint64() | rng.Uint64()
		r.tn = tnum{x &^ m, m}
	}
	r.sync()
	return r
}

func TestTnum(t *testing.T) {
	tests := []struct {
		name string
		got  tnum
		want tnum
	}{
		{"range 0..255", tnumRange(0, 255), tnum{0, 0xff}},
		{"range 16..31", tnumRange(16, 31), tnum{16, 0xf}},
		{"range 5..5", tnumRange(5, 5), tnumConst(5)},
		{"range all", tnumRange(0, math.MaxUint64), tnumUnknown},
		{"const add", tnumConst(3).add(tnumConst(4)), tnumConst(7)},
		{"add unknown low bit", tnum{0, 1}.add(tnumConst(1)), tnum{0, 3}},
		{"sub", tnumConst(10).sub(tnumConst(3)), tnumConst(7)},
		{"and masks", tnumUnknown.and(tnumConst(0xf0)), tnum{0, 0xf0}},
		{"or sets", tnumUnknown.or(tnumConst(1)), tnum{1, ^uint64(1)}},
		{"xor const", tnumConst(0xff).xor(tnumConst(0x0f)), tnumConst(0xf0)},
		{"lsh", tnum{1, 2}.lsh(4), tnum{16, 32}},
		{"rsh", tnum{16, 32}.rsh(4), tnum{1, 2}},
		{"arsh sign", tnumConst(1 << 63).arsh(63), tnumConst(math.MaxUint64)},
		{"mul consts", tnumConst(6).mul(tnumConst(7)), tnumConst(42)},
		{"cast", tnumUnknown.cast(2), tnum{0, 0xffff}},
		{"intersect", tnum{0, 0xff}.intersect(tnum{0x10, 0xf0f}), tnum{0x10, 0x0f}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if !tnumUnknown.contains(tnumConst(42)) || tnumConst(42).contains(tnumUnknown) {
		t.Error("contains is wrong")
	}
}

// TestTnumSound checks every tnum operation on random members: the
// concrete result must be a member of the abstract one.
func TestTnumSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	member := func(a tnum) uint64 { return a.v | rng.Uint64()&a.m }
	for i := 0; i < 20000; i++ {
		a := tnum{rng.Uint64(), rng.Uint64() & rng.Uint64()}
		a.v &^= a.m
		b := tnum{rng.Uint64() & 0xffff, rng.Uint64() & 0xff}
		b.v &^= b.m
		x, y := member(a), member(b)
		s := uint(rng.IntN(64))
		checks := []struct {
			op  string
			abs tnum
			val uint64
		}{
			{"add", a.add(b), x + y}, {"sub", a.sub(b), x - y}, {"mul", a.mul(b), x * y},
			{"and", a.and(b), x & y}, {"or", a.or(b), x | y}, {"xor", a.xor(b), x ^ y},
			{"lsh", a.lsh(s), x << s}, {"rsh", a.rsh(s), x >> s}, {"arsh", a.arsh(s), uint64(int64(x) >> s)},
		}
		for _, c := range checks {
			if !c.abs.contains(tnumConst(c.val)) {
				t.Fatalf("%s: %v op %v = %v does not hold %#x (%#x, %#x)", c.op, a, b, c.abs, c.val, x, y)
			}
		}
	}
}

// TestScalarALUSound checks scalarALU on random registers: the result of
// the concrete operation must be one the abstract result may hold.
func TestScalarALUSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := []aluKind{aluAdd, aluSub, aluMul, aluDiv, aluSDiv, aluOr, aluAnd, aluLsh, aluRsh, aluMod, aluSMod, aluXor, aluArsh}
	for i := 0; i < 200000; i++ {
		x, y := randValue(rng), randValue(rng)
		kind, is32 := kinds[rng.IntN(len(kinds))], rng.IntN(2) == 0
		if kind == aluLsh || kind == aluRsh || kind == aluArsh {
			y %= uint64(width(is32))
		}
		a, b := randScalar(rng, x), randScalar(rng, y)
		if !a.holds(x) || !b.holds(y) {
			t.Fatalf("sync lost a value: %v holds %#x? %v holds %#x?", a.String(), x, b.String(), y)
		}
		r := a
		scalarALU(&r, &b, kind, is32)
		want := evalALU(kind, x, y, is32)
		if !r.holds(want) {
			t.Fatalf("%#x %s %#x (32-bit %v) = %#x, but %s %s %s gave %s",
				x, aluSymbols[kind], y, is32, want, a.String(), aluSymbols[kind], b.String(), r.String())
		}
	}
}

// TestBranchSound checks branchTaken and refineScalars on random
// registers: a decided outcome must be the concrete one, and refining by
// the outcome that happened must keep the concrete values.
func TestBranchSound(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	conds := []cond{condEQ, condNE, condGT, condGE, condLT, condLE, condSGT, condSGE, condSLT, condSLE, condSET, condNSET}
	eval := func(c cond, x, y uint64) bool {
		switch c {
		case condEQ:
			return x == y
		case condNE:
			return x != y
		case condGT:
			return x > y
		case condGE:
			return x >= y
		case condLT:
			return x < y
		case condLE:
			return x <= y
		case condSGT:
			return int64(x) > int64(y)
		case condSGE:
			return int64(x) >= int64(y)
		case condSLT:
			return int64(x) < int64(y)
		case condSLE:
			return int64(x) <= int64(y)
		case condSET:
			return x&y != 0
		}
		return x&y == 0
	}
	for i := 0; i < 200000; i++ {
		x, y := randValue(rng), randValue(rng)
		if rng.IntN(3) == 0 {
			y = x + uint64(rng.IntN(3)) - 1
		}
		c := conds[rng.IntN(len(conds))]
		a, b := randScalar(rng, x), randScalar(rng, y)
		truth := eval(c, x, y)
		if taken := branchTaken(&a, &b, c, false); taken >= 0 && (taken == 1) != truth {
			t.Fatalf("branchTaken(%s, %s, %d) = %d, but %#x vs %#x is %v", a.String(), b.String(), c, taken, x, y, truth)
		}
		cc := c
		if !truth {
			cc = c.negate()
		}
		ra, rb := a, b
		if !refineScalars(&ra, &rb, cc) || !ra.holds(x) || !rb.holds(y) {
			t.Fatalf("refine by %d of %s, %s lost %#x, %#x: %s, %s", cc, a.String(), b.String(), x, y, ra.String(), rb.String())
		}
	}
}

func TestBounds(t *testing.T) {
	var r regState
	r.setUnknownScalar()
	r.umax = 100
	r.sync()
	if r.smin != 0 || r.smax != 100 || r.tn != (tnum{0, 127}) {
		t.Errorf("umax 100: got %s", r.String())
	}
	r.setUnknownScalar()
	r.smin, r.smax = -4, -1
	r.sync()
	if r.umin != math.MaxUint64-3 || r.umax != math.MaxUint64 {
		t.Errorf("smin -4 smax -1: got %s", r.String())
	}
	r.setConstScalar(0x1_0000_0005)
	r.zext32()
	if !r.isConst() || r.tn.v != 5 {
		t.Errorf("zext32 of 0x100000005: got %s", r.String())
	}
	r.setBoundedScalar(1)
	r.sext(1)
	if r.smin != -128 || r.smax != 127 {
		t.Errorf("sext of a byte: got %s", r.String())
	}
}

// TestBranch32Sound checks JMP32 refinement through refine on random
// 64-bit registers: the concrete values must survive on the side their
// comparison chose.
func TestBranch32Sound(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	conds := []cond{condEQ, condNE, condGT, condGE, condLT, condLE, condSGT, condSGE, condSLT, condSLE, condSET, condNSET}
	for i := 0; i < 100000; i++ {
		x, y := randValue(rng), randValue(rng)
		c := conds[rng.IntN(len(conds))]
		a, b := randScalar(rng, x), randScalar(rng, y)
		x32, y32 := uint64(uint32(x)), uint64(uint32(y))
		var truth bool
		switch c {
		case condEQ:
			truth = x32 == y32
		case condNE:
			truth = x32 != y32
		case condGT:
			truth = x32 > y32
		case condGE:
			truth = x32 >= y32
		case condLT:
			truth = x32 < y32
		case condLE:
			truth = x32 <= y32
		case condSGT:
			truth = int32(x) > int32(y)
		case condSGE:
			truth = int32(x) >= int32(y)
		case condSLT:
			truth = int32(x) < int32(y)
		case condSLE:
			truth = int32(x) <= int32(y)
		case condSET:
			truth = x32&y32 != 0
		case condNSET:
			truth = x32&y32 == 0
		}
		if taken := branchTaken(&a, &b, c, true); taken >= 0 && (taken == 1) != truth {
			t.Fatalf("branchTaken32(%s, %s, %d) = %d, but %#x vs %#x is %v", a.String(), b.String(), c, taken, x, y, truth)
		}
		cc := c
		if !truth {
			cc = c.negate()
		}
		signed := cc.signed()
		av, bv := a.subreg(signed), b.subreg(signed)
		if !refineScalars(&av, &bv, cc) {
			t.Fatalf("refine32 by %d of %s, %s: impossible, but %#x, %#x", cc, a.String(), b.String(), x, y)
		}
		ra, rb := a, b
		writeBack(&ra, &av, signed)
		writeBack(&rb, &bv, signed)
		if !ra.holds(x) || !rb.holds(y) {
			t.Fatalf("refine32 by %d of %s, %s lost %#x, %#x: %s, %s", cc, a.String(), b.String(), x, y, ra.String(), rb.String())
		}
	}
}
