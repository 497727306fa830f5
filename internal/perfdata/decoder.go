package perfdata

import (
	"bytes"
	"fmt"
)

const unixAttrSizeVer0 = 64 // PERF_ATTR_SIZE_VER0

// decoder reads little-endian values from a byte slice and remembers the
// first overrun instead of panicking; every read after it yields zeros.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = fmt.Errorf("need %d bytes at %d, only %d left", n, d.off, len(d.b)-d.off)
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	d.off += 4
	return le.Uint32(d.b[d.off-4:])
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	d.off += 8
	return le.Uint64(d.b[d.off-8:])
}

// bytes returns the next n bytes without copying.
func (d *decoder) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	d.off += n
	return d.b[d.off-n : d.off : d.off]
}

// count reads a u32 count of elements of at least elem bytes each and
// checks that so many could fit in what is left, so that a corrupt count
// never drives a long loop or a large allocation.
func (d *decoder) count(elem int) int {
	n := d.u32()
	if d.err == nil && uint64(n)*uint64(elem) > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("count %d at %d does not fit in the %d bytes left", n, d.off-4, len(d.b)-d.off)
		return 0
	}
	return int(n)
}

// count64 is count for a u64 count.
func (d *decoder) count64(elem int) int {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.b)-d.off)/uint64(elem) {
		d.err = fmt.Errorf("count %d at %d does not fit in the %d bytes left", n, d.off-8, len(d.b)-d.off)
		return 0
	}
	return int(n)
}

// str reads a perf header string: u32 length, then that many bytes holding
// a NUL-terminated text.
func (d *decoder) str() string {
	n := d.u32()
	if d.err == nil && uint64(n) > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("string of %d bytes at %d overruns the %d bytes left", n, d.off-4, len(d.b)-d.off)
		return ""
	}
	return cString(d.bytes(int(n)))
}

// cstr reads a NUL-terminated string and the NUL.
func (d *decoder) cstr() string {
	if d.err != nil {
		return ""
	}
	i := bytes.IndexByte(d.b[d.off:], 0)
	if i < 0 {
		d.err = fmt.Errorf("unterminated string at %d", d.off)
		return ""
	}
	s := string(d.b[d.off : d.off+i])
	d.off += i + 1
	return s
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
