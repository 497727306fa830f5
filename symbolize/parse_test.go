package symbolize

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// sym is an entry as callers see it, for comparing tables.
type sym struct {
	addr         uint64
	name, module string
}

func (s sym) String() string { return fmt.Sprintf("%#x %q [%s]", s.addr, s.name, s.module) }

func (s *symbols) list() []sym {
	out := make([]sym, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, sym{e.addr, s.name(&e), s.modules[e.module]})
	}
	return out
}

func kallsymsLine(addr uint64, typ byte, name, module string) string {
	if module != "" {
		return fmt.Sprintf("%016x %c %s\t[%s]\n", addr, typ, name, module)
	}
	return fmt.Sprintf("%016x %c %s\n", addr, typ, name)
}

// manyModules is one symbol in each of n modules.
func manyModules(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(kallsymsLine(0xffffffffc0000000+uint64(i)*16, 't', "f", fmt.Sprint("m", i)))
	}
	return b.String()
}

type parseCase struct {
	name       string
	in         string
	want       []sym // nil: no symbols
	restricted bool
	wantErr    string
	wantIs     error
}

var parseCases = []parseCase{
	{name: "core symbol", in: "ffffffff81000000 T _stext\n",
		want: []sym{{0xffffffff81000000, "_stext", ""}}},
	{name: "module symbol", in: "ffffffffc0a00000 t veth_xmit\t[veth]\n",
		want: []sym{{0xffffffffc0a00000, "veth_xmit", "veth"}}},
	{name: "empty brackets are the core kernel", in: "ffffffffc0a00000 t f\t[]\n",
		want: []sym{{0xffffffffc0a00000, "f", ""}}},
	{name: "module without brackets", in: "ffffffff81000000 T a\nffffffff81000010 t b\tveth\nffffffff81000020 t c\t[veth\n",
		want: []sym{{0xffffffff81000000, "a", ""}}},
	{name: "fields after the module ignored", in: "ffffffff81000000 T a\t[m] x y\n",
		want: []sym{{0xffffffff81000000, "a", "m"}}},
	{name: "bad hex", in: "ffffffff8100zzzz T bad\nffffffff81000000 T ok\n",
		want: []sym{{0xffffffff81000000, "ok", ""}}},
	{name: "0x prefix", in: "0xffffffff81000000 T bad\n-1 T neg\n+1 T pos\nffffffff_81000000 T under\nffffffff81000000 T ok\n",
		want: []sym{{0xffffffff81000000, "ok", ""}}},
	{name: "more than 64 bits", in: "1ffffffff81000000 T big\nffffffff81000000 T ok\n",
		want: []sym{{0xffffffff81000000, "ok", ""}}},
	{name: "leading zeros and upper case", in: "00000000FFFFFFFF81000000 T a\n",
		want: []sym{{0xffffffff81000000, "a", ""}}},
	{name: "two-letter type", in: "ffffffff81000000 TT a\nffffffff81000010 T b\n",
		want: []sym{{0xffffffff81000010, "b", ""}}},
	{name: "too few fields", in: "ffffffff81000000 T\nffffffff81000010\n\nffffffff81000020 t c\n",
		want: []sym{{0xffffffff81000020, "c", ""}}},
	{name: "data symbols skipped", in: "ffffffff81000000 D d\nffffffff81000010 T a\nffffffff81000020 R r\nffffffff81000030 b bss\n",
		want: []sym{{0xffffffff81000010, "a", ""}}},
	{name: "data only", in: "ffffffff81000000 D d\n"},
	{name: "CRLF, tabs, blank lines, no final newline", in: "\r\n  ffffffff81000000\tT\ta\r\n\n\fffffffff81000010 \v T  b  [m] \r\nffffffff81000020 t c",
		want: []sym{{0xffffffff81000000, "a", ""}, {0xffffffff81000010, "b", "m"}, {0xffffffff81000020, "c", ""}}},
	{name: "non-ASCII space splits as in strings.Fields", in: "ffffffff81000000 T a\u00a0[m]\nffffffff81000010\u2003T\u0085b\n",
		want: []sym{{0xffffffff81000000, "a", "m"}, {0xffffffff81000010, "b", ""}}},
	{name: "non-ASCII name", in: "ffffffff81000000 T naïve\nffffffff81000010 T \xff\xfe\n",
		want: []sym{{0xffffffff81000000, "naïve", ""}, {0xffffffff81000010, "\xff\xfe", ""}}},
	{name: "non-ASCII type", in: "ffffffff81000000 é a\nffffffff81000010 T b\n",
		want: []sym{{0xffffffff81000010, "b", ""}}},
	{name: "longest name kept", in: "ffffffff81000000 T " + strings.Repeat("n", 0xffff) + "\n",
		want: []sym{{0xffffffff81000000, strings.Repeat("n", 0xffff), ""}}},
	{name: "longer name skipped", in: "ffffffff81000000 T " + strings.Repeat("n", 0x10000) + "\nffffffff81000010 T b\n",
		want: []sym{{0xffffffff81000010, "b", ""}}},
	{name: "longest line", in: "ffffffff81000000 T " + strings.Repeat("n", maxLineLen-1-19) + "\n"},
	{name: "longest last line", in: "ffffffff81000000 T a\nffffffff81000000 T " + strings.Repeat("n", maxLineLen-1-19),
		want: []sym{{0xffffffff81000000, "a", ""}}},
	{name: "line too long", in: "ffffffff81000000 T a\nffffffff81000000 T " + strings.Repeat("n", maxLineLen-19) + "\n",
		wantIs: bufio.ErrTooLong},
	{name: "last line too long", in: "ffffffff81000000 T " + strings.Repeat("n", maxLineLen-19),
		wantIs: bufio.ErrTooLong},
	{name: "duplicate: local then global", in: "ffffffff81000000 t loc\nffffffff81000000 T glob\nffffffff81000000 W weak\n",
		want: []sym{{0xffffffff81000000, "glob", ""}}},
	{name: "duplicate: global then local", in: "ffffffff81000000 W weak\nffffffff81000000 t loc\nffffffff81000000 T glob\n",
		want: []sym{{0xffffffff81000000, "weak", ""}}},
	{name: "duplicate: locals", in: "ffffffff81000000 w w1\nffffffff81000000 t t1\n",
		want: []sym{{0xffffffff81000000, "w1", ""}}},
	{name: "duplicate across modules", in: "ffffffffc0000000 t a\t[m1]\nffffffffc0000000 T b\t[m2]\n",
		want: []sym{{0xffffffffc0000000, "b", "m2"}}},
	{name: "duplicate apart: global later", in: "ffffffff81000000 t loc\nffffffff81000010 T x\nffffffff81000000 T glob\nffffffff81000000 T glob2\n",
		want: []sym{{0xffffffff81000000, "glob", ""}, {0xffffffff81000010, "x", ""}}},
	{name: "duplicate apart: global first", in: "ffffffff81000000 T glob\nffffffff81000010 T x\nffffffff81000000 t loc\nffffffff81000000 T glob2\n",
		want: []sym{{0xffffffff81000000, "glob", ""}, {0xffffffff81000010, "x", ""}}},
	{name: "duplicate apart: both late", in: "ffffffff81000010 T x\nffffffff81000000 t loc\nffffffff81000020 T y\nffffffff81000000 T glob\nffffffff81000000 t loc2\n",
		want: []sym{{0xffffffff81000000, "glob", ""}, {0xffffffff81000010, "x", ""}, {0xffffffff81000020, "y", ""}}},
	{name: "modules after the core, unsorted", in: "ffffffff81000000 T a\nffffffff81000100 T b\nffffffffc0b00000 t m2f\t[m2]\nffffffffc0a00100 t m1g\t[m1]\nffffffffc0a00000 t m1f\t[m1]\nffffffff81000080 T c\n",
		want: []sym{{0xffffffff81000000, "a", ""}, {0xffffffff81000080, "c", ""}, {0xffffffff81000100, "b", ""},
			{0xffffffffc0a00000, "m1f", "m1"}, {0xffffffffc0a00100, "m1g", "m1"}, {0xffffffffc0b00000, "m2f", "m2"}}},
	{name: "descending", in: "0000000000000300 T c\n0000000000000200 T b\n0000000000000100 T a\n",
		want: []sym{{0x100, "a", ""}, {0x200, "b", ""}, {0x300, "c", ""}}},
	{name: "zeroed addresses", in: "0000000000000000 T _stext\n0000000000000000 t foo\t[mod]\n0000000000000000 D data\n",
		want: []sym{{0, "_stext", ""}}, restricted: true},
	{name: "one address not zero", in: "0000000000000000 T _stext\n0000000000000010 D data\n",
		want: []sym{{0, "_stext", ""}}},
	{name: "65535 modules", in: manyModules(0xffff)},
	{name: "65536 modules", in: manyModules(0x10000), wantErr: "more than 65535 modules"},
	{name: "empty", in: "", wantErr: "no symbols in 0 lines"},
	{name: "garbage", in: "hello world\n\nx", wantErr: "no symbols in 3 lines"},
}

// TestParseCases checks parse on edge cases, and that it agrees with the
// reference parser on each.
func TestParseCases(t *testing.T) {
	for _, tt := range parseCases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parse(strings.NewReader(tt.in))
			switch {
			case tt.wantIs != nil || tt.wantErr != "":
				if err == nil {
					t.Fatal("no error")
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Fatalf("err = %v, want %v", err, tt.wantIs)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if tt.name != "65535 modules" && !slices.Equal(s.list(), tt.want) {
					t.Errorf("got  %v\nwant %v", s.list(), tt.want)
				}
				if s.restricted != tt.restricted {
					t.Errorf("restricted = %v, want %v", s.restricted, tt.restricted)
				}
			}
			checkReference(t, []byte(tt.in))
		})
	}
}

// checkReference fails unless parse and referenceParse agree on in.
func checkReference(t *testing.T, in []byte) {
	t.Helper()
	got, err := parse(bytes.NewReader(in))
	want, wantErr := referenceParse(bytes.NewReader(in))
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("err = %v, reference err = %v", err, wantErr)
	}
	if err != nil {
		if errors.Is(wantErr, bufio.ErrTooLong) && !errors.Is(err, bufio.ErrTooLong) ||
			!errors.Is(wantErr, bufio.ErrTooLong) && err.Error() != wantErr.Error() {
			t.Fatalf("err = %v, reference err = %v", err, wantErr)
		}
		return
	}
	if got.restricted != want.restricted {
		t.Errorf("restricted = %v, reference %v", got.restricted, want.restricted)
	}
	g, w := got.list(), want.syms
	if !slices.Equal(g, w) {
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("%d entries, reference %d; entry %d = %v, reference %v", len(g), len(w), i, g[i], w[i])
			}
		}
		t.Fatalf("%d entries, reference %d", len(g), len(w))
	}
}

// TestParseMatchesReference compares with the reference parser on synthetic
// tables: as the kernel lists them, with every line shuffled, and on the
// fixture and the live kallsyms.
func TestParseMatchesReference(t *testing.T) {
	inputs := map[string][]byte{
		"synthetic": syntheticKallsyms(20000, 0.2),
		"shuffled":  shuffleLines(syntheticKallsyms(20000, 0.2)),
	}
	if b, err := os.ReadFile("testdata/kallsyms"); err == nil {
		inputs["fixture"] = b
	}
	if b, err := os.ReadFile(KallsymsPath); err == nil {
		inputs["live"] = b
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) { checkReference(t, in) })
	}
}

// TestParseReaders feeds parse through readers that return little at a
// time, data with io.EOF, an error, or nothing at all.
func TestParseReaders(t *testing.T) {
	text := syntheticKallsyms(3000, 0.2)
	tests := []struct {
		name    string
		reader  func() io.Reader
		wantErr error
	}{
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(text)) }, nil},
		{"half reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(text)) }, nil},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(text)) }, nil},
		{"error after data", func() io.Reader { return iotest.TimeoutReader(bytes.NewReader(text)) }, iotest.ErrTimeout},
		{"no progress", func() io.Reader { return emptyReader{} }, io.ErrNoProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.reader())
			want, wantErr := referenceParse(tt.reader())
			if !errors.Is(err, tt.wantErr) || !errors.Is(wantErr, tt.wantErr) {
				t.Fatalf("err = %v, reference err = %v, want %v", err, wantErr, tt.wantErr)
			}
			if err == nil && !slices.Equal(got.list(), want.syms) {
				t.Error("table differs from the reference")
			}
		})
	}
}

// emptyReader reads nothing, forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func FuzzParse(f *testing.F) {
	for _, tt := range parseCases {
		if len(tt.in) < 4096 {
			f.Add([]byte(tt.in))
		}
	}
	f.Add(syntheticKallsyms(50, 0.3))
	f.Fuzz(func(t *testing.T, in []byte) { checkReference(t, in) })
}

// syntheticKallsyms makes a kallsyms-like text of about n lines: core
// kernel symbols sorted by address (some data, some weak, a few sharing
// an address), then modules' symbols, newest module first and each in no
// particular order, as the kernel lists them.
func syntheticKallsyms(n int, moduleShare float64) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	name := func(b []byte, i int) []byte {
		for range 8 + rng.IntN(24) {
			b = append(b, byte('a'+rng.IntN(26)))
		}
		return fmt.Appendf(b, "_%d", i)
	}
	var b []byte
	nMod := int(float64(n) * moduleShare)
	addr := uint64(0xffffffff81000000)
	for i := range n - nMod {
		typ := "tT"[rng.IntN(2)]
		switch {
		case i%100 == 99:
			typ = 'D'
		case i%1000 == 500:
			typ = 'W'
		}
		if i%1700 != 1 {
			addr += 16 * uint64(1+rng.IntN(64))
		}
		b = fmt.Appendf(b, "%016x %c ", addr, typ)
		b = append(name(b, i), '\n')
	}
	const modules = 40
	for m := modules - 1; m >= 0; m-- {
		base := 0xffffffffc0000000 + uint64(m)<<20
		for _, j := range rng.Perm(nMod / modules) {
			b = fmt.Appendf(b, "%016x %c ", base+uint64(j)*64, "tT"[rng.IntN(2)])
			b = fmt.Appendf(name(b, j), "\t[mod%d]\n", m)
		}
	}
	return b
}

func shuffleLines(in []byte) []byte {
	lines := bytes.SplitAfter(in, []byte("\n"))
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return bytes.Join(lines, nil)
}

// BenchmarkLoad reads the live /proc/kallsyms: "read" only copies it out of
// the kernel (the kernel's share of Load, which no parser can save),
// "parse" parses a copy in memory (our share), "load" is Load.
func BenchmarkLoad(b *testing.B) {
	text, err := os.ReadFile(KallsymsPath)
	if err != nil {
		b.Skipf("skipping: %v", err)
	}
	b.Run("read", func(b *testing.B) {
		buf := make([]byte, 64<<10)
		b.ReportAllocs()
		for b.Loop() {
			f, err := os.Open(KallsymsPath)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parse(bytes.NewReader(text)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Load(); err != nil && !errors.Is(err, ErrRestricted) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParse parses a synthetic 120,000-line kallsyms: "core" is all
// sorted, "modules" has 10% module symbols out of order.
func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct {
		name  string
		share float64
	}{{"core", 0}, {"modules", 0.1}} {
		in := syntheticKallsyms(120000, bc.share)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parse(bytes.NewReader(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
