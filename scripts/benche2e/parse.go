package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dropgenResult is dropgen's last line:
// "dropgen: sent=N seconds=S rate=R noports=M senders=K".
type dropgenResult struct {
	sent    uint64
	seconds float64
	noports uint64
}

// parseDropgen reads dropgen's result line.
func parseDropgen(line string) (dropgenResult, error) {
	var r dropgenResult
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "dropgen: ")
	if !ok {
		return r, fmt.Errorf("dropgen line %q: no \"dropgen: \" prefix", line)
	}
	seen := map[string]bool{}
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "sent":
			r.sent, err = strconv.ParseUint(v, 10, 64)
		case "seconds":
			r.seconds, err = strconv.ParseFloat(v, 64)
		case "noports":
			r.noports, err = strconv.ParseUint(v, 10, 64)
		default:
			continue
		}
		if err != nil {
			return r, fmt.Errorf("dropgen line %q: %s: %w", line, k, err)
		}
		seen[k] = true
	}
	for _, k := range []string{"sent", "seconds", "noports"} {
		if !seen[k] {
			return r, fmt.Errorf("dropgen line %q: no %s=", line, k)
		}
	}
	if r.seconds <= 0 {
		return r, fmt.Errorf("dropgen line %q: seconds must be positive", line)
	}
	return r, nil
}

// dropmonSummary is dropmon's final line:
// "summary: 1050 drops in 2.001s (524.8/s), 0 lost records, 2 CPUs".
type dropmonSummary struct {
	drops uint64
	lost  uint64
}

var summaryRE = regexp.MustCompile(`^summary: (\d+) drops in \S+ \([^)]*\), (\d+) lost records?\b`)

// parseSummary reads dropmon's summary line; ok is false for other lines.
func parseSummary(line string) (s dropmonSummary, ok bool) {
	m := summaryRE.FindStringSubmatch(line)
	if m == nil {
		return s, false
	}
	var err1, err2 error
	s.drops, err1 = strconv.ParseUint(m[1], 10, 64)
	s.lost, err2 = strconv.ParseUint(m[2], 10, 64)
	return s, err1 == nil && err2 == nil
}

var headerRE = regexp.MustCompile(`^(\d\d):(\d\d):(\d\d)  drops: `)

// parseHeaderTime reads the wall-clock time of day that starts one of
// dropmon's interval report headers,
// "20:10:42  drops: 1050 (1049.7/s)  total: 1050  lost: 0  cpus: 2";
// ok is false for other lines.
func parseHeaderTime(line string) (tod time.Duration, ok bool) {
	m := headerRE.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	s, _ := strconv.Atoi(m[3])
	if h > 23 || mi > 59 || s > 60 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second, true
}

// perfRecordStats is what perf record says on stderr when it ends.
type perfRecordStats struct {
	captured  uint64 // samples written to perf.data
	processed uint64 // samples the kernel produced, when perf warned of losses
	lost      uint64 // samples lost in the rings
}

var (
	perfCapturedRE  = regexp.MustCompile(`Captured and wrote .*\((\d+) samples\)`)
	perfProcessedRE = regexp.MustCompile(`Processed (\d+) samples and lost [\d.]+%`)
)

// parsePerfRecord reads perf record's closing messages (perf 6.1):
//
//	Processed 743758 samples and lost 27.21%!
//	[ perf record: Captured and wrote 54.066 MB perf.data (541414 samples) ]
//
// The first appears only when more than 5% of the samples were lost; then
// lost is processed minus captured (parsePerfStatsLost counts any loss). ("Processed N events and lost M chunks!" counts
// PERF_RECORD_LOST records, not samples, and is not used.)
func parsePerfRecord(stderr []string) (perfRecordStats, error) {
	var s perfRecordStats
	var haveCaptured bool
	for _, line := range stderr {
		if m := perfCapturedRE.FindStringSubmatch(line); m != nil {
			s.captured, _ = strconv.ParseUint(m[1], 10, 64)
			haveCaptured = true
		}
		if m := perfProcessedRE.FindStringSubmatch(line); m != nil {
			s.processed, _ = strconv.ParseUint(m[1], 10, 64)
		}
	}
	if !haveCaptured {
		return s, errors.New("perf record printed no \"Captured and wrote\" line")
	}
	if s.processed > s.captured {
		s.lost = s.processed - s.captured
	}
	return s, nil
}

var perfLostSamplesRE = regexp.MustCompile(`^\s*LOST_SAMPLES events:\s+(\d+)`)

// parsePerfStatsLost returns the samples lost according to
// "perf report --stats": the LOST_SAMPLES lines in each event's section
// ("skb:kfree_skb stats:"), which count samples, not the line under
// "Aggregated stats:", which counts records. perf record's own warning
// appears only above 5% lost, so this is the count to trust. ok is false
// when the text has no event section.
func parsePerfStatsLost(text string) (lost uint64, ok bool) {
	inEvent := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasSuffix(line, " stats:") {
			inEvent = !strings.HasPrefix(strings.TrimSpace(line), "Aggregated")
			ok = ok || inEvent
			continue
		}
		if m := perfLostSamplesRE.FindStringSubmatch(line); m != nil && inEvent {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			lost += n
		}
	}
	return lost, ok
}

var bpftraceMapRE = regexp.MustCompile(`^@\[.*\]: (\d+)$`)

// sumBpftraceCounts adds the values of the map bpftrace prints when it
// ends, lines like "@[__udp4_lib_rcv]: 410305".
func sumBpftraceCounts(stdout []string) uint64 {
	var n uint64
	for _, line := range stdout {
		if m := bpftraceMapRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			v, _ := strconv.ParseUint(m[1], 10, 64)
			n += v
		}
	}
	return n
}

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture's ABI.
const userHZ = 100

// parseProcStatCPU returns utime+stime from the text of /proc/PID/stat,
// which covers all the process's threads, live and exited. The command
// name in parentheses may hold spaces, so fields count from the last ')'.
func parseProcStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("proc stat: no ')' after the command name")
	}
	f := strings.Fields(stat[i+1:])
	// After ')': state(3) ppid(4) ... utime(14) stime(15): indexes 11, 12.
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(f))
	}
	ut, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat utime: %w", err)
	}
	st, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat stime: %w", err)
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// maxLateness returns how late the latest of dropmon's reports came: the
// k-th report (k = 1, 2, ...) is due at t0 + k*interval, where t0 is when
// dropmon said it was watching. ok is false without reports.
func maxLateness(t0 time.Time, interval time.Duration, arrivals []time.Time) (worst time.Duration, ok bool) {
	for k, at := range arrivals {
		late := at.Sub(t0.Add(time.Duration(k+1) * interval))
		if !ok || late > worst {
			worst, ok = late, true
		}
	}
	return worst, ok
}
