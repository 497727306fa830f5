package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// kind is the tool a case runs beside the storm.
type kind int

const (
	kindNone kind = iota
	kindDropmon
	kindPerf
	kindBpftrace
)

// benchCase is one column of the comparison: a tracer and its arguments.
type benchCase struct {
	name string
	kind kind
	args []string // dropmon's arguments after the common ones
	// record runs dropmon record, writing the records to a file beside
	// perf's (the comparison with perf record, which writes one too).
	record bool

	interval time.Duration // dropmon's report interval, set by setIntervals
}

// builtinCases are the cases that run unless -cases says otherwise.
func builtinCases() []benchCase {
	return []benchCase{
		{name: "none", kind: kindNone},
		{name: "dropmon-jit", kind: kindDropmon, args: []string{"--engine", "jit"}},
		{name: "dropmon-interp", kind: kindDropmon, args: []string{"--engine", "interp"}},
		{name: "dropmon-kernel", kind: kindDropmon, args: []string{"--engine", "kernel"}},
		{name: "dropmon-record", kind: kindDropmon, args: []string{"--engine", "jit"}, record: true},
		{name: "perf", kind: kindPerf},
		{name: "bpftrace", kind: kindBpftrace},
	}
}

// bpftraceProgram counts drops per location in a kernel map, as dropmon does.
const bpftraceProgram = `tracepoint:skb:kfree_skb { @[ksym(args->location)] = count(); }`

// extraFlag collects -extra values: "name=dropmon args", repeatable, and
// several to a value when separated by commas.
type extraFlag []benchCase

func (e *extraFlag) String() string {
	var parts []string
	for _, c := range *e {
		parts = append(parts, c.name+"="+strings.Join(c.args, " "))
	}
	return strings.Join(parts, ",")
}

func (e *extraFlag) Set(v string) error {
	cases, err := parseExtra(v)
	if err != nil {
		return err
	}
	*e = append(*e, cases...)
	return nil
}

// parseExtra reads "dropmon-percpu=--readers per-cpu,dropmon-big=--ring-size 4M".
func parseExtra(v string) ([]benchCase, error) {
	var cases []benchCase
	for _, part := range strings.Split(v, ",") {
		name, args, ok := strings.Cut(strings.TrimSpace(part), "=")
		name = strings.TrimSpace(name)
		switch {
		case !ok:
			return nil, fmt.Errorf("extra case %q: want name=dropmon arguments", part)
		case name == "" || strings.ContainsAny(name, " \t"):
			return nil, fmt.Errorf("extra case %q: name must be one word", part)
		}
		cases = append(cases, benchCase{name: name, kind: kindDropmon, args: strings.Fields(args)})
	}
	return cases, nil
}

// selectCases returns the cases named in the comma-separated list, in its
// order, or all cases when the list is empty. Cases whose tool is not
// installed are left out, each with a note.
func selectCases(all []benchCase, list string, lookPath func(string) (string, error)) (selected []benchCase, notes []string, err error) {
	chosen := all
	if list != "" {
		chosen = nil
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			i := slices.IndexFunc(all, func(c benchCase) bool { return c.name == name })
			if i < 0 {
				return nil, nil, fmt.Errorf("unknown case %q (cases: %s)", name, caseNames(all))
			}
			chosen = append(chosen, all[i])
		}
	}
	for _, c := range chosen {
		if tool := c.kind.tool(); tool != "" {
			if _, err := lookPath(tool); err != nil {
				notes = append(notes, fmt.Sprintf("case %s skipped: %s is not installed", c.name, tool))
				continue
			}
		}
		selected = append(selected, c)
	}
	if len(selected) == 0 {
		return nil, notes, fmt.Errorf("no case to run")
	}
	return selected, notes, nil
}

// tool is the program a kind needs on PATH, or "".
func (k kind) tool() string {
	switch k {
	case kindPerf:
		return "perf"
	case kindBpftrace:
		return "bpftrace"
	}
	return ""
}

func caseNames(cases []benchCase) string {
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// setIntervals sets each dropmon case's report interval: def, which the
// harness passes as -i, unless the case's own arguments set another, the
// last one counting as with any pflag flag.
func setIntervals(cases []benchCase, def time.Duration) error {
	for i := range cases {
		if cases[i].kind != kindDropmon {
			continue
		}
		d, err := intervalArg(cases[i].args, def)
		if err != nil {
			return fmt.Errorf("case %s: %w", cases[i].name, err)
		}
		cases[i].interval = d
	}
	return nil
}

// intervalArg finds dropmon's -i/--interval in args: "-i 2s", "-i2s",
// "-i=2s", "--interval 2s" or "--interval=2s".
func intervalArg(args []string, def time.Duration) (time.Duration, error) {
	d := def
	for i := 0; i < len(args); i++ {
		var v string
		switch a := args[i]; {
		case a == "-i" || a == "--interval":
			if i+1 == len(args) {
				return 0, fmt.Errorf("%s without a value", a)
			}
			i++
			v = args[i]
		case strings.HasPrefix(a, "--interval="):
			v = strings.TrimPrefix(a, "--interval=")
		case strings.HasPrefix(a, "-i") && !strings.HasPrefix(a, "--"):
			v = strings.TrimPrefix(strings.TrimPrefix(a, "-i"), "=")
		default:
			continue
		}
		parsed, err := time.ParseDuration(v)
		if err != nil || parsed <= 0 {
			return 0, fmt.Errorf("dropmon interval %q: want a positive Go duration", v)
		}
		d = parsed
	}
	return d, nil
}
