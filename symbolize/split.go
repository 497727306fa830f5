package symbolize

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strings"
)

// splitKernelLine splits a line as the kernel prints it ("%px %c %s", and
// maybe "\t[%s]"): 16 hex digits, a space, the type, a space, the name, and
// the module. It reports false for any other line, even a valid one, which
// splitLine then splits.
func splitKernelLine(line []byte) (addr uint64, typ byte, name, module []byte, ok bool) {
	if len(line) < 20 || line[16] != ' ' || byteClass[line[17]] != inField || line[18] != ' ' {
		return 0, 0, nil, nil, false
	}
	if addr, ok = parseHex16(line[:16]); !ok {
		return 0, 0, nil, nil, false
	}
	end := fieldEnd(line, 19)
	if end == 19 {
		return 0, 0, nil, nil, false
	}
	name, rest := line[19:end], line[end:]
	if len(rest) == 0 {
		return addr, line[17], name, nil, true
	}
	if len(rest) < 3 || rest[0] != '\t' || rest[1] != '[' || rest[len(rest)-1] != ']' || fieldEnd(rest, 1) != len(rest) {
		return 0, 0, nil, nil, false
	}
	return addr, line[17], name, rest[2 : len(rest)-1], true
}

// splitLine splits "ADDR TYPE NAME[\t[MODULE]]", with the fields separated
// as strings.Fields would separate them; fields after the fourth are
// ignored.
func splitLine(line []byte) (addr uint64, typ byte, name, module []byte, ok bool) {
	var f [4][]byte
	n, slow := splitFields(line, &f)
	if slow {
		// strings.Fields also splits on Unicode spaces. The kernel prints
		// none, so this path only serves odd files.
		fs := strings.Fields(string(line))
		for n = 0; n < len(f) && n < len(fs); n++ {
			f[n] = []byte(fs[n])
		}
	}
	if n < 3 || len(f[1]) != 1 {
		return 0, 0, nil, nil, false
	}
	addr, ok = parseHex(f[0])
	if !ok {
		return 0, 0, nil, nil, false
	}
	if n == 4 {
		m := f[3]
		if len(m) < 2 || m[0] != '[' || m[len(m)-1] != ']' {
			return 0, 0, nil, nil, false
		}
		module = m[1 : len(m)-1]
	}
	return addr, f[1][0], f[2], module, true
}

// Byte classes for splitFields.
const (
	inField  = iota
	space    // the ASCII spaces of strings.Fields
	nonASCII // where strings.Fields would look for Unicode spaces
)

var byteClass = func() (c [256]uint8) {
	for i := 0x80; i < len(c); i++ {
		c[i] = nonASCII
	}
	for _, b := range []byte("\t\n\v\f\r ") {
		c[b] = space
	}
	return c
}()

// splitFields puts up to len(f) space-separated fields of line in f and
// returns how many. It gives up, returning slow, on a byte outside ASCII
// before the last field it needs ends.
func splitFields(line []byte, f *[4][]byte) (n int, slow bool) {
	i := 0
	for n < len(f) {
		for i < len(line) && byteClass[line[i]] == space {
			i++
		}
		j := fieldEnd(line, i)
		if j < len(line) && byteClass[line[j]] == nonASCII {
			return 0, true
		}
		if i == j {
			break
		}
		f[n] = line[i:j]
		n++
		i = j
	}
	return n, false
}

// SWAR ("SIMD within a register") constants: a byte's 1 and its high bit,
// in every byte of a word.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// fieldEnd returns the index of the first byte from line[i] on that is not
// inField, or len(line). Names are long and spaces rare, so it tests eight
// bytes at a time for one below 0x21 or above 0x7f, and then looks closer.
func fieldEnd(line []byte, i int) int {
	if len(line) < 8 {
		for i < len(line) && byteClass[line[i]] == inField {
			i++
		}
		return i
	}
	for i < len(line) {
		x, mask := uint64(0), uint64(highs)
		if i+8 <= len(line) {
			x = binary.LittleEndian.Uint64(line[i:])
		} else {
			// The line's last eight bytes, less those already tested.
			shift := 8 * uint(i+8-len(line))
			x = binary.LittleEndian.Uint64(line[len(line)-8:]) >> shift
			mask >>= shift
		}
		// A byte below 0x21 borrows in the subtraction, which sets its
		// high bit; the borrow can flag bytes above it, not below.
		hit := (x - 0x21*ones | x) & mask
		if hit == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(hit) / 8
		if byteClass[line[i]] != inField {
			return i
		}
		i++ // a control character: part of the field, as in strings.Fields
	}
	return len(line)
}

// parseHex16 parses the 16 lower-case hex digits %px prints, eight at a
// time. It reports false for anything else, upper case included, which
// parseHex then takes.
func parseHex16(b []byte) (uint64, bool) {
	hi, lo := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
	if (hi|lo)&highs != 0 ||
		(bytesIn(hi, '0', '9')|bytesIn(hi, 'a', 'f'))&(bytesIn(lo, '0', '9')|bytesIn(lo, 'a', 'f')) != highs {
		return 0, false
	}
	return nibbles(hi)<<32 | nibbles(lo), true
}

// nibbles returns the value of the eight hex digits in x, the first in the
// top byte.
func nibbles(x uint64) uint64 {
	// A digit's value is its low nibble, plus 9 for a letter (0x40 set).
	v := x&(0x0f*ones) + x>>6&ones*9
	// Gather the nibbles: pairs into bytes, bytes into 16 bits, then 32.
	v = (v>>4 | v) & 0x00ff00ff00ff00ff
	v = (v>>8 | v) & 0x0000ffff0000ffff
	return (v>>16 | v) & 0xffffffff
}

// bytesIn sets the high bit of each byte of x within [lo, hi]; every byte
// of x must be below 0x80, so that the additions carry into no other byte.
func bytesIn(x uint64, lo, hi uint64) uint64 {
	return (x + (0x80-lo)*ones) &^ (x + (0x7f-hi)*ones) & highs
}

var hexVal = func() (v [256]uint8) {
	for i := range v {
		v[i] = 0xff
	}
	for i := range uint8(10) {
		v['0'+i] = i
	}
	for i := range uint8(6) {
		v['a'+i] = 10 + i
		v['A'+i] = 10 + i
	}
	return v
}()

// parseHex is strconv.ParseUint(string(b), 16, 64) without the string and
// the error value.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d := hexVal[c]
		if d > 0xf || v > math.MaxUint64>>4 {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}
