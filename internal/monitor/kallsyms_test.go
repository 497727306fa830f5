package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFunctionRange(t *testing.T) {
	write := func(text string) string {
		path := filepath.Join(t.TempDir(), "kallsyms")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	kallsyms := write(`ffffffff820a8000 T udp_rcv_before
ffffffff820a8770 T __udp4_lib_rcv
ffffffff820a8800 d some_data
ffffffff820a9100 t udp_unicast_rcv_skb
ffffffff820a8f00 t __udp4_lib_rcv_tail
ffffffffc0a00000 t twice	[mod_a]
ffffffffc0b00000 t twice	[mod_b]
ffffffffc0b00100 t last	[mod_b]
`)
	hidden := write("0000000000000000 T __udp4_lib_rcv\n0000000000000000 T next\n")
	defer func(p string) { kallsymsPath = p }(kallsymsPath)
	tests := []struct {
		path, name string
		start, end uint64
		wantErr    string
	}{
		{path: kallsyms, name: "__udp4_lib_rcv", start: 0xffffffff820a8770, end: 0xffffffff820a8f00},
		{path: kallsyms, name: "udp_unicast_rcv_skb", start: 0xffffffff820a9100, end: 0xffffffffc0a00000},
		{path: kallsyms, name: "some_data", wantErr: "not a function"},
		{path: kallsyms, name: "nope", wantErr: "not a function"},
		{path: kallsyms, name: "twice", wantErr: "2 functions have that name"},
		{path: kallsyms, name: "last", wantErr: "its end is unknown"},
		{path: hidden, name: "__udp4_lib_rcv", wantErr: "hidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kallsymsPath = tt.path
			r, err := FunctionRange(tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tt.name || r.Start != tt.start || r.End != tt.end {
				t.Fatalf("got %s %#x-%#x, want %#x-%#x", r.Name, r.Start, r.End, tt.start, tt.end)
			}
		})
	}
}
