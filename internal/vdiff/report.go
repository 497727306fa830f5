package vdiff

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/vgen"
	"github.com/dropmon/dropmon/program"
)

// Group is the disagreements of one kind and class with one message: the
// kernel's error for false accepts, dropmon's for false rejects.
type Group struct {
	Kind    Kind
	Class   vgen.Class
	Message string
	Results []Result
}

// Count is the number of disagreements in the group.
func (g *Group) Count() int { return len(g.Results) }

// ByMode counts the group's disagreements by mode.
func (g *Group) ByMode() map[kernelverdict.Mode]int {
	m := map[kernelverdict.Mode]int{}
	for i := range g.Results {
		m[g.Results[i].Mode]++
	}
	return m
}

// GroupResults groups disagreements, largest group first.
func GroupResults(rs []Result) []*Group {
	type key struct {
		kind  Kind
		class vgen.Class
		msg   string
	}
	by := map[key]*Group{}
	var groups []*Group
	for _, r := range rs {
		k := key{r.Kind(), r.Class, r.groupMessage()}
		g := by[k]
		if g == nil {
			g = &Group{Kind: k.kind, Class: k.class, Message: k.msg}
			by[k] = g
			groups = append(groups, g)
		}
		g.Results = append(g.Results, r)
	}
	slices.SortStableFunc(groups, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(b.Count(), a.Count()),
			cmp.Compare(a.Class, b.Class), strings.Compare(a.Message, b.Message))
	})
	return groups
}

func (r *Result) groupMessage() string {
	switch r.Kind() {
	case FalseAccept:
		return "kernel: " + r.KernelMessage()
	case FalseReject:
		return "dropmon: " + r.OurMessage()
	case Failed:
		return "error: " + Normalize(r.Err.Error())
	}
	return ""
}

// WriteGroups writes every group with its count by mode and, for its
// first examples results (all when examples is 0), both verdicts and
// the program; the other results get one line each.
func WriteGroups(w io.Writer, groups []*Group, examples int) {
	for _, g := range groups {
		fmt.Fprintf(w, "\n== %v / %v / %s: %d (", g.Kind, g.Class, g.Message, g.Count())
		bm := g.ByMode()
		sep := ""
		for _, mode := range kernelverdict.Modes {
			if bm[mode] > 0 {
				fmt.Fprintf(w, "%s%v %d", sep, mode, bm[mode])
				sep = ", "
			}
		}
		fmt.Fprintln(w, ")")
		for i := range g.Results {
			r := &g.Results[i]
			if examples > 0 && i >= examples {
				fmt.Fprintf(w, "-- %s (%v): not shrunk\n", r.Name, r.Mode)
				continue
			}
			WriteResult(w, r)
		}
	}
}

// WriteResult writes one comparison: both verdicts, the kernel's error
// line and the program.
func WriteResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "-- %s (%v), %d instructions\n", r.Name, r.Mode, len(r.Prog.Insns))
	if r.Err != nil {
		fmt.Fprintf(w, "   kernel: no verdict: %v\n", r.Err)
	} else if r.Kernel == kernelverdict.Accept {
		fmt.Fprintf(w, "   kernel:  accept\n")
	} else {
		fmt.Fprintf(w, "   kernel:  reject at insn %d: %s\n", r.KernelInsn(), kernelverdict.ErrorLine(r.KernelLog))
	}
	if r.OurErr == nil {
		fmt.Fprintf(w, "   dropmon: accept\n")
	} else {
		fmt.Fprintf(w, "   dropmon: reject at insn %d: %s\n", r.OurErr.Insn, r.OurErr.Msg)
	}
	WriteProgram(w, r.Prog)
}

// WriteProgram writes a program's type, maps and instructions.
func WriteProgram(w io.Writer, p *program.Program) {
	fmt.Fprintf(w, "   type %v\n", p.Type)
	for i, m := range p.Maps {
		fmt.Fprintf(w, "   map %d: %v key %d value %d entries %d%s\n", i, m.Type, m.KeySize, m.ValueSize,
			m.MaxEntries, flagNames(m.Flags))
	}
	lines := strings.SplitAfter(fmt.Sprint(p.Insns), "\n")
	if n := len(lines); n > maxLines {
		// A program past the unprivileged instruction limit does not
		// shrink: its middle says nothing.
		lines = append(append(lines[:maxLines/2:maxLines/2],
			fmt.Sprintf("\t... %d lines ...\n", n-maxLines)), lines[n-maxLines/2:]...)
	}
	for _, line := range lines {
		if line != "" {
			fmt.Fprintf(w, "   %s", line)
		}
	}
}

// maxLines is the most lines of a program a report prints.
const maxLines = 80

func flagNames(f uint32) string {
	var s string
	if f&vgen.FlagRDOnlyProg != 0 {
		s += " BPF_F_RDONLY_PROG"
	}
	if f&vgen.FlagWROnlyProg != 0 {
		s += " BPF_F_WRONLY_PROG"
	}
	return s
}
