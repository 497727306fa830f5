package tracepoint

import (
	"bytes"
	"encoding/binary"
)

// Field is one field of a tracepoint record as its format file describes it.
// Resolve it once with Format.Field, then read records with its accessors:
// they check bounds, never panic and do not allocate (String excepted).
type Field struct {
	Name   string // e.g. "location"
	Type   string // C type as printed, e.g. "void *", "char[16]", "__data_loc char[]"
	Offset int    // from the start of the record, common fields included
	Size   int    // in bytes; 4 for __data_loc and __rel_loc descriptors
	Signed bool
	// ArrayLen is the length of a fixed array (char comm[16] has 16), 0 for
	// other fields.
	ArrayLen int
	// DataLoc marks a dynamic field: the record holds a u32 descriptor,
	// length<<16 | offset, and the data elsewhere in the record.
	DataLoc bool
	// RelLoc marks a __rel_loc dynamic field (DataLoc is set too): its
	// offset counts from the end of the descriptor, not from the record's
	// start.
	RelLoc bool
	// Common marks the fields every event starts with (common_type,
	// common_flags, common_preempt_count, common_pid).
	Common bool
}

// Uint reads a field of size 1, 2, 4 or 8 in host byte order, zero-extended.
// It reports false when raw is too short or the size is another one.
func (f Field) Uint(raw []byte) (uint64, bool) {
	b, ok := f.fixed(raw)
	if !ok {
		return 0, false
	}
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.NativeEndian.Uint16(b)), true
	case 4:
		return uint64(binary.NativeEndian.Uint32(b)), true
	case 8:
		return binary.NativeEndian.Uint64(b), true
	}
	return 0, false
}

// Int reads a field like Uint but sign-extends it.
func (f Field) Int(raw []byte) (int64, bool) {
	b, ok := f.fixed(raw)
	if !ok {
		return 0, false
	}
	switch len(b) {
	case 1:
		return int64(int8(b[0])), true
	case 2:
		return int64(int16(binary.NativeEndian.Uint16(b))), true
	case 4:
		return int64(int32(binary.NativeEndian.Uint32(b))), true
	case 8:
		return int64(binary.NativeEndian.Uint64(b)), true
	}
	return 0, false
}

// Bytes returns the field's bytes within raw, without copying: for a fixed
// field raw[Offset:Offset+Size], for a __data_loc or __rel_loc field the data
// its descriptor points to. It reports false when any of it lies outside raw.
// The result's capacity ends with it, so appending to it cannot clobber raw.
func (f Field) Bytes(raw []byte) ([]byte, bool) {
	if !f.DataLoc {
		return f.fixed(raw)
	}
	if f.Size != 4 {
		return nil, false
	}
	d, ok := f.fixed(raw)
	if !ok {
		return nil, false
	}
	loc := binary.NativeEndian.Uint32(d)
	off, n := int(loc&0xffff), int(loc>>16)
	if f.RelLoc {
		// include/trace/stages/stage6_event_callback.h: __rel_loc offsets
		// count from the end of the descriptor.
		off += f.Offset + f.Size
	}
	if off > len(raw) || n > len(raw)-off {
		return nil, false
	}
	return raw[off : off+n : off+n], true
}

// String returns the field's bytes (see Bytes) up to the first NUL, as for
// char arrays and __data_loc char[] strings.
func (f Field) String(raw []byte) (string, bool) {
	b, ok := f.Bytes(raw)
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), true
}

// fixed returns raw[Offset:Offset+Size], checking bounds without overflow.
func (f Field) fixed(raw []byte) ([]byte, bool) {
	off, n := f.Offset, f.Size
	if off < 0 || n < 0 || off > len(raw) || n > len(raw)-off {
		return nil, false
	}
	return raw[off : off+n : off+n], true
}
