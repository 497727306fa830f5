package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dropmon/dropmon/internal/perfdata"
	"github.com/dropmon/dropmon/internal/testutil"
)

// TestReplayRecordingFile replays a committed recording of real drops
// (scripts/make-replay-testdata.sh), without root, on both engines, and
// expects the JSON lines the live run printed, exactly.
func TestReplayRecordingFile(t *testing.T) {
	bin := buildDropmon(t)
	want, err := os.ReadFile("testdata/drops.live.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"jit", "interp"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "jit" && runtime.GOARCH != "amd64" {
				t.Skip("skipping: the JIT is for amd64")
			}
			cmd := exec.Command(bin, "replay", "testdata/drops.data", "-o", "json", "--stacks", "--engine", engine)
			cmd.Env = append(os.Environ(), "TZ=UTC")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			// The live run used the JIT; the rest must be the same.
			got = bytes.ReplaceAll(got, []byte(`"engine":"`+engine+`"`), []byte(`"engine":"jit"`))
			if !bytes.Equal(got, want) {
				t.Errorf("replay differs from the live run\n got: %s\nwant: %s", got, want)
			}
			if !strings.Contains(stderr.String(), "40 records recorded by dropmon on 2 CPUs") {
				t.Errorf("stderr: %s", stderr.String())
			}
		})
	}
}

// TestRecordReplay records drops made by the test with dropmon record
// (with and without call chains), replays the file, and expects the live
// run's JSON lines exactly; perf script reads the file and shows each drop.
func TestRecordReplay(t *testing.T) {
	bin := buildDropmon(t)
	const n = 25
	for _, stacks := range []bool{false, true} {
		t.Run("stacks="+strconv.FormatBool(stacks), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "drops.data")
			args := []string{"record", "-o", file, "--report", "json", "-i", "300ms", "-d", "1500ms", "--pid", strconv.Itoa(os.Getpid())}
			if stacks {
				args = append(args, "--stacks")
			}
			run := startDropmon(t, bin, args...)
			time.Sleep(350 * time.Millisecond) // not at a report boundary
			testutil.SendToClosedPort(t, n)
			run.wait(t)
			live := run.stdout.String()
			if !strings.Contains(live, `"total":`+strconv.Itoa(n)+`,`) {
				t.Fatalf("live run did not count %d drops:\n%s", n, live)
			}
			replayArgs := []string{"replay", file, "-o", "json"}
			if stacks {
				replayArgs = append(replayArgs, "--stacks")
			}
			cmd := exec.Command(bin, replayArgs...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			replayed, err := cmd.Output()
			if err != nil {
				t.Fatalf("replay: %v\n%s", err, stderr.String())
			}
			if string(replayed) != live {
				t.Errorf("replay differs from the live run\n got: %s\nwant: %s", replayed, live)
			}
			checkPerfScript(t, file, n)
		})
	}
}

// checkPerfScript runs perf script on a recording and counts the kfree_skb
// samples it prints; perf missing skips, unless CI=true.
func checkPerfScript(t *testing.T, file string, n int) {
	t.Helper()
	perf, err := exec.LookPath("perf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("perf is not installed (apt-get install linux-perf); CI needs it")
		}
		t.Logf("perf is not installed: not checking perf script")
		return
	}
	out, err := exec.Command(perf, "script", "-i", file, "-F", "event,trace").CombinedOutput()
	if err != nil {
		t.Fatalf("perf script: %v\n%s", err, out)
	}
	got := strings.Count(string(out), "skb:kfree_skb:")
	if got != n || !strings.Contains(string(out), "location=__udp4_lib_rcv+0x") || !strings.Contains(string(out), "reason: NO_SOCKET") {
		t.Errorf("perf script printed %d kfree_skb samples, want %d:\n%s", got, n, out)
	}
}

// TestReplayPerfCapture makes drops while perf record captures
// skb:kfree_skb, replays the capture, and counts them exactly.
func TestReplayPerfCapture(t *testing.T) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("perf is not installed (apt-get install linux-perf); CI needs it")
		}
		t.Skip("skipping: perf is not installed")
	}
	bin := buildDropmon(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "perf.data")
	ready := filepath.Join(dir, "ready")
	// perf runs a shell that says when it runs (the events are on by then)
	// and waits for the test to remove its file.
	// -g: call chains too, for replay --stacks.
	rec := exec.Command(perf, "record", "-q", "-g", "-e", "skb:kfree_skb", "-a", "-o", file, "--",
		"sh", "-c", "touch "+ready+"; i=0; while [ -e "+ready+" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done")
	var perfErr bytes.Buffer
	rec.Stderr = &perfErr
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rec.Wait() }()
	deadline := time.After(10 * time.Second)
	for started := false; !started; {
		select {
		case err := <-done:
			testutil.Privileged(t, perfPrivilegeError(perfErr.String()))
			t.Fatalf("perf record ended before it ran (%v):\n%s", err, perfErr.String())
		case <-deadline:
			rec.Process.Kill()
			t.Fatalf("perf record did not start in 10s:\n%s", perfErr.String())
		case <-time.After(20 * time.Millisecond):
			_, err := os.Stat(ready)
			started = err == nil
		}
	}
	const n = 33
	testutil.SendToClosedPort(t, n)
	os.Remove(ready)
	if err := <-done; err != nil {
		t.Fatalf("perf record: %v\n%s", err, perfErr.String())
	}
	for _, stacks := range []bool{false, true} {
		args := []string{"replay", file, "-o", "json", "-i", "1s", "--pid", strconv.Itoa(os.Getpid())}
		if stacks {
			args = append(args, "--stacks")
		}
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("replay: %v\n%s", err, stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var summary struct {
			Type    string
			Total   uint64
			Entries []struct {
				Location, Reason string
				Count            uint64
				Stacks           []struct {
					Frames []string
					Count  uint64
				}
			}
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
			t.Fatal(err)
		}
		if summary.Type != "summary" || summary.Total != n || len(summary.Entries) != 1 {
			t.Fatalf("--stacks %v: summary %+v, want %d drops in one entry\n%s\n%s", stacks, summary, n, out, stderr.String())
		}
		e := summary.Entries[0]
		if e.Count != n || e.Reason != "NO_SOCKET" || !strings.HasPrefix(e.Location, "__udp4_lib_rcv+0x") {
			t.Errorf("entry %+v, want %d NO_SOCKET drops in __udp4_lib_rcv (symbols from perf's build-id cache)\n%s", e, n, stderr.String())
		}
		if !stacks {
			continue
		}
		var sum uint64
		for _, st := range e.Stacks {
			sum += st.Count
		}
		if len(e.Stacks) == 0 || sum > n || !strings.Contains(strings.Join(e.Stacks[0].Frames, " "), "__udp4_lib_rcv+0x") {
			t.Errorf("--stacks: %+v, want call chains through __udp4_lib_rcv summing to at most %d", e.Stacks, n)
		}
	}
}

// TestRecordReplayFlags checks what record and replay refuse.
func TestRecordReplayFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"record"}, "give the file to write with -o FILE"},
		{[]string{"record", "-o", "f", "--engine", "kernel"}, "the kernel engine counts in the kernel"},
		{[]string{"record", "-o", "f", "--details"}, "--details reads the packets in the kernel"},
		{[]string{"record", "-o", "f", "--program", "x.o"}, "dropmon replay FILE --program"},
		{[]string{"record", "-o", "f", "--report", "xml"}, `--report "xml"`},
		{[]string{"replay"}, "give one file"},
		{[]string{"replay", "a", "b"}, "give one file"},
		{[]string{"replay", "f", "--engine", "kernel"}, "kernel engine runs on the kernel's own records"},
		{[]string{"replay", "f", "--comm", "x"}, "--comm needs the task's name"},
		{[]string{"replay", "f", "-d", "1s"}, "--duration applies to a live run"},
		{[]string{"replay", "f", "--details"}, "--details reads packets"},
		{[]string{"replay", "/no/such/file"}, "no such file"},
		{[]string{"replay", "testdata/drops.live.json"}, "not a perf.data file"},
		{[]string{"replay", "testdata/drops.data", "--stacks", "--program", "x.o"}, "--stacks collects the drop counter's call chains"},
	} {
		var stdout, stderr bytes.Buffer
		code := dispatch(tt.args, nil, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line with %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// perfPrivilegeError turns perf record's complaints about privileges into
// an error that testutil.Privileged recognises.
func perfPrivilegeError(stderr string) error {
	for _, s := range []string{"ermission", "can't access trace events", "perf_event_paranoid"} {
		if strings.Contains(stderr, s) {
			return &os.PathError{Op: "perf record", Err: os.ErrPermission}
		}
	}
	return nil
}

// TestReplayPerfCaptureSymbols replays a committed perf record capture (3
// drops at __udp4_lib_rcv+0x4bc, internal/perfdata/testdata) without root:
// with --kallsyms the symbols are that file's; with none to be found, one
// warning and raw addresses.
func TestReplayPerfCaptureSymbols(t *testing.T) {
	bin := buildDropmon(t)
	const capture = "../../internal/perfdata/testdata/kfree_skb.data"
	kallsyms := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(kallsyms, []byte("ffffffff81000000 T _text\nffffffff820a8000 t udp_test_function\nffffffff820a9000 t next_function\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		location string
		warn     string
	}{
		{name: "kallsyms", args: []string{"--kallsyms", kallsyms}, location: "udp_test_function+0xc2c"},
		{name: "none", args: []string{"--buildid-dir", t.TempDir()}, location: "0xffffffff820a8c2c", warn: "printing raw addresses"},
		{name: "program", args: []string{"--kallsyms", kallsyms, "--program", "../../samples/bpf/dropcount.bpf.o"}, location: "udp_test_function+0xc2c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"replay", capture, "-o", "json"}, tt.args...)...)
			cmd.Env = append(os.Environ(), "TZ=UTC", "HOME="+t.TempDir())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if warned := strings.Count(stderr.String(), "raw addresses"); (tt.warn == "" && warned != 0) || (tt.warn != "" && strings.Count(stderr.String(), tt.warn) != 1) {
				t.Errorf("stderr: %s", stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			var summary struct {
				Type    string
				Total   uint64
				Entries []struct {
					Location string
					Key      map[string]string
					Count    uint64
				}
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
				t.Fatal(err)
			}
			if summary.Type != "summary" || summary.Total != 3 || len(summary.Entries) != 1 {
				t.Fatalf("summary %+v\n%s", summary, out)
			}
			e := summary.Entries[0]
			location := e.Location
			if e.Key != nil { // --program: the key's fields
				location = e.Key["location"]
			}
			if location != tt.location || e.Count != 3 {
				t.Errorf("entry %+v, want 3 drops at %s", e, tt.location)
			}
		})
	}
}

// TestRecordNamesExitedTasks: drops made by a shell that has exited before
// dropmon reads them are still named in the recording (the events track
// task names, PERF_RECORD_COMM), so perf script prints "bash", not ":PID".
func TestRecordNamesExitedTasks(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("skipping: no bash (its /dev/udp sends the datagrams)")
	}
	bin := buildDropmon(t)
	file := filepath.Join(t.TempDir(), "drops.data")
	closed := closedLoopbackPort(t)
	run := startDropmon(t, bin, "record", "-o", file, "--report", "none", "-i", "300ms", "-d", "1200ms", "--reason", "NO_SOCKET")
	const n = 3
	script := "for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/" + strconv.Itoa(closed) + "; done"
	if out, err := exec.Command(bash, "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	run.wait(t)
	perf, err := exec.LookPath("perf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("perf is not installed (apt-get install linux-perf); CI needs it")
		}
		t.Skip("skipping: perf is not installed")
	}
	out, err := exec.Command(perf, "script", "-i", file, "-F", "comm,event").CombinedOutput()
	if err != nil {
		t.Fatalf("perf script: %v\n%s", err, out)
	}
	named := regexp.MustCompile(`(?m)^\s*bash\s+skb:kfree_skb:`).FindAllString(string(out), -1)
	if len(named) != n {
		t.Errorf("perf script names %d drops bash, want %d:\n%s", len(named), n, out)
	}
}

// closedLoopbackPort returns a UDP port on 127.0.0.1 that nothing holds.
func closedLoopbackPort(t *testing.T) int {
	t.Helper()
	probe, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	return probe.LocalAddr().(*net.UDPAddr).Port
}

// TestReplayTimeJump replays a perf capture whose second sample is 2^63 ns
// after its first (a corrupt or crafted file): the empty stretch joins one
// interval instead of making 2^33 reports, and replay ends at once.
func TestReplayTimeJump(t *testing.T) {
	src, err := os.Open("../../internal/perfdata/testdata/kfree_skb.data")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		t.Fatal(err)
	}
	capture, err := perfdata.Open(src, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	var samples []perfdata.Sample
	err = capture.Records(func(r *perfdata.Record) error {
		if r.Type == perfdata.RecordSample && r.Attr == 0 {
			s := r.Sample
			s.Raw, s.Callchain = bytes.Clone(s.Raw), nil
			samples = append(samples, s)
		}
		return nil
	})
	if err != nil || len(samples) < 2 {
		t.Fatalf("%d samples, %v", len(samples), err)
	}
	samples[1].Time = samples[0].Time + 1<<63
	path := filepath.Join(t.TempDir(), "jump.data")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := capture.Meta
	w, err := perfdata.Create(out, capture.Attrs[:1], &meta)
	if err != nil {
		t.Fatal(err)
	}
	for i := range samples[:2] {
		if err := w.WriteSample(0, &samples[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	done := make(chan string, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		dispatch([]string{"replay", path, "-o", "json", "-i", "1s", "--engine", "interp", "--buildid-dir", t.TempDir()}, nil, &stdout, &stderr)
		done <- stdout.String()
	}()
	select {
	case got := <-done:
		if n := strings.Count(got, "\n"); n != 3 { // the first interval, the one after the jump, the summary
			t.Errorf("%d JSON lines, want 3:\n%s", n, got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("replay still running after 20s")
	}
}
