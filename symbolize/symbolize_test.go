package symbolize

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func loadFixture(t *testing.T) *Table {
	t.Helper()
	tab, err := LoadFile("testdata/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestGolden looks up every address of testdata/kallsyms.golden and
// compares with its expected %pS form (with sizes).
func TestGolden(t *testing.T) {
	tab := loadFixture(t)
	f, err := os.Open("testdata/kallsyms.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		addrText, want, _ := strings.Cut(sc.Text(), " ")
		addr, err := strconv.ParseUint(strings.TrimPrefix(addrText, "0x"), 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(tab.AppendFormat(nil, addr, true)); got != want {
			t.Errorf("%#x: got %q, want %q", addr, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	tab := loadFixture(t)
	// 12 code symbols, minus 2 duplicates at _stext's address; data and bad lines skipped.
	if tab.Len() != 10 {
		t.Errorf("Len = %d, want 10", tab.Len())
	}
	sym, off, ok := tab.Lookup(0xffffffff81000000)
	if !ok || sym.Name != "_stext" || off != 0 {
		t.Errorf("duplicate address: got %+v (ok %v), want the first global symbol _stext", sym, ok)
	}
	if got := tab.Format(0xffffffffc0a00010); got != "veth_xmit+0x10 [veth]" {
		t.Errorf("Format = %q", got)
	}
	if tab.Restricted() {
		t.Error("fixture table says restricted")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  error
		wantText string
	}{
		{name: "empty", in: "", wantText: "no symbols"},
		{name: "garbage", in: "hello world\n", wantText: "no symbols"},
		{name: "zeroed addresses", in: "0000000000000000 T _stext\n0000000000000000 t foo\t[mod]\n", wantErr: ErrRestricted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want %q", err, tt.wantText)
			}
			if errors.Is(err, ErrRestricted) {
				if !tab.Restricted() {
					t.Error("table not marked restricted")
				}
				if got := tab.Format(0xffffffff81000010); got != "0xffffffff81000010" {
					t.Errorf("restricted table formats %q, want the raw address", got)
				}
			}
		})
	}
}

// TestReloadOnMiss: an address past every symbol (a module loaded later)
// reloads the file once, then resolves.
func TestReloadOnMiss(t *testing.T) {
	old := reloadInterval
	reloadInterval = 0
	defer func() { reloadInterval = old }()

	path := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(path, []byte("ffffffff81000000 T _stext\nffffffff81000100 T _etext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const modAddr = 0xffffffffc0c00010
	if _, _, ok := tab.Lookup(modAddr); ok {
		t.Fatal("module address resolved before the module exists")
	}
	if err := os.WriteFile(path, []byte("ffffffff81000000 T _stext\nffffffff81000100 T _etext\nffffffffc0c00000 t late_fn\t[late]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := tab.Format(modAddr); got != "late_fn+0x10 [late]" {
		t.Errorf("after the module appeared: %q", got)
	}

	reloadInterval = time.Hour
	before := tab.reloads
	tab.Lookup(0xffffffffd0000000)
	if tab.reloads != before {
		t.Error("a miss reloaded again within the reload interval")
	}
}

func TestLiveKallsyms(t *testing.T) {
	tab, err := Load()
	if errors.Is(err, ErrRestricted) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() < 1000 {
		t.Fatalf("only %d symbols", tab.Len())
	}
	// The address of a well-known function resolves to itself.
	f, err := os.Open(KallsymsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 && fields[2] == "kfree_skb_reason" || len(fields) >= 3 && fields[2] == "sk_skb_reason_drop" {
			addr, _ := strconv.ParseUint(fields[0], 16, 64)
			want := fmt.Sprintf("%s+0x4", fields[2])
			if got := tab.Format(addr + 4); got != want {
				t.Errorf("Format(%#x) = %q, want %q", addr+4, got, want)
			}
			return
		}
	}
	t.Skip("kernel has no kfree_skb_reason symbol")
}

func BenchmarkLookup(b *testing.B) {
	tab, err := Load()
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	s := tab.snapshot()
	addrs := make([]uint64, 1024)
	for i := range addrs {
		j := (i * 7919) % len(s.entries)
		addrs[i] = s.entries[j].addr + s.size(j)/2
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := tab.Lookup(addrs[i%len(addrs)]); !ok {
			b.Fatal("miss")
		}
	}
}
