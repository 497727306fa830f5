package report

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// Call chains for the stack tests: frames that names.Location knows
// (0xdead for the rest), innermost first.
var (
	stackA = StackOf([]uint64{0xffffffff81a3c5f1, 0xffffffffc0a00042})
	stackB = StackOf([]uint64{0xffffffffc0a00042, 0xffffffff81000001})
)

// stackCounts are udp's and veth's drops split by call chain.
func stackCounts(udpA, udpB, udpLost, vethA uint64) Counts {
	c := Counts{}
	for st, n := range map[Stack]uint64{stackA: udpA, stackB: udpB, LostStack: udpLost} {
		if n > 0 {
			k := udp
			k.Stack = st
			c[k] = n
		}
	}
	k := veth
	k.Stack = stackA
	c[k] = vethA
	return c
}

// TestRenderStacksGolden holds the table's and JSON lines' rendering of
// call chains: under each row its busiest ones, with counts that sum to
// the row's.
func TestRenderStacksGolden(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	withSymbols := names
	withSymbols.Symbol = symbols
	first, second := stackCounts(600, 399, 1, 5), stackCounts(700, 500, 1, 5)
	for _, tt := range []struct {
		name string
		json bool
		opts Options
	}{
		{name: "stacks", opts: Options{By: ByLocationReason, Reasons: true, Names: names}},
		{name: "stacks_top1", opts: Options{By: ByLocationReason, Reasons: true, Names: names, StackTop: 1}},
		{name: "json_stacks", json: true, opts: Options{By: ByLocationReason, Reasons: true, Names: withSymbols,
			Engine: "jit", Tracepoint: "skb:kfree_skb"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(tt.opts.By, []int{0, 1}, start)
			var out bytes.Buffer
			for _, r := range []*Report{
				tr.Next(start.Add(time.Second), first, nil),
				tr.Next(start.Add(1500*time.Millisecond), second, nil),
				tr.Summary(start.Add(2*time.Second), second, nil),
			} {
				render := Render
				if tt.json {
					render = RenderJSON
				}
				if err := render(&out, r, tt.opts); err != nil {
					t.Fatal(err)
				}
			}
			if tt.json {
				checkJSONLines(t, out.String(), 3)
			}
			golden(t, tt.name, out.String())
		})
	}
}

// TestStacksSum: a row's call chains sum to its counts, also when the
// grouping sums locations or reasons (and so their chains).
func TestStacksSum(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, by := range []Grouping{ByLocationReason, ByLocation, ByReason} {
		tr := NewTracker(by, []int{0}, start)
		tr.Next(start.Add(time.Second), stackCounts(10, 20, 3, 4), nil)
		r := tr.Next(start.Add(2*time.Second), stackCounts(15, 30, 3, 9), nil)
		for _, row := range r.Rows {
			var interval, total uint64
			for _, s := range row.Stacks {
				interval += s.Interval
				total += s.Total
			}
			if interval != row.Interval || total != row.Total || row.Key.Stack != "" {
				t.Errorf("--by %s: row %+v: stacks sum to %d, %d", by, row, interval, total)
			}
		}
		if by == ByReason {
			// Locations summed: udp's reason 3 alone, veth's 64 alone.
			if len(r.Rows) != 2 {
				t.Fatalf("--by reason: %+v", r.Rows)
			}
		}
	}
	tr := NewTracker(ByReason, []int{0}, start)
	c := stackCounts(10, 0, 0, 4)
	k := udp
	k.Reason, k.Stack = veth.Reason, stackA
	c[k] = 6 // udp's location, veth's reason and chain: sums with veth's
	r := tr.Next(start.Add(time.Second), c, nil)
	for _, row := range r.Rows {
		if row.Key.Reason == veth.Reason && !slices.Equal(row.Stacks, []StackRow{{Stack: stackA, Interval: 10, Total: 10}}) {
			t.Errorf("--by reason: %+v", row)
		}
	}
}

func TestStackOf(t *testing.T) {
	frames := []uint64{0xffffffff81a3c5f1, 1}
	if got := StackOf(frames).Frames(); !slices.Equal(got, frames) {
		t.Errorf("StackOf(%x).Frames() = %x", frames, got)
	}
	if StackOf(nil) != LostStack || LostStack.Frames() != nil {
		t.Error("no frames is not LostStack")
	}
}
