package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/metrics"
	"github.com/dropmon/dropmon/internal/testutil"
)

func TestOutputFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(outputFlags) bool
	}{
		{name: "defaults", check: func(o outputFlags) bool {
			return o.format == outputTable && !o.quiet && o.metrics == "" && o.maxSeries == metrics.DefaultMaxSeries
		}},
		{name: "json", args: []string{"--output", "json"}, check: func(o outputFlags) bool { return o.format == outputJSON }},
		{name: "json short", args: []string{"-o", "json"}, check: func(o outputFlags) bool { return o.format == outputJSON }},
		{name: "metrics", args: []string{"--metrics", "127.0.0.1:9101", "--metrics-max-series", "5", "-q"}, check: func(o outputFlags) bool {
			return o.metrics == "127.0.0.1:9101" && o.maxSeries == 5 && o.quiet
		}},
		{name: "metrics on every address", args: []string{"--metrics", ":9101"}, check: func(o outputFlags) bool { return o.metrics == ":9101" }},
		{name: "metrics with json", args: []string{"--metrics", "[::1]:0", "-o", "json"}, check: func(o outputFlags) bool {
			return o.metrics == "[::1]:0" && o.format == outputJSON
		}},
		{name: "unknown format", args: []string{"--output", "yaml"}, wantErr: `--output "yaml": want table or json`},
		{name: "quiet alone", args: []string{"--quiet"}, wantErr: "use it with --metrics ADDR"},
		{name: "quiet with output", args: []string{"--quiet", "--metrics", ":0", "-o", "json"}, wantErr: "leave out --output"},
		{name: "max series without metrics", args: []string{"--metrics-max-series", "5"}, wantErr: "goes with --metrics"},
		{name: "zero max series", args: []string{"--metrics", ":0", "--metrics-max-series", "0"}, wantErr: "must be at least 1"},
		{name: "metrics without port", args: []string{"--metrics", "9101"}, wantErr: "--metrics 9101: want host:port"},
		{name: "metrics with program", args: []string{"--metrics", ":0", "--program", "x.o"}, wantErr: "does not go with --program"},
		{name: "json with program", args: []string{"-o", "json", "--program", "x.o"}, check: func(o outputFlags) bool { return o.format == outputJSON }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseMonitorFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(f.out) {
				t.Fatalf("flags = %+v", f.out)
			}
		})
	}
}

// TestMetricsAddressInUse: a taken address is a one-line error naming the
// flag, before the monitor starts (so it needs no privileges).
func TestMetricsAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	var stdout, stderr bytes.Buffer
	if code := runMonitor([]string{"--metrics", addr, "-c", "1"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, stderr.String())
	}
	if want := "dropmon: --metrics " + addr + ": address already in use\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

// TestMonitorJSON runs the binary with --output json: every line of stdout
// is one JSON object, reports first and the summary last, and the summary
// counts the test's drops at __udp4_lib_rcv with reason NO_SOCKET.
func TestMonitorJSON(t *testing.T) {
	bin := buildDropmon(t)
	for _, tt := range []struct {
		name string
		args []string
		stop syscall.Signal
	}{
		{name: "jit/sigint", args: []string{"--interval", "500ms", "--output", "json"}, stop: syscall.SIGINT},
		{name: "kernel/count", args: []string{"--interval", "700ms", "--engine", "kernel", "--count", "2", "-o", "json"}},
		{name: "jit/stacks", args: []string{"--interval", "500ms", "-o", "json", "--stacks"}, stop: syscall.SIGINT},
		{name: "kernel/stacks", args: []string{"--interval", "500ms", "--engine", "kernel", "-o", "json", "--stacks", "--stacks-top", "2"},
			stop: syscall.SIGINT},
	} {
		check := checkJSONSummary
		if slices.Contains(tt.args, "--stacks") {
			check = checkJSONStacks
		}
		t.Run(tt.name, func(t *testing.T) { testEndToEnd(t, bin, tt.args, tt.stop, check) })
	}
}

// checkJSONStacks checks the summary's __udp4_lib_rcv entry and its call
// chains: at most --stacks-top of them, busiest first, summing to no more
// than the entry (other chains may be left out), the busiest through
// __udp4_lib_rcv and ip_local_deliver_finish.
func checkJSONStacks(t *testing.T, out string, n int) {
	t.Helper()
	checkJSONSummary(t, out, n)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var summary struct {
		Entries []struct {
			Symbol, Reason string
			Count          uint64
			Stacks         []struct {
				Frames       []string
				Count, Total uint64
			}
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatal(err)
	}
	for _, e := range summary.Entries {
		if e.Symbol != "__udp4_lib_rcv" || e.Reason != "NO_SOCKET" {
			continue
		}
		var sum uint64
		for i, st := range e.Stacks {
			sum += st.Count
			if st.Count != st.Total || (i > 0 && st.Count > e.Stacks[i-1].Count) {
				t.Errorf("stack %d: %+v", i, st)
			}
		}
		if len(e.Stacks) == 0 || len(e.Stacks) > 3 || sum > e.Count || sum < uint64(n)/2 {
			t.Fatalf("entry of %d drops has stacks %+v", e.Count, e.Stacks)
		}
		frames := strings.Join(e.Stacks[0].Frames, " ")
		for _, want := range []string{"__udp4_lib_rcv+0x", "ip_local_deliver_finish+0x"} {
			if !strings.Contains(frames, want) {
				t.Errorf("busiest call chain has no %s: %q", want, frames)
			}
		}
		return
	}
}

// jsonLine is what checkJSONSummary reads of a JSON line.
type jsonLine struct {
	Type, Engine, Tracepoint string
	Drops, Total             uint64
	Entries                  []struct {
		Address, Symbol, Location, Reason string
		Offset                            *uint64
		ReasonCode                        *uint32 `json:"reason_code"`
		Count, Total                      uint64
		Share                             float64
	}
}

func checkJSONSummary(t *testing.T, out string, n int) {
	t.Helper()
	var lines []jsonLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l jsonLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", len(lines)+1, err, sc.Text())
		}
		lines = append(lines, l)
	}
	if len(lines) < 2 || lines[0].Type != "report" || lines[len(lines)-1].Type != "summary" {
		t.Fatalf("want reports, then one summary:\n%s", out)
	}
	s := lines[len(lines)-1]
	if s.Tracepoint != "skb:kfree_skb" || s.Engine == "" {
		t.Errorf("summary: engine %q, tracepoint %q", s.Engine, s.Tracepoint)
	}
	for _, e := range s.Entries {
		if e.Symbol == "__udp4_lib_rcv" && e.Reason == "NO_SOCKET" {
			if e.Count < uint64(n) || e.Total != e.Count || !strings.HasPrefix(e.Location, "__udp4_lib_rcv+0x") ||
				e.Offset == nil || e.ReasonCode == nil || !strings.HasPrefix(e.Address, "0xffff") || e.Share <= 0 || e.Share > 1 {
				t.Errorf("summary entry %+v, want at least %d drops", e, n)
			}
			return
		}
	}
	t.Fatalf("summary has no __udp4_lib_rcv NO_SOCKET entry:\n%s", out)
}

var metricsURL = regexp.MustCompile(`(?m)^metrics on (http://\S+/metrics)$`)

// TestMonitorMetrics runs the binary as a node agent (--quiet, --metrics on
// a free loopback port), makes an exact number of drops, and scrapes
// /metrics until dropmon_drops_total at __udp4_lib_rcv, NO_SOCKET has grown
// by exactly that many.
func TestMonitorMetrics(t *testing.T) {
	bin := buildDropmon(t)
	for _, engine := range []string{"jit", "interp", "kernel"} {
		t.Run(engine, func(t *testing.T) { testMetrics(t, bin, engine) })
	}
}

func testMetrics(t *testing.T, bin, engine string) {
	const n = 500
	// --pid: only this process's drops, so that drops elsewhere on the
	// machine during the test cannot change the exact count.
	run := startDropmon(t, bin, "--interval", "200ms", "--engine", engine, "--quiet", "--metrics", "127.0.0.1:0",
		"--pid", strconv.Itoa(os.Getpid()))
	m := metricsURL.FindStringSubmatch(run.stderr.String())
	if m == nil {
		t.Fatalf("no metrics line before the watching line:\n%s", run.stderr.String())
	}
	url := m[1]

	before := scrape(t, url)
	testutil.SendToClosedPort(t, n)
	want := udpDrops(before) + n
	deadline := time.Now().Add(10 * time.Second)
	var after string
	for {
		after = scrape(t, url)
		if udpDrops(after) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // more reports: nothing more must come
	after = scrape(t, url)
	if got := udpDrops(after); got != want {
		t.Errorf("dropmon_drops_total at __udp4_lib_rcv, NO_SOCKET: %d, want %d (%d before, %d sent)", got, want, want-n, n)
	}
	for _, re := range []string{
		`(?m)^dropmon_engine_info\{engine="` + engine + `"\} 1$`,
		`(?m)^dropmon_build_info\{goversion="go[^"]+",version="[^"]+"\} 1$`,
		`(?m)^dropmon_lost_records_total 0$`,
		`(?m)^dropmon_records_total \d+$`,
		`(?m)^go_goroutines \d+$`,
		`(?m)^process_resident_memory_bytes \S+$`,
	} {
		if !regexp.MustCompile(re).MatchString(after) {
			t.Errorf("/metrics does not match %s", re)
		}
	}
	if engine != "kernel" && metricValue(after, "dropmon_records_total") < n {
		t.Errorf("dropmon_records_total %d, want at least %d", metricValue(after, "dropmon_records_total"), n)
	}

	if err := run.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	run.wait(t)
	if run.stdout.Len() != 0 {
		t.Errorf("--quiet printed on stdout:\n%s", run.stdout.String())
	}
	if _, err := http.Get(url); err == nil {
		t.Errorf("%s still answers after dropmon exited", url)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return string(body)
}

var udpSeries = regexp.MustCompile(`(?m)^dropmon_drops_total\{location="__udp4_lib_rcv\+0x[0-9a-f]+",reason="NO_SOCKET"\} (\d+)$`)

// udpDrops sums dropmon_drops_total over the __udp4_lib_rcv NO_SOCKET series.
func udpDrops(metrics string) int {
	total := 0
	for _, m := range udpSeries.FindAllStringSubmatch(metrics, -1) {
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

// metricValue is the value of an unlabelled metric, or -1.
func metricValue(metrics, name string) int {
	m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
