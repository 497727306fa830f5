package userspacevm

import (
	"fmt"
	"math/bits"

	"github.com/dropmon/dropmon/program"
)

// Arithmetic with RFC 9669 and Linux semantics, case by case. None of
// these can panic: Go raises a run-time panic only for division by zero,
// which each tests first. Go defines the one overflowing signed division
// the way the kernel does (INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0; the
// spec: "if the dividend is the most negative value ... q = x, r = 0").

// div64: division by zero yields 0.
func div64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// mod64: modulo by zero leaves dst unchanged.
func mod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

// sdiv64 truncates toward zero; division by zero yields 0.
func sdiv64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return uint64(int64(a) / int64(b))
}

// smod64 takes the dividend's sign (truncated division); modulo by zero
// leaves dst unchanged.
func smod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return uint64(int64(a) % int64(b))
}

// The 32-bit forms use the low halves and zero-extend the result, the
// unchanged dst of a modulo by zero included (the kernel's "(u32) DST").

func div32(a, b uint64) uint64 {
	if uint32(b) == 0 {
		return 0
	}
	return uint64(uint32(a) / uint32(b))
}

func mod32(a, b uint64) uint64 {
	if uint32(b) == 0 {
		return uint64(uint32(a))
	}
	return uint64(uint32(a) % uint32(b))
}

func sdiv32(a, b uint64) uint64 {
	if uint32(b) == 0 {
		return 0
	}
	return uint64(uint32(int32(a) / int32(b)))
}

func smod32(a, b uint64) uint64 {
	if uint32(b) == 0 {
		return uint64(uint32(a))
	}
	return uint64(uint32(int32(a) % int32(b)))
}

// arsh64 shifts right arithmetically by the amount masked to 6 bits.
func arsh64(a, n uint64) uint64 { return uint64(int64(a) >> (n & 63)) }

// arsh32 shifts the low half by the amount masked to 5 bits.
func arsh32(a, n uint64) uint64 { return uint64(uint32(int32(a) >> (n & 31))) }

// swap implements the byte-order operations on a little-endian host: le
// truncates to the width (zero-extending), be and bswap reverse the bytes
// of the low width bits and zero-extend.
func swap(op program.Op, v uint64) uint64 {
	switch op {
	case program.Le16:
		return uint64(uint16(v))
	case program.Le32:
		return uint64(uint32(v))
	case program.Be16, program.BSwap16:
		return uint64(bits.ReverseBytes16(uint16(v)))
	case program.Be32, program.BSwap32:
		return uint64(bits.ReverseBytes32(uint32(v)))
	case program.Be64, program.BSwap64:
		return bits.ReverseBytes64(v)
	}
	return v // Le64
}

// errBadOp is an operation a Prepared program cannot contain.
func errBadOp(op program.Op) error {
	return fmt.Errorf("BUG: %s reached the interpreter", op)
}
