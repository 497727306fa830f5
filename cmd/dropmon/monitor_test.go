package main

import (
	"bufio"
	"bytes"
	"errors"
	"github.com/cilium/ebpf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/monitor"
	"github.com/dropmon/dropmon/internal/testutil"
)

func TestParseMonitorFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*monitorFlags) bool
	}{
		{name: "defaults", args: nil, check: func(f *monitorFlags) bool {
			return f.interval == time.Second && f.top == 10 && f.engine == monitor.DefaultEngine() && f.by == ""
		}},
		{name: "short flags", args: []string{"-i", "500ms", "-n", "3", "-c", "2", "-d", "1m"}, check: func(f *monitorFlags) bool {
			return f.interval == 500*time.Millisecond && f.top == 3 && f.count == 2 && f.duration == time.Minute
		}},
		{name: "by reason", args: []string{"--by", "reason"}, check: func(f *monitorFlags) bool { return f.by == "reason" }},
		{name: "zero interval", args: []string{"-i", "0s"}, wantErr: "must be positive"},
		{name: "not a duration", args: []string{"-i", "5"}, wantErr: "invalid argument"},
		{name: "negative top", args: []string{"-n", "-1"}, wantErr: "must not be negative"},
		{name: "bad by", args: []string{"--by", "cpu"}, wantErr: "want location, reason or location,reason"},
		{name: "unknown engine", args: []string{"--engine", "fast"}, wantErr: "--engine fast: want one of jit, interp, kernel"},
		{name: "stray argument", args: []string{"now"}, wantErr: "unexpected argument"},
		{name: "default ring", args: nil, check: func(f *monitorFlags) bool { return f.ringSize == 512<<10 }},
		{name: "ring size", args: []string{"--ring-size", "4MiB"}, check: func(f *monitorFlags) bool { return f.ringSize == 4<<20 }},
		{name: "ring not a power of two", args: []string{"--ring-size", "3000"}, wantErr: "want a power of two"},
		{name: "ring not a size", args: []string{"--ring-size", "big"}, wantErr: "want a size such as"},
		{name: "ring too large", args: []string{"--ring-size", "2GiB"}, wantErr: "to 1 GiB"},
		{name: "readers", args: []string{"--readers", "per-cpu", "--wait", "syscall"}, check: func(f *monitorFlags) bool {
			return f.readers == monitor.ReadersPerCPU && f.wait == "syscall"
		}},
		{name: "bad readers", args: []string{"--readers", "many"}, wantErr: "want one or per-cpu"},
		{name: "bad wait", args: []string{"--wait", "spin"}, wantErr: "want netpoll or syscall"},
		{name: "program", args: []string{"--program", "x.o", "--section", "tracepoint/a/b", "--tracepoint", "a:b", "--map", "m"},
			check: func(f *monitorFlags) bool {
				return f.program == "x.o" && slices.Equal(f.tps, []string{"a:b"}) && f.mapName == "m"
			}},
		{name: "two tracepoints", args: []string{"--program", "x.o", "--tracepoint", "skb:kfree_skb", "--tracepoint", "skb:consume_skb"},
			check: func(f *monitorFlags) bool { return slices.Equal(f.tps, []string{"skb:kfree_skb", "skb:consume_skb"}) }},
		{name: "map without program", args: []string{"--map", "m"}, wantErr: "go with --program"},
		{name: "by with program", args: []string{"--program", "x.o", "--by", "reason"}, wantErr: "every key is its own row"},
		{name: "stacks", args: []string{"--stacks"}, check: func(f *monitorFlags) bool { return f.stacks && f.stacksTop == 3 }},
		{name: "stacks top", args: []string{"--stacks", "--stacks-top", "5"}, check: func(f *monitorFlags) bool { return f.stacks && f.stacksTop == 5 }},
		{name: "stacks top without stacks", args: []string{"--stacks-top", "5"}, wantErr: "--stacks-top goes with --stacks"},
		{name: "stacks top zero", args: []string{"--stacks", "--stacks-top", "0"}, wantErr: "must be at least 1"},
		{name: "details picks the kernel", args: []string{"--details"}, check: func(f *monitorFlags) bool { return f.details.on && f.engine == "kernel" }},
		{name: "details filters", args: []string{"--details", "--netns", "4026531840", "--ifname", "eth0", "--src", "10.0.0.0/8", "--dst", "fd00::1", "--port", "53"},
			check: func(f *monitorFlags) bool {
				d := f.details.filter
				return d.Netns == 4026531840 && d.Ifname == "eth0" && d.Src.String() == "10.0.0.0/8" && d.Dst.String() == "fd00::1/128" && d.Port == 53
			}},
		{name: "details on jit", args: []string{"--details", "--engine", "jit"}, wantErr: "--details needs --engine kernel"},
		{name: "details on interp", args: []string{"--details", "--engine", "interp"}, wantErr: "user-space engines (interp) cannot reach"},
		{name: "netns without details", args: []string{"--netns", "1"}, wantErr: "--netns goes with --details"},
		{name: "port without details", args: []string{"--port", "53"}, wantErr: "--port goes with --details"},
		{name: "details with program", args: []string{"--details", "--program", "x.o"}, wantErr: "does not go with --program"},
		{name: "details with stacks", args: []string{"--details", "--stacks"}, check: func(f *monitorFlags) bool { return f.details.on && f.stacks && f.engine == "kernel" }},
		{name: "details bad netns", args: []string{"--details", "--netns", "eth0"}, wantErr: "want an inode number"},
		{name: "details bad src", args: []string{"--details", "--src", "10.0.0.0/40"}, wantErr: "--src:"},
		{name: "details long ifname", args: []string{"--details", "--ifname", "0123456789abcdef"}, wantErr: "at most 15 bytes"},
		{name: "details port zero", args: []string{"--details", "--port", "0"}, wantErr: "ports start at 1"},
		{name: "details flows top zero", args: []string{"--details", "--flows-top", "0"}, wantErr: "--flows-top 0"},
		{name: "stacks with program", args: []string{"--program", "x.o", "--stacks"}, wantErr: "a --program collects its own"},
		{name: "unknown flag", args: []string{"--colour"}, wantErr: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			f, err := parseMonitorFlags(tt.args, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(f) {
				t.Fatalf("flags = %+v", f)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"--help"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("--help exited %d", code)
	}
	for _, want := range []string{"--interval", "--engine", "Examples:", "exec"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, stderr.String())
		}
	}
	stdout.Reset()
	if code := dispatch([]string{"--version"}, nil, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "dropmon ") {
		t.Fatalf("--version: exit %d, %q", code, stdout.String())
	}
	if code := dispatch([]string{"frobnicate"}, nil, &stdout, &stderr); code != 2 {
		t.Fatalf("unknown command exited %d", code)
	}
}

// TestMonitorEndToEnd runs the built binary as a user would, on each
// engine and each way out: it waits for the watching line, makes N drops,
// stops dropmon (SIGINT, SIGTERM, or --count ends it) and reads the final
// summary. On the kernel engine it also checks that the kernel no longer
// has dropmon's program once dropmon has exited.
func TestMonitorEndToEnd(t *testing.T) {
	rxlen := filepath.Join("..", "..", "samples", "bpf", "rxlen.bpf.o")
	dropC := filepath.Join("..", "..", "samples", "bpf", "dropcount.bpf.o")
	skbevents := filepath.Join("..", "..", "samples", "bpf", "skbevents.bpf.o")
	tests := []struct {
		name  string
		args  []string
		stop  syscall.Signal                // 0: dropmon stops itself (--count)
		check func(*testing.T, string, int) // the summary; nil: checkSummary
	}{
		{name: "jit/sigint", args: []string{"--interval", "500ms"}, stop: syscall.SIGINT},
		{name: "interp/sigterm", args: []string{"--interval", "500ms", "--engine", "interp"}, stop: syscall.SIGTERM},
		{name: "kernel/sigint", args: []string{"--interval", "500ms", "--engine", "kernel"}, stop: syscall.SIGINT},
		{name: "kernel/count", args: []string{"--interval", "700ms", "--engine", "kernel", "--count", "2"}},
		{name: "kernel/sigterm", args: []string{"--interval", "500ms", "--engine", "kernel"}, stop: syscall.SIGTERM},
		{name: "program C drop counter/jit", args: []string{"--interval", "500ms", "--program", dropC}, stop: syscall.SIGINT},
		{name: "program rxlen/interp", args: []string{"--interval", "500ms", "--engine", "interp", "--program", rxlen},
			stop: syscall.SIGINT, check: checkLengths},
		{name: "program rxlen/kernel", args: []string{"--interval", "500ms", "--engine", "kernel", "--program", rxlen},
			stop: syscall.SIGINT, check: checkLengths},
		{name: "program skbevents/jit", args: []string{"--interval", "500ms", "--program", skbevents},
			stop: syscall.SIGINT, check: checkEvents},
		{name: "program skbevents/kernel", args: []string{"--interval", "500ms", "--engine", "kernel", "--program", skbevents},
			stop: syscall.SIGTERM, check: checkEvents},
	}
	bin := buildDropmon(t)
	for _, tt := range tests {
		check := tt.check
		if check == nil {
			check = checkSummary
		}
		t.Run(tt.name, func(t *testing.T) { testEndToEnd(t, bin, tt.args, tt.stop, check) })
	}
}

var programIDs = regexp.MustCompile(`program id ([0-9, ]+)\)`)

func testEndToEnd(t *testing.T, bin string, args []string, stop syscall.Signal, check func(*testing.T, string, int)) {
	const n = 1000
	run := startDropmon(t, bin, args...)
	watching := run.watching
	var progIDs []uint32
	if m := programIDs.FindStringSubmatch(watching); m != nil {
		for _, f := range strings.Split(m[1], ", ") {
			id, _ := strconv.ParseUint(f, 10, 32)
			progIDs = append(progIDs, uint32(id))
		}
	}
	if slices.Contains(args, "kernel") && len(progIDs) == 0 {
		t.Fatalf("the kernel engine's watching line names no program id: %s", watching)
	}
	testutil.SendToClosedPort(t, n)
	if stop != 0 {
		time.Sleep(600 * time.Millisecond) // at least one interval report
		if err := run.cmd.Process.Signal(stop); err != nil {
			t.Fatal(err)
		}
	}
	run.wait(t)
	check(t, run.stdout.String(), n)
	for _, id := range progIDs {
		if _, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after dropmon exited, looking up its program %d gives %v, want it gone", id, err)
		}
	}
}

// checkSummary finds the __udp4_lib_rcv NO_SOCKET row of the summary and
// checks it counts at least n drops (other processes may drop too).
func checkSummary(t *testing.T, out string, n int) {
	t.Helper()
	_, summary, ok := strings.Cut(out, "summary: ")
	if !ok {
		t.Fatalf("no summary in output:\n%s", out)
	}
	found := false
	for _, line := range strings.Split(summary, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.HasPrefix(fields[3], "__udp4_lib_rcv+0x") && fields[4] == "NO_SOCKET" {
			total, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatalf("bad total in %q", line)
			}
			if total < n {
				t.Errorf("summary counts %d drops at %s, want at least %d", total, fields[3], n)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("summary has no __udp4_lib_rcv NO_SOCKET row:\n%s", out)
	}
	if !strings.Contains(out, "drops: ") && !strings.Contains(out, "events: ") {
		t.Errorf("no interval report before the summary:\n%s", out)
	}
}

// checkLengths finds, in the summary of samples/bpf/rxlen.bpf.o's report,
// the row of the test's datagrams as the receiving side sees them (an IPv4
// and a UDP header and SendToClosedPort's 21 bytes: 49) and checks it counts
// at least n of them; the columns come from the key's BTF.
func checkLengths(t *testing.T, out string, n int) {
	t.Helper()
	_, summary, ok := strings.Cut(out, "summary: ")
	if !ok || !strings.Contains(summary, " events in ") {
		t.Fatalf("no summary of events in output:\n%s", out)
	}
	if !strings.Contains(summary, "LEN") || !strings.Contains(summary, "PAD") {
		t.Errorf("the summary's columns are not the key's fields (LEN, PAD):\n%s", summary)
	}
	for _, line := range strings.Split(summary, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 5 && fields[3] == "49" && fields[4] == "0" {
			if total, err := strconv.Atoi(fields[1]); err != nil || total < n {
				t.Errorf("summary counts %s packets of 49 bytes, want at least %d", fields[1], n)
			}
			return
		}
	}
	t.Fatalf("summary has no row for 49-byte packets:\n%s", out)
}

// checkEvents finds, in the summary of samples/bpf/skbevents.bpf.o's
// report (columns EVENT, PAD, LOCATION from the key's BTF), the test's
// drops (event 0 at __udp4_lib_rcv) and their ICMP answers consumed (event
// 1), at least n of each: both programs count into the one map.
func checkEvents(t *testing.T, out string, n int) {
	t.Helper()
	_, summary, ok := strings.Cut(out, "summary: ")
	if !ok || !strings.Contains(summary, "EVENT") || !strings.Contains(summary, "LOCATION") {
		t.Fatalf("no summary with the key's columns (EVENT, PAD, LOCATION):\n%s", out)
	}
	totals := map[string]int{}
	for _, line := range strings.Split(summary, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 6 && (fields[3] == "0" || fields[3] == "1") {
			total, _ := strconv.Atoi(fields[1])
			if fields[3] == "1" || strings.HasPrefix(fields[5], "__udp4_lib_rcv+0x") {
				totals[fields[3]] += total
			}
		}
	}
	if totals["0"] < n || totals["1"] < n {
		t.Fatalf("drops (event 0) %d and consumed (event 1) %d, want at least %d each:\n%s", totals["0"], totals["1"], n, out)
	}
}

// privilegeError turns dropmon's one-line complaint about privileges into
// an error that testutil.Privileged recognises.
func privilegeError(stderr string) error {
	if strings.Contains(stderr, "permission denied") || strings.Contains(stderr, "operation not permitted") {
		return &os.PathError{Op: "dropmon", Path: "", Err: os.ErrPermission}
	}
	return nil
}

// TestMonitorWithoutPrivileges: as an unprivileged user dropmon says what
// is wrong in one line and exits 1. As root the test drops to nobody.
func TestMonitorWithoutPrivileges(t *testing.T) {
	bin := buildDropmon(t)
	cmd := exec.Command(bin, "--count", "1")
	if os.Geteuid() == 0 {
		if err := os.Chmod(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		// t.TempDir makes its folders private; open the ones below the
		// system's temporary folder, and only those, so nobody can run it.
		for dir := filepath.Dir(bin); strings.HasPrefix(dir, os.TempDir()+"/"); dir = filepath.Dir(dir) {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		if err == nil && os.Geteuid() != 0 {
			t.Skip("this user may watch kernel drops; nothing to test")
		}
		t.Fatalf("exit: %v, want status 1\nstderr: %s", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "dropmon: ") || strings.Contains(msg, "goroutine") {
		t.Fatalf("want one line starting with dropmon:, got:\n%s", msg)
	}
	if !strings.Contains(msg, "root") {
		t.Errorf("message does not say to run as root: %s", msg)
	}
}

// dropmonRun is a dropmon process a test started: its stdout, and its
// stderr lines as they come.
type dropmonRun struct {
	cmd      *exec.Cmd
	stdout   bytes.Buffer
	lines    chan string
	stderr   strings.Builder // the stderr lines read so far
	watching string          // the "watching ..." line
}

// startDropmon starts bin with args and waits (20 s at most) for its
// "watching" line; without the privilege it skips or fails as
// testutil.Privileged decides. The process is killed when the test ends.
func startDropmon(t *testing.T, bin string, args ...string) *dropmonRun {
	t.Helper()
	r := &dropmonRun{cmd: exec.Command(bin, args...), lines: make(chan string, 16)}
	r.cmd.Stdout = &r.stdout
	stderrPipe, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	timeout := time.After(20 * time.Second)
	for r.watching == "" {
		select {
		case line, ok := <-r.lines:
			if !ok {
				r.cmd.Wait()
				testutil.Privileged(t, privilegeError(r.stderr.String()))
				t.Fatalf("dropmon exited before watching:\n%s", r.stderr.String())
			}
			r.stderr.WriteString(line + "\n")
			if strings.HasPrefix(line, "watching ") {
				r.watching = line
			}
		case <-timeout:
			t.Fatalf("no watching line within 20s:\n%s", r.stderr.String())
		}
	}
	return r
}

// wait reads the rest of stderr and waits for the process to exit, which
// must succeed.
func (r *dropmonRun) wait(t *testing.T) {
	t.Helper()
	for line := range r.lines {
		r.stderr.WriteString(line + "\n")
	}
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("dropmon: %v\nstderr:\n%s", err, r.stderr.String())
	}
}
