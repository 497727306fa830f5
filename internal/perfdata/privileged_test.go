package perfdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/symbolize"
)

// permissionHints are what perf record says when it may not open events.
var permissionHints = []string{"Permission denied", "perf_event_paranoid", "Access to performance monitoring", "No permission"}

// recordDrops runs `perf record -e skb:kfree_skb -a` with its events held
// disabled (-D -1) until perf acknowledges "enable" on its control fifo,
// sends n datagrams to a closed UDP port on 127.0.0.1, then stops perf. It
// returns the capture's path. Skips (or fails with
// DROPMON_REQUIRE_PRIVILEGED=1) when perf may not open the event.
func recordDrops(t *testing.T, n int) string {
	t.Helper()
	if _, err := exec.LookPath("perf"); err != nil && os.Getenv(testutil.RequirePrivilegedEnv) == "1" {
		t.Fatalf("perf is not installed, and %s=1 requires this test to run (install linux-perf): %v", testutil.RequirePrivilegedEnv, err)
	}
	perf := requirePerf(t)
	dir := t.TempDir()
	out, ctl, ack := filepath.Join(dir, "capture.data"), filepath.Join(dir, "ctl"), filepath.Join(dir, "ack")
	for _, p := range []string{ctl, ack} {
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// O_RDWR opens of a fifo never block, whether or not perf opened it.
	ctlf, err := os.OpenFile(ctl, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctlf.Close()
	ackf, err := os.OpenFile(ack, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ackf.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, perf, "record", "-q", "-D", "-1", "--control", "fifo:"+ctl+","+ack,
		"-e", "skb:kfree_skb", "-a", "-o", out, "--", "sleep", "30")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	if _, err := ctlf.WriteString("enable\n"); err != nil {
		t.Fatal(err)
	}
	acked := make(chan error, 1)
	go func() {
		_, err := bufio.NewReader(ackf).ReadString('\n')
		acked <- err
	}()
	select {
	case err := <-acked:
		if err != nil {
			t.Fatalf("read perf's ack: %v", err)
		}
	case err := <-exited:
		stopped = true
		msg := firstLines(stderr.String(), 5)
		for _, h := range permissionHints {
			if strings.Contains(msg, h) {
				testutil.Privileged(t, fmt.Errorf("perf record -e skb:kfree_skb -a: %w: %s", os.ErrPermission, strings.TrimSpace(msg)))
			}
		}
		t.Fatalf("perf record exited before enabling its events: %v\n%s", err, msg)
	case <-time.After(30 * time.Second):
		t.Fatalf("perf record did not acknowledge enable within 30s:\n%s", stderr.String())
	}

	testutil.SendToClosedPort(t, n)

	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
		stopped = true
	case <-time.After(30 * time.Second):
		t.Fatalf("perf record did not stop within 30s of SIGINT:\n%s", stderr.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatalf("perf record wrote no capture: %v\n%s", err, stderr.String())
	}
	return out
}

// firstLines returns the first n lines of s, without perf's usage text.
func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// countUDPNoSocket counts the samples of f whose drop is at __udp4_lib_rcv
// with reason NO_SOCKET, the drops recordDrops makes; other drops the
// machine makes meanwhile are not counted.
func countUDPNoSocket(t *testing.T, f *File, syms *symbolize.Table) int {
	t.Helper()
	format := kfreeSkbFormat(t, f)
	n := 0
	for _, r := range collect(t, f, true) {
		if r.Type != RecordSample || f.Attrs[r.Attr].Name != "skb:kfree_skb" {
			continue
		}
		d := parseDrop(t, format, r.Sample.Raw)
		if sym, _, ok := syms.Lookup(d.location); ok && sym.Name == "__udp4_lib_rcv" && d.reason == "NO_SOCKET" {
			n++
		}
	}
	return n
}

// TestPerfRecordCapture records real drops with perf record, checks that
// the reader finds exactly them, that a dropmon file written from them is
// printed by perf script like the capture, and that FindKallsyms finds the
// capture's kernel symbols in perf's build-id cache and in a perf archive.
func TestPerfRecordCapture(t *testing.T) {
	n := 20
	if out, _ := exec.Command("pgrep", "-f", ".ci/run").Output(); len(out) > 0 {
		n = 5 // CI is running on this machine: keep the traffic short
	}
	capture := recordDrops(t, n)
	b, err := os.ReadFile(capture)
	if err != nil {
		t.Fatal(err)
	}
	f := openBytes(t, b)
	if len(f.Meta.KernelBuildID) == 0 {
		t.Fatal("perf's capture has no kernel build-id")
	}

	text, from, err := FindKallsyms(f, KallsymsOptions{})
	t.Run("build-id cache", func(t *testing.T) {
		if errors.Is(err, ErrNoKallsyms) {
			t.Skipf("perf put no kallsyms in its build-id cache: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		id := hex.EncodeToString(f.Meta.KernelBuildID)
		if !strings.Contains(from, id) {
			t.Errorf("kallsyms from %s, want the cache entry of build-id %s", from, id)
		}
	})
	var syms *symbolize.Table
	if err == nil {
		syms, err = symbolize.Parse(bytes.NewReader(text))
	} else {
		syms, err = symbolize.Load() // root reads the live addresses
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := countUDPNoSocket(t, f, syms); got != n {
		t.Errorf("%d NO_SOCKET drops at __udp4_lib_rcv in perf's capture, want %d", got, n)
	}

	t.Run("perf script on dropmon's file", func(t *testing.T) {
		kernelText, err := KernelText()
		if err != nil {
			t.Fatal(err)
		}
		src := openBytes(t, b)
		ours := rewrite(t, src, kernelText, softwareMarker)
		got, err := os.ReadFile(ours)
		if err != nil {
			t.Fatal(err)
		}
		if c := countUDPNoSocket(t, openBytes(t, got), syms); c != n {
			t.Errorf("%d NO_SOCKET drops at __udp4_lib_rcv in dropmon's file, want %d", c, n)
		}
		drops := 0
		_ = src.Records(func(r *Record) error {
			if r.Type == RecordSample && r.Attr == 0 {
				drops++
			}
			return nil
		})
		comparePerfScript(t, capture, ours, softwareMarker, drops, true)
	})

	t.Run("perf archive", func(t *testing.T) {
		if out, err := exec.Command(requirePerf(t), "archive", capture).CombinedOutput(); err != nil {
			t.Fatalf("perf archive: %v\n%s", err, out)
		}
		archive := capture + ".tar.bz2"
		empty := t.TempDir()
		got, from, err := FindKallsyms(f, KallsymsOptions{Archive: archive, BuildIDDir: empty})
		if err != nil {
			t.Fatal(err)
		}
		if from != archive {
			t.Errorf("kallsyms from %s, want the archive %s", from, archive)
		}
		if text != nil && !bytes.Equal(got, text) {
			t.Errorf("the archive's kallsyms (%d bytes) differ from the cache's (%d bytes)", len(got), len(text))
		}
	})

	t.Run("nothing matches", func(t *testing.T) {
		empty := t.TempDir()
		_, _, err := FindKallsyms(f, KallsymsOptions{BuildIDDir: empty})
		id := hex.EncodeToString(f.Meta.KernelBuildID)
		if !errors.Is(err, ErrNoKallsyms) || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), empty) {
			t.Errorf("error %v, want ErrNoKallsyms naming build-id %s and %s", err, id, empty)
		}
	})
}
