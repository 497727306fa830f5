package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dropmon/dropmon/symbolize"
)

// symbols is the symbol table behind names.Location, for JSON's symbol,
// offset and module.
func symbols(addr uint64) (symbolize.Symbol, uint64, bool) {
	switch addr {
	case 0xffffffff81a3c5f1:
		return symbolize.Symbol{Name: "__udp4_lib_rcv", Addr: 0xffffffff81a3c000}, 0x5f1, true
	case 0xffffffffc0a00042:
		return symbolize.Symbol{Name: "veth_xmit", Module: "veth", Addr: 0xffffffffc0a00000}, 0x42, true
	}
	return symbolize.Symbol{}, 0, false
}

// TestRenderJSONGolden holds the field names of JSON lines: a change to a
// golden file here is a change to dropmon's interface (README "JSON lines").
func TestRenderJSONGolden(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	withSymbols := names
	withSymbols.Symbol = symbols
	program := Names{Raw: func(key string) []string { return []string{key[:1], "__udp4_lib_rcv+0x5f1"} }}
	prog0, prog1 := Key{Raw: "0\x00"}, Key{Raw: "1\x00"}
	tests := []struct {
		name   string
		opts   Options
		counts [2]Counts
	}{
		{name: "location_reason", opts: Options{By: ByLocationReason, Reasons: true, Names: withSymbols}},
		{name: "location", opts: Options{By: ByLocation, Reasons: true, Names: withSymbols}},
		{name: "reason", opts: Options{By: ByReason, Reasons: true, Names: withSymbols}},
		{name: "no_reasons", opts: Options{By: ByLocationReason, Names: withSymbols}},
		{name: "no_symbols", opts: Options{By: ByLocationReason, Reasons: true}},
		{name: "top1", opts: Options{Top: 1, By: ByLocationReason, Reasons: true, Names: withSymbols}},
		{name: "program", opts: Options{Columns: []string{"EVENT", "LOCATION"}, Names: program, Noun: "events"},
			counts: [2]Counts{{prog0: 7}, {prog0: 9, prog1: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Engine, tt.opts.Tracepoint = "jit", "skb:kfree_skb"
			first, second := tt.counts[0], tt.counts[1]
			if first == nil {
				first, second = Counts{udp: 1000, veth: 5}, Counts{udp: 1200, veth: 5, odd: 40}
			}
			tr := NewTracker(tt.opts.By, []int{0, 1}, start)
			var out bytes.Buffer
			for _, r := range []*Report{
				tr.Next(start.Add(time.Second), first, nil),
				tr.Next(start.Add(1500*time.Millisecond), second, []uint64{0, 3}),
				tr.Summary(start.Add(2*time.Second), second, []uint64{0, 3}),
			} {
				if err := RenderJSON(&out, r, tt.opts); err != nil {
					t.Fatal(err)
				}
			}
			checkJSONLines(t, out.String(), 3)
			golden(t, "json_"+tt.name, out.String())
		})
	}
}

// checkJSONLines checks that out is n lines of one JSON object each, the
// last one the summary, each with a share per entry between 0 and 1.
func checkJSONLines(t *testing.T, out string, n int) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	lines := 0
	for sc.Scan() {
		lines++
		var obj struct {
			Type    string
			Entries []struct{ Share float64 }
		}
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %d: %v: %s", lines, err, sc.Text())
		}
		if want := map[bool]string{true: "summary", false: "report"}[lines == n]; obj.Type != want {
			t.Errorf("line %d: type %q, want %q", lines, obj.Type, want)
		}
		for _, e := range obj.Entries {
			if e.Share < 0 || e.Share > 1 {
				t.Errorf("line %d: share %v", lines, e.Share)
			}
		}
	}
	if lines != n {
		t.Errorf("%d lines, want %d", lines, n)
	}
}

// TestJSONMatchesTable: the table and JSON lines render the same report,
// so every row of the table is an entry with the same numbers and names.
func TestJSONMatchesTable(t *testing.T) {
	start := time.Unix(1000, 0).UTC()
	opts := Options{By: ByLocationReason, Reasons: true, Names: names, Top: 2}
	tr := NewTracker(opts.By, []int{0}, start)
	r := tr.Next(start.Add(time.Second), Counts{udp: 30, veth: 20, odd: 10}, nil)
	var table, line bytes.Buffer
	if err := Render(&table, r, opts); err != nil {
		t.Fatal(err)
	}
	if err := RenderJSON(&line, r, opts); err != nil {
		t.Fatal(err)
	}
	var j jsonReport
	if err := json.Unmarshal(line.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(table.String()), "\n")[2:] // header line, column names
	if len(rows) != len(j.Entries) {
		t.Fatalf("table has %d rows, JSON %d entries:\n%s%s", len(rows), len(j.Entries), table.String(), line.String())
	}
	for i, row := range rows {
		f := strings.Fields(row)
		e := j.Entries[i]
		if f[1] != strconv.FormatUint(e.Count, 10) || f[2] != strconv.FormatUint(e.Total, 10) ||
			!regexp.MustCompile(`\s`+regexp.QuoteMeta(e.Location)+`\s+`+e.Reason+`$`).MatchString(row) {
			t.Errorf("row %q, entry %+v", row, e)
		}
	}
}
