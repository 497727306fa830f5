package tracepoint

import (
	"maps"
	"testing"
)

func TestParseSymbols(t *testing.T) {
	fields := []Field{
		{Name: "reason", Size: 4},
		{Name: "status", Size: 4, Signed: true},
		{Name: "state", Size: 1},
		{Name: "big", Size: 8},
	}
	type tables = map[string]map[uint64]string
	for _, tt := range []struct {
		name     string
		printFmt string
		want     tables
	}{{
		name:     "decimal",
		printFmt: `"r=%s", __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" })`,
		want:     tables{"reason": {2: "NOT_SPECIFIED", 3: "NO_SOCKET"}},
	}, {
		name:     "hex, octal and suffixes (btrfs, xfs)",
		printFmt: `__print_symbolic(REC->big, { 0x1236, "XFS_LI_EFI" }, { 1ULL, "ROOT_TREE" }, { 010, "EIGHT" }, { 0, "ZERO" })`,
		want:     tables{"big": {0x1236: "XFS_LI_EFI", 1: "ROOT_TREE", 8: "EIGHT", 0: "ZERO"}},
	}, {
		name:     "negative, bare and in parentheses (rpm, xfs)",
		printFmt: `__print_symbolic(REC->status, { -1, "RPM_INVALID" }, { (-2), "STAGING" }, { 0, "RPM_ACTIVE" })`,
		want:     tables{"status": {1<<64 - 1: "RPM_INVALID", 1<<64 - 2: "STAGING", 0: "RPM_ACTIVE"}},
	}, {
		name:     "negative in an unsigned field never matches, as in C",
		printFmt: `__print_symbolic(REC->reason, { -1, "ALL" }, { 1, "ONE" })`,
		want:     tables{"reason": {0xffffffff: "ALL", 1: "ONE"}},
	}, {
		name:     "adjacent literals (kvm apic)",
		printFmt: `__print_symbolic(REC->reason, { 0x20, "APIC_" "ID" }, { 0x30, "APIC_" "LVR" })`,
		want:     tables{"reason": {0x20: "APIC_ID", 0x30: "APIC_LVR"}},
	}, {
		name:     "escapes and braces in names",
		printFmt: `__print_symbolic(REC->reason, { 1, "a\"b" }, { 2, "c}d" }, { 3, "e,f" })`,
		want:     tables{"reason": {1: `a"b`, 2: "c}d", 3: "e,f"}},
	}, {
		name:     "first of duplicates wins, as the kernel prints it",
		printFmt: `__print_symbolic(REC->reason, { 1, "FIRST" }, { 1, "SECOND" }), __print_symbolic(REC->reason, { 1, "THIRD" })`,
		want:     tables{"reason": {1: "FIRST"}},
	}, {
		name:     "parenthesized field",
		printFmt: `__print_symbolic((REC->state), { 1, "ESTABLISHED" })`,
		want:     tables{"state": {1: "ESTABLISHED"}},
	}, {
		name:     "u64 variant",
		printFmt: `__print_symbolic_u64(REC->big, { 1, "ONE" })`,
		want:     tables{"big": {1: "ONE"}},
	}, {
		name: "two tables of one field merge, others kept apart",
		printFmt: `REC->state ? __print_symbolic(REC->state, { 1, "A" }) : __print_symbolic(REC->state, { 2, "B" }),` +
			` __print_symbolic(REC->reason, { 1, "R" })`,
		want: tables{"state": {1: "A", 2: "B"}, "reason": {1: "R"}},
	}, {
		name:     "enum names left unevaluated are skipped alone",
		printFmt: `__print_symbolic(REC->state, { TCP_ESTABLISHED, "TCP_ESTABLISHED" }, { 2, "SYN_SENT" })`,
		want:     tables{"state": {2: "SYN_SENT"}},
	}, {
		name:     "all unevaluated: no table",
		printFmt: `__print_symbolic(REC->state, { TCP_ESTABLISHED, "TCP_ESTABLISHED" })`,
	}, {
		name:     "expression argument skipped (kvm, block ioprio)",
		printFmt: `__print_symbolic(REC->reason & 0xffff, { 1, "A" }), __print_symbolic((((REC->state) >> 13) & (8 - 1)), { 1, "B" })`,
	}, {
		name:     "constant argument skipped (ext4_fc_stats)",
		printFmt: `__print_symbolic(0, { 0, "XATTR"}), __print_symbolic(2ULL, { 1ULL, "ROOT_TREE" })`,
	}, {
		name:     "empty table (kvm_inj_exception)",
		printFmt: `__print_symbolic(REC->reason, { })`,
	}, {
		name:     "inside a string is not a call",
		printFmt: `"__print_symbolic(REC->reason, { 1, \"X\" })"`,
	}, {
		name:     "unterminated table skipped, later ones read",
		printFmt: `__print_symbolic(REC->reason, { 1, "A" }, { 2, "B" ` + "\n" + `, __print_symbolic(REC->state, { 1, "S" })`,
		want:     tables{"state": {1: "S"}},
	}, {
		name:     "truncated everywhere",
		printFmt: `__print_symbolic(REC->reason, { 1, "A`,
	}, {
		name:     "missing parenthesis",
		printFmt: `__print_symbolic REC->reason, { 1, "A" })`,
	}, {
		name:     "__print_flags is not symbolic",
		printFmt: `__print_flags(REC->state, "|", { 1, "S" })`,
	}, {
		name:     "field the format lacks keeps raw values",
		printFmt: `__print_symbolic(REC->other, { -1, "X" })`,
		want:     tables{"other": {1<<64 - 1: "X"}},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseSymbols(tt.printFmt, fields)
			if !maps.EqualFunc(got, tt.want, maps.Equal) {
				t.Errorf("parseSymbols(%q)\n got %v\nwant %v", tt.printFmt, got, tt.want)
			}
		})
	}
}

// TestSymbolNameWidths checks that a value may be given as Uint or as Int
// reads it: both reach the entry C would print.
func TestSymbolNameWidths(t *testing.T) {
	data := header + "\tfield:int status;\toffset:8;\tsize:4;\tsigned:1;\n" +
		"\tfield:unsigned char state;\toffset:12;\tsize:1;\tsigned:0;\n\n" +
		`print fmt: "%s %s", __print_symbolic(REC->status, { -1, "INVALID" }, { 1, "ACTIVE" }),` +
		` __print_symbolic(REC->state, { 0xff, "ALL" })` + "\n"
	f, err := ParseFormat("g", "ev", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		field string
		v     uint64
		want  string
		ok    bool
	}{
		{field: "status", v: 0xffffffff, want: "INVALID", ok: true}, // as Uint reads it
		{field: "status", v: 1<<64 - 1, want: "INVALID", ok: true},  // as uint64(Int)
		{field: "status", v: 1, want: "ACTIVE", ok: true},
		{field: "status", v: 1<<32 + 1, want: "ACTIVE", ok: true}, // high bits beyond the field ignored
		{field: "status", v: 2},
		{field: "state", v: 0xff, want: "ALL", ok: true},
		{field: "state", v: 1<<64 - 1, want: "ALL", ok: true},
		{field: "nosuch", v: 1},
	} {
		if got, ok := f.SymbolName(tt.field, tt.v); got != tt.want || ok != tt.ok {
			t.Errorf("SymbolName(%s, %#x) = %q, %v; want %q, %v", tt.field, tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseCInt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {" 42 ", 42, true}, {"0x2A", 42, true}, {"052", 42, true},
		{"42u", 42, true}, {"42UL", 42, true}, {"1ULL", 1, true}, {"-1", 1<<64 - 1, true},
		{"((-3))", 1<<64 - 3, true}, {"- 1", 1<<64 - 1, true}, {"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, {"", 0, false}, {"-", 0, false}, {"U", 0, false},
		{"FOO", 0, false}, {"1 << 3", 0, false}, {"0x", 0, false}, {"(", 0, false}, {"08", 0, false},
	} {
		if got, ok := parseCInt(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("parseCInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
