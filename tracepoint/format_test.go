package tracepoint

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// commonFields are the first four fields of every event on 64-bit kernels
// since the lock depth and padding fields went away (3.x).
var commonFields = []Field{
	{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2, Common: true},
	{Name: "common_flags", Type: "unsigned char", Offset: 2, Size: 1, Common: true},
	{Name: "common_preempt_count", Type: "unsigned char", Offset: 3, Size: 1, Common: true},
	{Name: "common_pid", Type: "int", Offset: 4, Size: 4, Signed: true, Common: true},
}

func withCommon(fields ...Field) []Field { return append(slices.Clone(commonFields), fields...) }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseFormatFixtures(t *testing.T) {
	for _, tt := range []struct {
		file, group, name string
		id                uint32
		fields            []Field
		printFmtPrefix    string
	}{{
		file: "kfree_skb_5.10.format", group: "skb", name: "kfree_skb", id: 1418,
		fields: withCommon(
			Field{Name: "skbaddr", Type: "void *", Offset: 8, Size: 8},
			Field{Name: "location", Type: "void *", Offset: 16, Size: 8},
			Field{Name: "protocol", Type: "unsigned short", Offset: 24, Size: 2},
		),
		printFmtPrefix: `"skbaddr=%p protocol=%u location=%p", REC->skbaddr`,
	}, {
		file: "kfree_skb_6.1.format", group: "skb", name: "kfree_skb", id: 1492,
		fields: withCommon(
			Field{Name: "skbaddr", Type: "void *", Offset: 8, Size: 8},
			Field{Name: "location", Type: "void *", Offset: 16, Size: 8},
			Field{Name: "protocol", Type: "unsigned short", Offset: 24, Size: 2},
			Field{Name: "reason", Type: "enum skb_drop_reason", Offset: 28, Size: 4},
		),
		printFmtPrefix: `"skbaddr=%p protocol=%u location=%p reason: %s"`,
	}, {
		file: "kfree_skb_6.18.format", group: "skb", name: "kfree_skb", id: 2310,
		fields: withCommon(
			Field{Name: "skbaddr", Type: "void *", Offset: 8, Size: 8},
			Field{Name: "location", Type: "void *", Offset: 16, Size: 8},
			Field{Name: "rx_sk", Type: "void *", Offset: 24, Size: 8},
			Field{Name: "protocol", Type: "unsigned short", Offset: 32, Size: 2},
			Field{Name: "reason", Type: "enum skb_drop_reason", Offset: 36, Size: 4},
		),
		printFmtPrefix: `"skbaddr=%p rx_sk=%p protocol=%u location=%pS reason: %s"`,
	}, {
		file: "sched_process_exec_6.18.format", group: "sched", name: "sched_process_exec", id: 365,
		fields: withCommon(
			Field{Name: "filename", Type: "__data_loc char[]", Offset: 8, Size: 4, DataLoc: true},
			Field{Name: "pid", Type: "pid_t", Offset: 12, Size: 4, Signed: true},
			Field{Name: "old_pid", Type: "pid_t", Offset: 16, Size: 4, Signed: true},
		),
		printFmtPrefix: `"filename=%s pid=%d old_pid=%d", __get_str(filename)`,
	}, {
		file: "sched_switch_6.18.format", group: "sched", name: "sched_switch", id: 372,
		fields: withCommon(
			Field{Name: "prev_comm", Type: "char[16]", Offset: 8, Size: 16, ArrayLen: 16},
			Field{Name: "prev_pid", Type: "pid_t", Offset: 24, Size: 4, Signed: true},
			Field{Name: "prev_prio", Type: "int", Offset: 28, Size: 4, Signed: true},
			Field{Name: "prev_state", Type: "long", Offset: 32, Size: 8, Signed: true},
			Field{Name: "next_comm", Type: "char[16]", Offset: 40, Size: 16, ArrayLen: 16},
			Field{Name: "next_pid", Type: "pid_t", Offset: 56, Size: 4, Signed: true},
			Field{Name: "next_prio", Type: "int", Offset: 60, Size: 4, Signed: true},
		),
		printFmtPrefix: `"prev_comm=%s prev_pid=%d`,
	}} {
		t.Run(tt.file, func(t *testing.T) {
			f, err := ParseFormat(tt.group, tt.name, readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.Group != tt.group || f.Name != tt.name || f.ID != tt.id {
				t.Errorf("got %s:%s ID %d, want %s:%s ID %d", f.Group, f.Name, f.ID, tt.group, tt.name, tt.id)
			}
			if len(f.Fields) != len(tt.fields) {
				t.Fatalf("got %d fields %+v, want %d", len(f.Fields), f.Fields, len(tt.fields))
			}
			for i, want := range tt.fields {
				if f.Fields[i] != want {
					t.Errorf("field %d:\n got %+v\nwant %+v", i, f.Fields[i], want)
				}
			}
			if !strings.HasPrefix(f.PrintFmt, tt.printFmtPrefix) || strings.HasSuffix(f.PrintFmt, "\n") {
				t.Errorf("print fmt %.80q..., want it to start with %q and not end in a newline", f.PrintFmt, tt.printFmtPrefix)
			}
		})
	}
}

// TestParseFormatSymbols checks the drop reason tables of the three
// generations of skb:kfree_skb. Their numbers differ: SKB_CONSUMED (6.2)
// shifted every reason by one.
func TestParseFormatSymbols(t *testing.T) {
	for _, tt := range []struct {
		file    string
		entries int               // size of the reason table, 0 for none
		want    map[uint64]string // some of its entries
	}{
		{file: "kfree_skb_5.10.format"},
		{file: "kfree_skb_6.1.format", entries: 65, want: map[uint64]string{
			1: "NOT_SPECIFIED", 2: "NO_SOCKET", 3: "PKT_TOO_SMALL", 64: "PKT_TOO_BIG", 65: "MAX"}},
		{file: "kfree_skb_6.18.format", entries: 127, want: map[uint64]string{
			2: "NOT_SPECIFIED", 3: "NO_SOCKET", 4: "SOCKET_CLOSE", 93: "PKT_TOO_BIG", 128: "MAX"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			f, err := ParseFormat("skb", "kfree_skb", readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(f.Symbols["reason"]); got != tt.entries {
				t.Errorf("reason table has %d entries, want %d", got, tt.entries)
			}
			if tt.entries == 0 && f.Symbols != nil {
				t.Errorf("Symbols = %v, want nil", f.Symbols)
			}
			for v, want := range tt.want {
				if got, ok := f.SymbolName("reason", v); !ok || got != want {
					t.Errorf("SymbolName(reason, %d) = %q, %v; want %q", v, got, ok, want)
				}
			}
			if name, ok := f.SymbolName("reason", 0); ok {
				t.Errorf("SymbolName(reason, 0) = %q, want none (0 is SKB_NOT_DROPPED_YET, not in the table)", name)
			}
			if name, ok := f.SymbolName("protocol", 2); ok {
				t.Errorf("SymbolName(protocol, 2) = %q, want none", name)
			}
		})
	}
}

func TestFormatField(t *testing.T) {
	f, err := ParseFormat("skb", "kfree_skb", readFixture(t, "kfree_skb_6.18.format"))
	if err != nil {
		t.Fatal(err)
	}
	reason, err := f.Field("reason")
	if err != nil || reason.Offset != 36 || reason.Size != 4 {
		t.Errorf("Field(reason) = %+v, %v", reason, err)
	}
	_, err = f.Field("reasn")
	if !errors.Is(err, ErrFieldNotFound) {
		t.Fatalf("Field(reasn) error %v, want ErrFieldNotFound", err)
	}
	for _, want := range []string{`skb:kfree_skb has no field "reasn"`, "did you mean reason?", "rx_sk, protocol, reason"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// header is the start of a format file, for hand-written cases.
const header = "name: ev\nID: 7\nformat:\n" +
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"

func TestParseFormatVariants(t *testing.T) {
	for _, tt := range []struct {
		name   string
		data   string
		check  string // the field to compare, or "" for none
		want   Field
		common []string // names of the fields marked Common, when set
		print  string   // the print fmt, when set
	}{{
		name:  "no signed (2.6.32 and older)",
		data:  header + "\tfield:int x;\toffset:8;\tsize:4;\n\nprint fmt: \"x=%d\", REC->x\n",
		check: "x", want: Field{Name: "x", Type: "int", Offset: 8, Size: 4},
	}, {
		name:  "rel_loc",
		data:  header + "\tfield:__rel_loc char[] s;\toffset:8;\tsize:4;\tsigned:0;\n\nprint fmt: \"\"\n",
		check: "s", want: Field{Name: "s", Type: "__rel_loc char[]", Offset: 8, Size: 4, DataLoc: true, RelLoc: true},
	}, {
		name:  "data_loc u64 array",
		data:  header + "\tfield:__data_loc u64[] addrs;\toffset:8;\tsize:4;\tsigned:0;\n\nprint fmt: \"\"\n",
		check: "addrs", want: Field{Name: "addrs", Type: "__data_loc u64[]", Offset: 8, Size: 4, DataLoc: true},
	}, {
		name:  "u8 array",
		data:  header + "\tfield:u8 addr[4];\toffset:8;\tsize:4;\tsigned:0;\n\nprint fmt: \"\"\n",
		check: "addr", want: Field{Name: "addr", Type: "u8[4]", Offset: 8, Size: 4, ArrayLen: 4},
	}, {
		name:  "array length not evaluated, known element",
		data:  header + "\tfield:u32 regs[NR_REGS];\toffset:8;\tsize:24;\tsigned:0;\n\nprint fmt: \"\"\n",
		check: "regs", want: Field{Name: "regs", Type: "u32[NR_REGS]", Offset: 8, Size: 24, ArrayLen: 6},
	}, {
		name:  "array length not evaluated, unknown element",
		data:  header + "\tfield:struct foo f[N];\toffset:8;\tsize:24;\tsigned:0;\n\nprint fmt: \"\"\n",
		check: "f", want: Field{Name: "f", Type: "struct foo[N]", Offset: 8, Size: 24, ArrayLen: 24},
	}, {
		name:  "pointer without space",
		data:  header + "\tfield:const char *name;\toffset:8;\tsize:8;\tsigned:0;\n\nprint fmt: \"\"\n",
		check: "name", want: Field{Name: "name", Type: "const char *", Offset: 8, Size: 8},
	}, {
		name:   "no blank line after common fields",
		data:   strings.TrimSuffix(header, "\n") + "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"\"\n",
		common: []string{"common_type", "common_pid"},
	}, {
		name:   "blank line decides, not the prefix",
		data:   header + "\tfield:int common_x;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"\"\n",
		common: []string{"common_type", "common_pid"},
	}, {
		name:  "print fmt over several lines (ext4:ext4_fc_stats)",
		data:  header + "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"a\nb %d\", REC->x\n",
		print: "\"a\nb %d\", REC->x",
	}, {
		name:  "no trailing newline",
		data:  header + "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"%d\", REC->x",
		print: "\"%d\", REC->x",
	}, {
		name:  "unknown keys ignored",
		data:  header + "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\tfuture:3;\n\nprint fmt: \"\"\n",
		check: "x", want: Field{Name: "x", Type: "int", Offset: 8, Size: 4, Signed: true},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFormat("g", "ev", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != "" {
				if got, err := f.Field(tt.check); err != nil || got != tt.want {
					t.Errorf("Field(%s) = %+v, %v\nwant %+v", tt.check, got, err, tt.want)
				}
			}
			if tt.common != nil {
				var common []string
				for _, fd := range f.Fields {
					if fd.Common {
						common = append(common, fd.Name)
					}
				}
				if !slices.Equal(common, tt.common) {
					t.Errorf("common fields %v, want %v", common, tt.common)
				}
			}
			if tt.print != "" && f.PrintFmt != tt.print {
				t.Errorf("print fmt %q, want %q", f.PrintFmt, tt.print)
			}
		})
	}
}

func TestParseFormatNameFromFile(t *testing.T) {
	f, err := ParseFormat("g", "", []byte(header+"print fmt: \"\"\n"))
	if err != nil || f.Name != "ev" {
		t.Fatalf("ParseFormat with no name = %+v, %v; want the file's name ev", f, err)
	}
}
