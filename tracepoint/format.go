package tracepoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrFieldNotFound is wrapped by Format.Field for a name the event lacks.
var ErrFieldNotFound = errors.New("field not found")

// Format is an event's format file, events/<group>/<name>/format in tracefs:
// its ID (the perf_event_attr config of a tracepoint), the layout of its
// records and its print fmt.
type Format struct {
	Group, Name string
	ID          uint32
	// Fields lists every field in file order, common_* ones included
	// (Field.Common marks them).
	Fields []Field
	// PrintFmt is the raw text after "print fmt: ".
	PrintFmt string
	// Symbols holds, per field name, the value -> name tables of the
	// __print_symbolic calls in PrintFmt. Use SymbolName to look up.
	Symbols map[string]map[uint64]string
}

// ReadFormat reads and parses the format of tracepoint group:name from
// tracefs, mounting tracefs if needed (see TracefsPath). An unknown group or
// event gives an error wrapping ErrNotFound that suggests close names.
func ReadFormat(group, name string) (*Format, error) {
	if err := checkName("group", group); err != nil {
		return nil, fmt.Errorf("read format: %w", err)
	}
	if err := checkName("event", name); err != nil {
		return nil, fmt.Errorf("read format: %w", err)
	}
	root, err := TracefsPath()
	if err != nil {
		return nil, fmt.Errorf("read format of %s:%s: %w", group, name, err)
	}
	data, err := os.ReadFile(filepath.Join(root, "events", group, name, "format"))
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil, fmt.Errorf("read format of %s:%s: %w", group, name, notFound(root, group, name))
	case err != nil:
		return nil, fmt.Errorf("read format of %s:%s: %w", group, name, permissionAdvice(root, err))
	}
	return ParseFormat(group, name, data)
}

// Field returns the field called name. The error wraps ErrFieldNotFound and
// lists the fields the event has.
func (f *Format) Field(name string) (Field, error) {
	if fd, ok := findField(f.Fields, name); ok {
		return fd, nil
	}
	names := make([]string, len(f.Fields))
	for i, fd := range f.Fields {
		names[i] = fd.Name
	}
	return Field{}, fmt.Errorf("%w: %s:%s has no field %q (%sfields: %s)", ErrFieldNotFound,
		f.Group, f.Name, name, didYouMean(suggest(name, names)), strings.Join(names, ", "))
}

func findField(fields []Field, name string) (Field, bool) {
	for _, fd := range fields {
		if fd.Name == name {
			return fd, true
		}
	}
	return Field{}, false
}

// ParseFormat parses the text of a format file, as the kernel writes it
// (f_show in kernel/trace/trace_events.c):
//
//	name: kfree_skb
//	ID: 2310
//	format:
//		field:unsigned short common_type;	offset:0;	size:2;	signed:0;
//		...
//
//		field:void * skbaddr;	offset:8;	size:8;	signed:0;
//		...
//
//	print fmt: "skbaddr=%p ...", REC->skbaddr, ...
//
// group and name label errors; a non-empty name must match the file's.
// Errors give the line number and what is wrong.
func ParseFormat(group, name string, data []byte) (*Format, error) {
	text := strings.TrimSuffix(string(data), "\n")
	p := &formatParser{f: &Format{Group: group, Name: name}, lines: strings.Split(text, "\n")}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.f, nil
}

type formatParser struct {
	f        *Format
	lines    []string
	n        int  // 1-based number of the current line
	sections int  // blank lines seen between fields
	blank    bool // the last line was blank
}

func (p *formatParser) errorf(format string, args ...any) error {
	return fmt.Errorf("parse format of %s:%s: line %d: %s",
		p.f.Group, p.f.Name, p.n, fmt.Sprintf(format, args...))
}

// next returns the next line, or false at the end of the data (which
// errors then place on the line after the last).
func (p *formatParser) next() (string, bool) {
	if p.n >= len(p.lines) {
		p.n = len(p.lines) + 1
		return "", false
	}
	p.n++
	return p.lines[p.n-1], true
}

// header reads "<key> <value>" on the next line.
func (p *formatParser) header(key string) (string, error) {
	line, ok := p.next()
	if !ok {
		return "", p.errorf("unexpected end of file, want %q", key)
	}
	v, ok := strings.CutPrefix(line, key)
	if !ok {
		return "", p.errorf("want %q, got %s", key, quoteShort(line))
	}
	return strings.TrimSpace(v), nil
}

func (p *formatParser) parse() error {
	name, err := p.header("name:")
	if err != nil {
		return err
	}
	switch {
	case p.f.Name == "":
		p.f.Name = name
	case name != p.f.Name:
		return p.errorf("name %s, want %q", quoteShort(name), p.f.Name)
	}
	id, err := p.header("ID:")
	if err != nil {
		return err
	}
	v, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return p.errorf("ID %s is not a 32-bit number", quoteShort(id))
	}
	p.f.ID = uint32(v)
	if rest, err := p.header("format:"); err != nil {
		return err
	} else if rest != "" {
		return p.errorf("unexpected %s after \"format:\"", quoteShort(rest))
	}
	if err := p.fields(); err != nil {
		return err
	}
	p.f.Symbols = parseSymbols(p.f.PrintFmt, p.f.Fields)
	return nil
}

// fields reads field lines, blank lines between the common and the event's
// fields, and the closing print fmt, which runs to the end of the file.
func (p *formatParser) fields() error {
	for {
		line, ok := p.next()
		if !ok {
			return p.errorf("unexpected end of file, want a field or \"print fmt:\"")
		}
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case strings.TrimSpace(line) == "":
			p.blank = true
			continue
		case strings.HasPrefix(trimmed, "field:"):
			if p.blank && len(p.f.Fields) > 0 {
				p.sections++
			}
			if err := p.field(trimmed); err != nil {
				return err
			}
		case strings.HasPrefix(line, "print fmt:"):
			// The rest of the file: a TP_printk format with "\n" in it
			// spans several lines (ext4:ext4_fc_stats).
			rest := strings.Join(p.lines[p.n:], "\n")
			p.f.PrintFmt = strings.TrimSpace(strings.TrimPrefix(line, "print fmt:") + "\n" + rest)
			p.n = len(p.lines)
			p.markCommon()
			return nil
		default:
			return p.errorf("want a field or \"print fmt:\", got %s", quoteShort(line))
		}
		p.blank = false
	}
}

// markCommon sets Field.Common where the blank line could not. The kernel
// prints the common fields, a blank line, then the event's (libtraceevent
// reads them the same way); a file without that blank line falls back to
// the "common_" prefix.
func (p *formatParser) markCommon() {
	if p.sections > 0 {
		return
	}
	for i := range p.f.Fields {
		p.f.Fields[i].Common = strings.HasPrefix(p.f.Fields[i].Name, "common_")
	}
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	const maxLen = 60
	if len(s) > maxLen {
		return strconv.Quote(s[:maxLen]) + "..."
	}
	return strconv.Quote(s)
}

// field parses one field line:
//
//	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
//
// "signed:" is missing in kernels before 2.6.33; such fields read as
// unsigned. Keys we do not know are ignored.
func (p *formatParser) field(line string) error {
	var decl, offset, size, signed string
	var haveOffset, haveSize bool
	for part := range strings.SplitSeq(line, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, ":")
		if !ok {
			return p.errorf("want key:value, got %s", quoteShort(part))
		}
		switch key {
		case "field":
			decl = val
		case "offset":
			offset, haveOffset = val, true
		case "size":
			size, haveSize = val, true
		case "signed":
			signed = val
		}
	}
	fd, err := parseDecl(decl)
	if err != nil {
		return p.errorf("%v", err)
	}
	if !haveOffset || !haveSize {
		return p.errorf("field %s: want offset:N; and size:N;", fd.Name)
	}
	if fd.Offset, err = parseSize(offset); err != nil {
		return p.errorf("field %s: offset %s", fd.Name, err)
	}
	if fd.Size, err = parseSize(size); err != nil {
		return p.errorf("field %s: size %s", fd.Name, err)
	}
	switch signed {
	case "", "0":
	case "1":
		fd.Signed = true
	default:
		return p.errorf("field %s: signed %s, want 0 or 1", fd.Name, quoteShort(signed))
	}
	if fd.DataLoc && fd.Size != 4 {
		return p.errorf("field %s: size %d, want 4 for %s", fd.Name, fd.Size, strings.Fields(fd.Type)[0])
	}
	if fd.ArrayLen < 0 {
		fd.ArrayLen = inferArrayLen(fd.Type, fd.Size)
	}
	if _, dup := findField(p.f.Fields, fd.Name); dup {
		return p.errorf("field %s: defined twice", fd.Name)
	}
	fd.Common = p.sections == 0
	p.f.Fields = append(p.f.Fields, fd)
	return nil
}

// maxRecordSize bounds offsets and sizes: records live in ring buffer pages
// and are far smaller (perf samples carry at most 64 KiB).
const maxRecordSize = 1 << 24

func parseSize(s string) (int, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil || v > maxRecordSize {
		return 0, fmt.Errorf("%s is not a number up to %d", quoteShort(s), maxRecordSize)
	}
	return int(v), nil
}

// parseDecl splits a C declaration as tracefs prints it: "void * skbaddr",
// "char prev_comm[16]", "__data_loc char[] filename". For arrays Type gets
// the brackets ("char[16]") and ArrayLen the length, or -1 when the length
// is not a number (an enum the kernel left unevaluated).
func parseDecl(decl string) (Field, error) {
	decl = strings.TrimSpace(decl)
	var fd Field
	array, arrayLen := false, ""
	if strings.HasSuffix(decl, "]") {
		open := strings.LastIndexByte(decl, '[')
		if open < 0 {
			return fd, fmt.Errorf("declaration %s: unbalanced ']'", quoteShort(decl))
		}
		array, arrayLen = true, strings.TrimSpace(decl[open+1:len(decl)-1])
		decl = strings.TrimSpace(decl[:open])
	}
	i := len(decl)
	for i > 0 && isIdentChar(decl[i-1]) {
		i--
	}
	fd.Name, fd.Type = decl[i:], strings.TrimSpace(decl[:i])
	if fd.Name == "" || !isIdentStart(fd.Name[0]) || fd.Type == "" {
		return fd, fmt.Errorf("declaration %s: want \"TYPE NAME\"", quoteShort(decl))
	}
	switch {
	case strings.HasPrefix(fd.Type, "__data_loc "):
		fd.DataLoc = true
	case strings.HasPrefix(fd.Type, "__rel_loc "):
		fd.DataLoc, fd.RelLoc = true, true
	}
	if array {
		fd.Type += "[" + arrayLen + "]"
		fd.ArrayLen = -1
		if n, err := strconv.ParseUint(arrayLen, 10, 31); err == nil {
			fd.ArrayLen = int(n)
		}
	}
	return fd, nil
}

// inferArrayLen guesses the length of an array whose declared length is not
// a number: size over the element's size when the element is a type we know,
// else size (as bytes).
func inferArrayLen(typ string, size int) int {
	elem := strings.TrimSpace(typ[:strings.LastIndexByte(typ, '[')])
	n := 0
	switch {
	case strings.HasSuffix(elem, "*"):
		n = 8
	default:
		n = cTypeSizes[elem]
	}
	if n == 0 {
		return size
	}
	return size / n
}

// cTypeSizes are the sizes of the element types of arrays in format files.
var cTypeSizes = map[string]int{
	"char": 1, "signed char": 1, "unsigned char": 1, "u8": 1, "s8": 1, "__u8": 1, "__s8": 1, "bool": 1,
	"short": 2, "unsigned short": 2, "u16": 2, "s16": 2, "__u16": 2, "__s16": 2,
	"int": 4, "unsigned int": 4, "unsigned": 4, "u32": 4, "s32": 4, "__u32": 4, "__s32": 4,
	"long": 8, "unsigned long": 8, "u64": 8, "s64": 8, "__u64": 8, "__s64": 8,
	"long long": 8, "unsigned long long": 8,
}

// Size returns the size of a record's fixed part: the end of the last
// field. Dynamic (__data_loc) payloads follow it; perf pads raw records to
// 8 bytes, so a record is at least this long.
func (f *Format) Size() int {
	n := 0
	for _, fld := range f.Fields {
		n = max(n, fld.Offset+fld.Size)
	}
	return n
}
