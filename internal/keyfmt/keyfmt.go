// Package keyfmt renders the keys of a program's map by their BTF type, one
// column per field of a key struct: fields that hold kernel addresses
// (pointers, and fields named location, ip or pc) as symbols, a field named
// reason by the tracepoint's own reason names, integers and enums in
// decimal (enums by name), anything else in hex. A key without BTF is one
// hex column.
package keyfmt

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Names turns the parts of a key that name kernel things into text.
type Names struct {
	Symbol func(addr uint64) string // nil prints hex
	Reason func(r uint32) string    // nil prints the number
}

// Layout is how a key type is split into columns.
type Layout struct {
	Columns []string
	fields  []field
}

type kind uint8

const (
	kindHex kind = iota
	kindUint
	kindInt
	kindSymbol
	kindReason
	kindEnum
)

type field struct {
	off, size int
	kind      kind
	enum      *btf.Enum
}

// NewLayout makes the layout of keys of BTF type t, keySize bytes long; t
// may be nil.
func NewLayout(t btf.Type, keySize int) Layout {
	if s, ok := btf.UnderlyingType(t).(*btf.Struct); ok {
		var l Layout
		for _, m := range s.Members {
			f, ok := newField(m.Name, m.Type, int(m.Offset/8))
			if !ok || m.BitfieldSize != 0 || f.off+f.size > keySize {
				continue
			}
			l.Columns = append(l.Columns, strings.ToUpper(m.Name))
			l.fields = append(l.fields, f)
		}
		if len(l.fields) > 0 {
			return l
		}
	}
	if t != nil {
		if f, ok := newField("key", t, 0); ok && f.size == keySize {
			return Layout{Columns: []string{"KEY"}, fields: []field{f}}
		}
	}
	return Layout{Columns: []string{"KEY"}, fields: []field{{off: 0, size: keySize, kind: kindHex}}}
}

// newField classifies a member by its name and type.
func newField(name string, t btf.Type, off int) (field, bool) {
	size, err := btf.Sizeof(t)
	if err != nil || size <= 0 {
		return field{}, false
	}
	f := field{off: off, size: size, kind: kindHex}
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Pointer:
		f.kind = kindSymbol
	case *btf.Int:
		f.kind = kindUint
		if u.Encoding&btf.Signed != 0 {
			f.kind = kindInt
		}
	case *btf.Enum:
		f.kind, f.enum = kindEnum, u
	}
	if f.kind != kindHex && size > 8 {
		f.kind = kindHex
	}
	switch strings.ToLower(name) {
	case "location", "ip", "pc":
		if size == 8 {
			f.kind = kindSymbol
		}
	case "reason":
		if f.kind == kindUint || f.kind == kindEnum {
			f.kind = kindReason
		}
	}
	return f, true
}

// Render gives one cell per column for key.
func (l Layout) Render(key []byte, names Names) []string {
	cells := make([]string, len(l.fields))
	for i, f := range l.fields {
		if f.off+f.size > len(key) {
			cells[i] = "?"
			continue
		}
		cells[i] = f.render(key[f.off:f.off+f.size], names)
	}
	return cells
}

func (f field) render(b []byte, names Names) string {
	u := uint64(0)
	if f.kind != kindHex {
		u = loadUint(b)
	}
	switch f.kind {
	case kindSymbol:
		if names.Symbol != nil {
			return names.Symbol(u)
		}
		return "0x" + strconv.FormatUint(u, 16)
	case kindReason:
		if names.Reason != nil {
			return names.Reason(uint32(u))
		}
		return strconv.FormatUint(u, 10)
	case kindUint:
		return strconv.FormatUint(u, 10)
	case kindInt:
		shift := 64 - 8*len(b)
		return strconv.FormatInt(int64(u<<shift)>>shift, 10)
	case kindEnum:
		for _, v := range f.enum.Values {
			if v.Value == u {
				return v.Name
			}
		}
		return strconv.FormatUint(u, 10)
	}
	return hex.EncodeToString(b)
}

// loadUint reads 1, 2, 4 or 8 bytes in host order; other sizes up to 8
// are read byte by byte, little end first, as x86 and arm64 store them.
func loadUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.NativeEndian.Uint16(b))
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	case 8:
		return binary.NativeEndian.Uint64(b)
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	return u
}
