package report

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Stack is a kernel call chain as a comparable value, so that it can be
// part of a Key: the frames' addresses, 8 bytes each, innermost first. ""
// means no call chain was asked for; LostStack, that one was asked for but
// the program could not get it (the stack map's bucket held another chain,
// or the chain was empty).
type Stack string

// LostStack is a call chain the program asked for and did not get.
const LostStack Stack = "lost"

// StackOf makes a Stack of frames, innermost first; no frames is LostStack.
func StackOf(frames []uint64) Stack {
	if len(frames) == 0 {
		return LostStack
	}
	b := make([]byte, 0, 8*len(frames))
	for _, ip := range frames {
		b = binary.LittleEndian.AppendUint64(b, ip)
	}
	return Stack(b)
}

// Frames returns the stack's addresses, innermost first; none for "" and
// LostStack.
func (s Stack) Frames() []uint64 {
	if s == LostStack {
		return nil
	}
	frames := make([]uint64, len(s)/8)
	for i := range frames {
		frames[i] = binary.LittleEndian.Uint64([]byte(s[8*i : 8*i+8]))
	}
	return frames
}

// StackRow is one call chain of a row and its drops.
type StackRow struct {
	Stack    Stack
	Interval uint64 // drops in the report's interval
	Total    uint64 // drops since start
}

// DefaultStackTop is how many call chains a row shows when
// Options.StackTop is 0.
const DefaultStackTop = 3

// mergeStacks folds rows that differ only in their stack into one row per
// location and reason, whose Stacks are the parts, busiest first. Rows
// without stacks are left alone.
func mergeStacks(rows []Row, byTotal bool) []Row {
	var out []Row
	at := map[Key]int{}
	for _, r := range rows {
		if r.Key.Stack == "" {
			out = append(out, r)
			continue
		}
		k := r.Key
		k.Stack = ""
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, Row{Key: k})
		}
		row := &out[i]
		row.Interval += r.Interval
		row.Total += r.Total
		row.Stacks = append(row.Stacks, StackRow{Stack: r.Key.Stack, Interval: r.Interval, Total: r.Total})
	}
	for i := range out {
		sortStacks(out[i].Stacks, byTotal)
	}
	return out
}

func sortStacks(stacks []StackRow, byTotal bool) {
	slices.SortFunc(stacks, func(a, b StackRow) int {
		if !byTotal {
			if c := cmp.Compare(b.Interval, a.Interval); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return cmp.Compare(a.Stack, b.Stack)
	})
}

// shownStacks returns the call chains a row shows: the top ones, and none
// that had no drops in the interval (in the report) or at all.
func (o Options) shownStacks(row Row, summary bool) []StackRow {
	top := o.StackTop
	if top == 0 {
		top = DefaultStackTop
	}
	var out []StackRow
	for _, s := range row.Stacks {
		if len(out) == top || (!summary && s.Interval == 0) {
			break
		}
		out = append(out, s)
	}
	return out
}

// frames renders a stack's frames as LOCATION does.
func (o Options) frames(s Stack) []string {
	var out []string
	for _, ip := range s.Frames() {
		out = append(out, o.Names.location(ip))
	}
	return out
}

// renderStacks writes a row's top call chains under it: the drops of each
// and their share of the row's, then its frames, innermost first.
func renderStacks(w io.Writer, row Row, summary bool, opts Options) error {
	var b strings.Builder
	n := row.Interval
	if summary {
		n = row.Total
	}
	for _, s := range opts.shownStacks(row, summary) {
		c := s.Interval
		if summary {
			c = s.Total
		}
		if s.Stack == LostStack {
			fmt.Fprintf(&b, "      %d (%s) call chain lost (stack map bucket taken, or no frames)\n", c, share(c, n))
			continue
		}
		fmt.Fprintf(&b, "      %d (%s)\n", c, share(c, n))
		for _, f := range opts.frames(s.Stack) {
			fmt.Fprintf(&b, "          %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
