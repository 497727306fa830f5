package tracepoint

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, tt := range []struct {
		name    string
		wantErr string // "" for a valid name
	}{
		{name: "kfree_skb"},
		{name: "sched_switch"},
		{name: "9p"},                  // TRACE_SYSTEM 9p
		{name: "intel-iommu"},         // is_good_system_name allows '-'
		{name: "_underscore_first_0"}, // is_good_name allows it
		{name: strings.Repeat("a", 255)},
		{name: "", wantErr: `invalid event name: empty`},
		{name: strings.Repeat("a", 256), wantErr: "longer than 255 bytes"},
		{name: "..", wantErr: `invalid event name "..": character '.' not allowed`},
		{name: "a/b", wantErr: `character '/' not allowed`},
		{name: "../../etc", wantErr: `character '.' not allowed`},
		{name: "kfree_skb.isra.0", wantErr: `character '.' not allowed`},
		{name: "skb:kfree_skb", wantErr: `character ':' not allowed`},
		{name: "a b", wantErr: `character ' ' not allowed`},
		{name: "a\x00", wantErr: `character '\x00' not allowed`},
		{name: "ünï", wantErr: `character '\xc3' not allowed`},
		{name: "*", wantErr: `character '*' not allowed`},
	} {
		err := checkName("event", tt.name)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkName(%.30q) = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkName(%.30q) = %v, want error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestSuggest(t *testing.T) {
	skb := []string{"consume_skb", "kfree_skb", "skb_copy_datagram_iovec"}
	for _, tt := range []struct {
		want string
		have []string
		out  []string
	}{
		{want: "kfree_skbb", have: skb, out: []string{"kfree_skb"}},
		{want: "kfree_sbk", have: skb, out: []string{"kfree_skb"}},
		{want: "kfree", have: skb, out: []string{"kfree_skb"}},
		{want: "consume", have: skb, out: []string{"consume_skb"}},
		{want: "kfree_skb", have: skb, out: nil}, // itself is no suggestion
		{want: "xyz", have: skb, out: nil},
		{want: "sched", have: []string{"sched_switch", "sched_wakeup", "sched_waking", "sched_process_exec", "irq"},
			out: []string{"sched_switch", "sched_wakeup", "sched_waking"}},
		{want: "skbb", have: []string{"skb", "sock", "sched"}, out: []string{"skb"}},
		{want: "kfree_skb_reason", have: skb, out: []string{"kfree_skb"}},
		{want: "sk", have: skb, out: []string{}},
	} {
		if got := suggest(tt.want, tt.have); !slices.Equal(got, tt.out) {
			t.Errorf("suggest(%q) = %q, want %q", tt.want, got, tt.out)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kfree_skb", "kfree_skbb", 1}, {"kfree_skb", "kfree_sbk", 2},
		{"kitten", "sitting", 3}, {"skb", "sock", 3}} {
		if d := editDistance(tt.a, tt.b); d != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, d, tt.d)
		}
		if d := editDistance(tt.b, tt.a); d != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, d, tt.d)
		}
	}
}

// fakeTracefs builds a tracefs look-alike with skb and sched events and makes
// TracefsPath return it for the rest of the test.
func fakeTracefs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for event, fixture := range map[string]string{
		"skb/kfree_skb":               "kfree_skb_6.18.format",
		"skb/consume_skb":             "",
		"skb/skb_copy_datagram_iovec": "",
		"sched/sched_switch":          "sched_switch_6.18.format",
		"sched/sched_process_exec":    "sched_process_exec_6.18.format",
		"broken/bad":                  "",
	} {
		dir := filepath.Join(root, "events", event)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte("name: " + filepath.Base(event) + "\nID: x\n")
		if fixture != "" {
			data = readFixture(t, fixture)
		}
		if err := os.WriteFile(filepath.Join(dir, "format"), data, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"events/enable", "events/skb/enable", "events/skb/filter"} {
		if err := os.WriteFile(filepath.Join(root, file), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tracefsCache.mu.Lock()
	saved := tracefsCache.path
	tracefsCache.path = root
	tracefsCache.mu.Unlock()
	t.Cleanup(func() {
		tracefsCache.mu.Lock()
		tracefsCache.path = saved
		tracefsCache.mu.Unlock()
	})
	return root
}

func TestReadFormatFake(t *testing.T) {
	root := fakeTracefs(t)
	events := filepath.Join(root, "events")
	for _, tt := range []struct {
		group, name string
		wantErr     []string // substrings; none for success
		notFound    bool
	}{
		{group: "skb", name: "kfree_skb"},
		{group: "sched", name: "sched_process_exec"},
		{group: "skb", name: "kfree_skbb", notFound: true,
			wantErr: []string{"read format of skb:kfree_skbb: tracepoint not found (did you mean skb:kfree_skb?)"}},
		{group: "sched", name: "sched_swich", notFound: true,
			wantErr: []string{"did you mean sched:sched_switch?"}},
		{group: "skb", name: "xyz", notFound: true,
			wantErr: []string{"tracepoint not found: no event xyz in group skb (list them with `ls " + events + "/skb`)"}},
		{group: "skb", name: "enable", notFound: true, wantErr: []string{"read format of skb:enable: tracepoint not found"}},
		{group: "skbb", name: "kfree_skb", notFound: true,
			wantErr: []string{"no group skbb (did you mean skb:kfree_skb? list groups with `ls " + events + "`)"}},
		{group: "nosuchgroup", name: "x", notFound: true,
			wantErr: []string{"no group nosuchgroup (list groups with `ls " + events + "`)"}},
		{group: "broken", name: "bad", wantErr: []string{`parse format of broken:bad: line 2: ID "x" is not a 32-bit number`}},
		{group: "..", name: "skb", wantErr: []string{`read format: invalid group name "..": character '.' not allowed`}},
		{group: "skb", name: "../skb/kfree_skb", wantErr: []string{`invalid event name "../skb/kfree_skb"`}},
		{group: "skb", name: "", wantErr: []string{"invalid event name: empty"}},
	} {
		t.Run(tt.group+":"+tt.name, func(t *testing.T) {
			f, err := ReadFormat(tt.group, tt.name)
			if len(tt.wantErr) == 0 {
				if err != nil || f.Group != tt.group || f.Name != tt.name || len(f.Fields) == 0 {
					t.Fatalf("ReadFormat = %+v, %v", f, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadFormat = %+v, want an error", f)
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tt.notFound, tt.notFound)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nlacks %q", err, want)
				}
			}
		})
	}
}
