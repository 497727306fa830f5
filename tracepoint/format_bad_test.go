package tracepoint

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFormatErrors(t *testing.T) {
	const fieldX = "\tfield:int x;\toffset:8;\tsize:4;\tsigned:1;\n"
	const tail = "\nprint fmt: \"\"\n"
	for _, tt := range []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "empty", data: "", wantErr: `line 1: want "name:", got ""`},
		{name: "not a format", data: "hello\n", wantErr: `line 1: want "name:", got "hello"`},
		{name: "other event", data: "name: other\n", wantErr: `line 1: name "other", want "ev"`},
		{name: "no ID", data: "name: ev\n", wantErr: `line 2: unexpected end of file, want "ID:"`},
		{name: "ID not a number", data: "name: ev\nID: x7\n", wantErr: `line 2: ID "x7" is not a 32-bit number`},
		{name: "ID too big", data: "name: ev\nID: 4294967296\n", wantErr: `line 2: ID "4294967296" is not a 32-bit number`},
		{name: "negative ID", data: "name: ev\nID: -1\n", wantErr: `line 2: ID "-1"`},
		{name: "no format line", data: "name: ev\nID: 7\nfield:int x;\n", wantErr: `line 3: want "format:"`},
		{name: "text after format", data: "name: ev\nID: 7\nformat: yes\n", wantErr: `line 3: unexpected "yes" after "format:"`},
		{name: "truncated after fields", data: header + fieldX, wantErr: `line 8: unexpected end of file, want a field or "print fmt:"`},
		{name: "junk line", data: header + "\toffset:8;\n" + tail, wantErr: `line 7: want a field or "print fmt:", got "\toffset:8;"`},
		{name: "part without colon", data: header + "\tfield:int x;\toffset 8;\n" + tail, wantErr: `line 7: want key:value, got "offset 8"`},
		{name: "no offset", data: header + "\tfield:int x;\tsize:4;\n" + tail, wantErr: "line 7: field x: want offset:N; and size:N;"},
		{name: "no size", data: header + "\tfield:int x;\toffset:8;\n" + tail, wantErr: "line 7: field x: want offset:N; and size:N;"},
		{name: "bad offset", data: header + "\tfield:int x;\toffset:eight;\tsize:4;\n" + tail, wantErr: `line 7: field x: offset "eight" is not a number`},
		{name: "negative size", data: header + "\tfield:int x;\toffset:8;\tsize:-4;\n" + tail, wantErr: `line 7: field x: size "-4" is not a number`},
		{name: "huge offset", data: header + "\tfield:int x;\toffset:99999999999;\tsize:4;\n" + tail, wantErr: "field x: offset \"99999999999\" is not a number up to 16777216"},
		{name: "bad signed", data: header + "\tfield:int x;\toffset:8;\tsize:4;\tsigned:2;\n" + tail, wantErr: `line 7: field x: signed "2", want 0 or 1`},
		{name: "no name", data: header + "\tfield:int;\toffset:8;\tsize:4;\n" + tail, wantErr: `line 7: declaration "int": want "TYPE NAME"`},
		{name: "no type", data: header + "\tfield:x;\toffset:8;\tsize:4;\n" + tail, wantErr: `line 7: declaration "x": want "TYPE NAME"`},
		{name: "empty declaration", data: header + "\tfield:;\toffset:8;\tsize:4;\n" + tail, wantErr: `line 7: declaration "": want "TYPE NAME"`},
		{name: "unbalanced bracket", data: header + "\tfield:char x16];\toffset:8;\tsize:16;\n" + tail, wantErr: `line 7: declaration "char x16]": unbalanced ']'`},
		{name: "name starts with digit", data: header + "\tfield:int 9x;\toffset:8;\tsize:4;\n" + tail, wantErr: `declaration "int 9x": want "TYPE NAME"`},
		{name: "data_loc not 4 bytes", data: header + "\tfield:__data_loc char[] s;\toffset:8;\tsize:8;\n" + tail, wantErr: "line 7: field s: size 8, want 4 for __data_loc"},
		{name: "duplicate field", data: header + fieldX + fieldX + tail, wantErr: "line 8: field x: defined twice"},
		{name: "long junk is cut", data: "name: ev\nID: 7\nformat:\n" + strings.Repeat("z", 500) + "\n", wantErr: `got "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"...`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFormat("g", "ev", []byte(tt.data))
			if err == nil {
				t.Fatalf("parsed %+v, want error %q", f, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "parse format of g:ev: line ") {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseFormat feeds the parser mutated format files. It must never
// panic, and what it accepts must be safe to use: fields within sane bounds
// and accessors that do not panic on any record.
func FuzzParseFormat(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.format"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		f.Add(readFixture(f, filepath.Base(file)), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	}
	f.Add([]byte(header+"\tfield:__rel_loc char[] s;\toffset:8;\tsize:4;\n\nprint fmt: __print_symbolic(REC->s, { -1, \"A\" \"B\" })"), []byte{8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data, record []byte) {
		fm, err := ParseFormat("g", "", data)
		if err != nil {
			if fm != nil {
				t.Fatalf("non-nil format with error %v", err)
			}
			return
		}
		for _, fd := range fm.Fields {
			if fd.Offset < 0 || fd.Size < 0 || fd.Offset > maxRecordSize || fd.Size > maxRecordSize || fd.Name == "" {
				t.Fatalf("accepted field %+v", fd)
			}
			if b, ok := fd.Bytes(record); ok && len(b) > len(record) {
				t.Fatalf("Bytes of %+v returned %d bytes from a %d-byte record", fd, len(b), len(record))
			}
			fd.Uint(record)
			fd.Int(record)
			fd.String(record)
			if v, ok := fd.Uint(record); ok {
				fm.SymbolName(fd.Name, v)
			}
		}
	})
}
