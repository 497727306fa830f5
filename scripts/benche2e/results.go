package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// rawLine is one sample as printed while the run goes on.
func rawLine(s sample, c benchCase) string {
	if s.err != nil && s.gen.sent == 0 {
		return fmt.Sprintf("round %d %-16s FAILED: %v", s.round, s.caseName, s.err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "round %d %-16s sent=%d seconds=%.3f rate=%.0f noports=%d",
		s.round, s.caseName, s.gen.sent, s.gen.seconds, s.rate(), s.gen.noports)
	if s.caseName != "none" || s.maxRSS > 0 {
		fmt.Fprintf(&b, " cpu=%.3fs storm_cpu=%.3fs cpu_per_record=%.0fns rss=%.1fMiB",
			s.cpu.Seconds(), s.stormCPU.Seconds(), perRecordNs(s), float64(s.maxRSS)/1024)
	}
	if s.lost >= 0 {
		fmt.Fprintf(&b, " lost=%d", s.lost)
	}
	if s.seen >= 0 {
		fmt.Fprintf(&b, " seen=%d", s.seen)
	}
	if s.hasLate {
		fmt.Fprintf(&b, " max_late=%.1fms (%.1f%% of %s)", ms(s.late), 100*s.late.Seconds()/c.interval.Seconds(), c.interval)
	}
	if s.err != nil {
		fmt.Fprintf(&b, " error: %v", s.err)
	}
	return b.String()
}

func perRecordNs(s sample) float64 {
	if s.gen.sent == 0 {
		return 0
	}
	return float64(s.cpu.Nanoseconds()) / float64(s.gen.sent)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median returns the median of xs (the mean of the middle two for an even
// count) and false for none.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// column gathers one measure of a case's good samples for the median.
type column struct {
	name   string
	format func(v float64, c benchCase) string
	value  func(s sample, none map[int]sample) (float64, bool)
}

func columns() []column {
	f0 := func(v float64, _ benchCase) string { return fmt.Sprintf("%.0f", v) }
	tracer := func(s sample) bool { return s.caseName != "none" }
	return []column{
		{"drops/s", f0, func(s sample, _ map[int]sample) (float64, bool) { return s.rate(), true }},
		{"ratio to none", func(v float64, _ benchCase) string { return fmt.Sprintf("%.2f", v) },
			func(s sample, none map[int]sample) (float64, bool) {
				n, ok := none[s.round]
				if !ok || n.rate() == 0 {
					return 0, false
				}
				return s.rate() / n.rate(), true
			}},
		{"tracer CPU per record (ns)", f0, func(s sample, _ map[int]sample) (float64, bool) {
			return perRecordNs(s), tracer(s)
		}},
		{"storm CPU per record (ns)", f0, func(s sample, _ map[int]sample) (float64, bool) {
			return float64(s.stormCPU.Nanoseconds()) / float64(max(s.gen.sent, 1)), tracer(s)
		}},
		{"tracer CPU in storm (% of a CPU)", f0, func(s sample, _ map[int]sample) (float64, bool) {
			return 100 * s.stormCPU.Seconds() / s.gen.seconds, tracer(s)
		}},
		{"lost", f0, func(s sample, _ map[int]sample) (float64, bool) { return float64(s.lost), s.lost >= 0 }},
		{"lost %", func(v float64, _ benchCase) string { return fmt.Sprintf("%.2f", v) },
			func(s sample, _ map[int]sample) (float64, bool) {
				// Of the records the tracer was offered: other drops on the
				// machine reach it too, so not of the datagrams sent.
				return 100 * float64(s.lost) / float64(max(s.seen+s.lost, 1)), s.lost >= 0 && s.seen >= 0
			}},
		{"seen+lost / noports %", func(v float64, _ benchCase) string { return fmt.Sprintf("%.1f", v) },
			func(s sample, _ map[int]sample) (float64, bool) {
				return 100 * float64(s.seen+max(s.lost, 0)) / float64(max(s.gen.noports, 1)), s.seen >= 0
			}},
		{"peak RSS MiB", func(v float64, _ benchCase) string { return fmt.Sprintf("%.1f", v) },
			func(s sample, _ map[int]sample) (float64, bool) { return float64(s.maxRSS) / 1024, tracer(s) }},
		{"max report lateness ms (% of interval)", func(v float64, c benchCase) string {
			return fmt.Sprintf("%.1f (%.1f%%)", v, 100*v/ms(c.interval))
		}, func(s sample, _ map[int]sample) (float64, bool) { return ms(s.late), s.hasLate }},
	}
}

// writeTable prints a markdown table of each case's medians over its
// rounds; failed samples are left out and counted in the last column.
func writeTable(w io.Writer, cases []benchCase, samples []sample) {
	none := map[int]sample{}
	for _, s := range samples {
		if s.caseName == "none" && s.err == nil {
			none[s.round] = s
		}
	}
	cols := columns()
	head := []string{"case"}
	for _, c := range cols {
		head = append(head, c.name)
	}
	head = append(head, "rounds ok")
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, c := range cases {
		row := []string{c.name}
		var ok, all int
		values := make([][]float64, len(cols))
		for _, s := range samples {
			if s.caseName != c.name {
				continue
			}
			all++
			if s.err != nil {
				continue
			}
			ok++
			for i, col := range cols {
				if v, has := col.value(s, none); has {
					values[i] = append(values[i], v)
				}
			}
		}
		for i, col := range cols {
			if m, has := median(values[i]); has {
				row = append(row, col.format(m, c))
			} else {
				row = append(row, "n/a")
			}
		}
		row = append(row, fmt.Sprintf("%d/%d", ok, all))
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}
