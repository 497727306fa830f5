package tracepoint

import (
	"strconv"
	"strings"
)

// symbolicFuncs are the print-fmt helpers whose tables map a field's value to
// a name (include/trace/stages/stage3_trace_output.h). The kernel evaluates
// enum names in them (TRACE_DEFINE_ENUM) before printing the format file, so
// values are mostly numbers.
var symbolicFuncs = []string{"__print_symbolic", "__print_symbolic_u64"}

// parseSymbols collects the value->name tables of every __print_symbolic in
// a print fmt whose first argument is a plain REC->field, keyed by the field.
//
// A table we cannot read is skipped whole, and an entry whose value is not a
// number (an enum the kernel did not evaluate) is skipped alone: names are a
// convenience and must never cost the caller the format. Tables applied to an
// expression (REC->x >> 8 & 0x7) are skipped too, as they do not describe the
// field's own values.
func parseSymbols(printFmt string, fields []Field) map[string]map[uint64]string {
	var tables map[string]map[uint64]string
	for i := 0; i < len(printFmt); {
		c := printFmt[i]
		if c == '"' {
			i = skipString(printFmt, i)
			continue
		}
		if !isIdentStart(c) {
			i++
			continue
		}
		j := i
		for j < len(printFmt) && isIdentChar(printFmt[j]) {
			j++
		}
		ident := printFmt[i:j]
		i = j
		if !isSymbolicFunc(ident) || i >= len(printFmt) || printFmt[i] != '(' {
			continue
		}
		field, table, next := parseSymbolicCall(printFmt, i+1)
		if table == nil {
			// Unreadable: go on inside it, where a later call may start.
			i++
			continue
		}
		i = next
		if field == "" || len(table) == 0 {
			continue
		}
		f, known := findField(fields, field)
		if tables == nil {
			tables = make(map[string]map[uint64]string)
		}
		if tables[field] == nil {
			tables[field] = make(map[uint64]string, len(table))
		}
		for v, name := range table {
			if known {
				v = f.symbolKey(v)
			}
			// trace_print_symbols_seq prints the first match.
			if _, dup := tables[field][v]; !dup {
				tables[field][v] = name
			}
		}
	}
	return tables
}

func isSymbolicFunc(ident string) bool {
	for _, s := range symbolicFuncs {
		if ident == s {
			return true
		}
	}
	return false
}

// parseSymbolicCall reads `EXPR, { V, "NAME" }, ...)` starting at i (just
// after the opening parenthesis). It returns the field EXPR names ("" if
// EXPR is not a plain REC->field), the table and the index after the call,
// or a nil table when the call is malformed.
func parseSymbolicCall(s string, i int) (field string, table map[uint64]string, next int) {
	end, ok := scanArg(s, i)
	if !ok {
		return "", nil, 0
	}
	field = recField(s[i:end])
	table = make(map[uint64]string)
	i = end
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			return "", nil, 0
		}
		switch s[i] {
		case ')':
			return field, table, i + 1
		case ',':
			i = skipSpace(s, i+1)
		default:
			return "", nil, 0
		}
		if i >= len(s) || s[i] != '{' {
			return "", nil, 0
		}
		end := closingBrace(s, i+1)
		if end < 0 {
			return "", nil, 0
		}
		if v, name, ok := parseEntry(s[i+1 : end]); ok {
			if _, dup := table[v]; !dup {
				table[v] = name
			}
		}
		i = end + 1
	}
}

// scanArg returns the index of the ',' or ')' that ends the argument
// starting at i, skipping nested parentheses and string literals.
func scanArg(s string, i int) (int, bool) {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"':
			i = skipString(s, i)
			continue
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i, true
			}
			depth--
		case ',':
			if depth == 0 {
				return i, true
			}
		}
		i++
	}
	return i, false
}

// closingBrace returns the index of the first '}' at or after i that is not
// inside a string literal, or -1 if there is none or a '{' comes first.
func closingBrace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '"':
			i = skipString(s, i)
			continue
		case '}':
			return i
		case '{':
			return -1
		}
		i++
	}
	return -1
}

// recField returns name for an expression REC->name, with any enclosing
// parentheses, and "" for anything else.
func recField(expr string) string {
	expr = strings.TrimSpace(expr)
	for len(expr) >= 2 && expr[0] == '(' && expr[len(expr)-1] == ')' {
		expr = strings.TrimSpace(expr[1 : len(expr)-1])
	}
	name, ok := strings.CutPrefix(expr, "REC->")
	if !ok || name == "" || !isIdentStart(name[0]) {
		return ""
	}
	for i := 1; i < len(name); i++ {
		if !isIdentChar(name[i]) {
			return ""
		}
	}
	return name
}

// parseEntry reads the inside of `{ V, "NAME" }`. NAME may be split into
// adjacent literals ("APIC_" "ID"), as C allows.
func parseEntry(e string) (uint64, string, bool) {
	v, rest, ok := strings.Cut(e, ",")
	if !ok {
		return 0, "", false
	}
	val, ok := parseCInt(v)
	if !ok {
		return 0, "", false
	}
	var name strings.Builder
	rest = strings.TrimSpace(rest)
	for rest != "" {
		if rest[0] != '"' {
			return 0, "", false
		}
		end := skipString(rest, 0)
		lit, err := strconv.Unquote(rest[:end])
		if err != nil {
			return 0, "", false
		}
		name.WriteString(lit)
		rest = strings.TrimSpace(rest[end:])
	}
	if name.Len() == 0 {
		return 0, "", false
	}
	return val, name.String(), true
}

// parseCInt parses a C integer literal as the kernel prints them in tables:
// decimal, 0x hex or 0 octal, optionally negative, parenthesized or with
// U/L suffixes: 3, 0x1236, -1, (-1), 1ULL. Negative values become their
// 64-bit two's complement, as C converts them to unsigned long.
func parseCInt(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, strings.TrimSpace(s[1:])
	}
	s = strings.TrimRight(s, "uUlL")
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// skipString returns the index after the string literal starting at s[i].
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// symbolKey brings v to the value C compares with a table entry: the field
// converted to unsigned long, i.e. sign-extended from its size when signed
// and zero-extended otherwise. Callers may then pass Uint's or Int's result.
func (f Field) symbolKey(v uint64) uint64 {
	if f.Size <= 0 || f.Size >= 8 {
		return v
	}
	bits := uint(f.Size * 8)
	if f.Signed {
		return uint64(int64(v<<(64-bits)) >> (64 - bits))
	}
	return v & (1<<bits - 1)
}

// SymbolName returns the name __print_symbolic gives value v of field, from
// the format's Symbols. v may be read with Uint or Int.
func (f *Format) SymbolName(field string, v uint64) (string, bool) {
	table := f.Symbols[field]
	if table == nil {
		return "", false
	}
	if fd, ok := findField(f.Fields, field); ok {
		v = fd.symbolKey(v)
	}
	name, ok := table[v]
	return name, ok
}
