package tracepoint

// Privileged tests of finding and mounting tracefs. They run the test binary
// again in a private mount namespace (Go makes / rprivate in a child started
// with CLONE_NEWNS), where the child unmounts every tracefs and debugfs and
// then checks what the package does. The host keeps its mounts as they were:
// a CI machine starts without tracefs and the package must mount it itself.
//
// Never pass mount options (mode=, gid=) to tracefs here: it has a single
// superblock, so options given in any namespace change it for the whole
// machine.

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dropmon/dropmon/internal/testutil"
	"golang.org/x/sys/unix"
)

// childEnv tells a re-executed test binary which part to play.
const childEnv = "DROPMON_TRACEPOINT_TEST_CHILD"

// runChild runs test name of the binary exe (os.Args[0] when "") with
// childEnv=role and the given attributes, and fails, or skips when the
// child skipped, as it did.
func runChild(t *testing.T, exe, name, role string, attr *syscall.SysProcAttr) {
	t.Helper()
	if exe == "" {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe, "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	cmd.SysProcAttr = attr
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		testutil.Privileged(t, err)
		t.Fatalf("start %s child: %v", role, err)
	}
	err := cmd.Wait()
	t.Logf("%s child output:\n%s", role, out.String())
	switch {
	case err != nil:
		t.Fatalf("%s child: %v", role, err)
	case strings.Contains(out.String(), "--- SKIP: "+name):
		t.Skipf("%s child skipped (see its output)", role)
	case !strings.Contains(out.String(), "--- PASS: "+name):
		t.Fatalf("%s child did not run %s", role, name)
	}
}

// inPrivateMountNS starts the child in a new mount namespace.
var inPrivateMountNS = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}

// unmountTracing detaches every tracefs and debugfs mount of this (private)
// mount namespace, deepest first, and checks that none is left.
func unmountTracing(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(mountinfoPath)
	if err != nil {
		t.Fatal(err)
	}
	var points []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if _, point, fstype, ok := parseMountinfoLine(line); ok && (fstype == "tracefs" || fstype == "debugfs") {
			points = append(points, point)
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			testutil.Privileged(t, err)
			t.Fatalf("unmount %s: %v", p, err)
		}
	}
	if p, _ := findTracefs(); p != "" {
		t.Fatalf("tracefs still found at %s after unmounting %q", p, points)
	}
}

// captureNotice sends the mount notice to a buffer for the rest of the test.
func captureNotice(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	saved := noticeOutput
	noticeOutput = &buf
	t.Cleanup(func() { noticeOutput = saved })
	return &buf
}

// TestTracefsMount: with no tracefs anywhere, TracefsPath mounts one at
// /sys/kernel/tracing, says so once, and the live kernel's formats read.
func TestTracefsMount(t *testing.T) {
	if os.Getenv(childEnv) != "mount" {
		runChild(t, "", t.Name(), "mount", inPrivateMountNS)
		return
	}
	unmountTracing(t)
	notice := captureNotice(t)
	for range 2 {
		p, err := TracefsPath()
		testutil.Privileged(t, err)
		if p != defaultTracefs || err != nil {
			t.Fatalf("TracefsPath() = %q, %v; want %q", p, err, defaultTracefs)
		}
	}
	if want := "dropmon: mounted tracefs at /sys/kernel/tracing\n"; notice.String() != want {
		t.Errorf("notice %q, want %q once", notice.String(), want)
	}
	checkLiveKfreeSkb(t)
	checkLiveFormats(t)
}

func checkLiveKfreeSkb(t *testing.T) {
	f, err := ReadFormat("skb", "kfree_skb")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID == 0 {
		t.Error("kfree_skb has ID 0")
	}
	for _, name := range []string{"common_type", "skbaddr", "location", "protocol"} {
		if _, err := f.Field(name); err != nil {
			t.Error(err)
		}
	}
	if _, err := f.Field("reason"); err == nil {
		// Reasons came in 5.17; NOT_SPECIFIED has been in every table.
		if !slices.Contains(slices.Collect(maps.Values(f.Symbols["reason"])), "NOT_SPECIFIED") {
			t.Errorf("reason table %v lacks NOT_SPECIFIED", f.Symbols["reason"])
		}
	}
	_, err = ReadFormat("skb", "kfree_skbb")
	t.Logf("ReadFormat(skb, kfree_skbb): %v", err)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "did you mean skb:kfree_skb?") {
		t.Errorf("ReadFormat(skb, kfree_skbb) = %v, want ErrNotFound suggesting skb:kfree_skb", err)
	}
}

// checkLiveFormats parses the format of every event the kernel has.
func checkLiveFormats(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(defaultTracefs, "events", "*", "*", "format"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no formats under %s: %v", defaultTracefs, err)
	}
	for _, file := range files {
		name := filepath.Base(filepath.Dir(file))
		group := filepath.Base(filepath.Dir(filepath.Dir(file)))
		if _, err := ReadFormat(group, name); err != nil {
			t.Error(err)
		}
	}
	t.Logf("parsed %d formats", len(files))
}

// TestTracefsUnprivileged checks the advice given to a user who is not root:
// when tracefs is not mounted (and cannot be), and when it is but is
// readable by root only (the kernel's default mode, 0700).
func TestTracefsUnprivileged(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		runChild(t, "", t.Name(), "unprivileged", inPrivateMountNS)
		return
	case "cannot-mount":
		checkCannotMount(t)
		return
	case "cannot-read":
		checkCannotRead(t)
		return
	case "debugfs-denied":
		checkDebugfsDenied(t)
		return
	}
	// In the private namespace, as root: run the checks as nobody from a
	// copy of the test binary that nobody may execute.
	exe := copyExecutable(t)
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	unmountTracing(t)
	runChild(t, exe, t.Name(), "cannot-mount", nobody)
	// debugfs is mode 0700 by default: its tracing/ is out of nobody's reach.
	if err := unix.Mount("debugfs", "/sys/kernel/debug", "debugfs", 0, ""); err != nil {
		t.Logf("no debugfs (%v): not checking tracefs under it", err)
	} else {
		runChild(t, exe, t.Name(), "debugfs-denied", nobody)
		unmountTracing(t)
	}
	captureNotice(t)
	if _, err := TracefsPath(); err != nil {
		t.Fatal(err)
	}
	runChild(t, exe, t.Name(), "cannot-read", nobody)
}

func checkCannotMount(t *testing.T) {
	notice := captureNotice(t)
	_, err := TracefsPath()
	t.Logf("TracefsPath: %v", err)
	if !errors.Is(err, ErrNoTracefs) || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("TracefsPath() error %v, want ErrNoTracefs and os.ErrPermission", err)
	}
	for _, want := range []string{"tracefs not available", "operation not permitted", "run as root", "`mount -t tracefs nodev /sys/kernel/tracing`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	_, err = ReadFormat("skb", "kfree_skb")
	if !errors.Is(err, ErrNoTracefs) || !strings.HasPrefix(err.Error(), "read format of skb:kfree_skb: tracefs not available") {
		t.Errorf("ReadFormat error %v, want it to wrap ErrNoTracefs", err)
	}
	if notice.Len() != 0 {
		t.Errorf("printed %q without mounting", notice.String())
	}
}

func checkDebugfsDenied(t *testing.T) {
	_, err := TracefsPath()
	t.Logf("TracefsPath: %v", err)
	if !errors.Is(err, ErrNoTracefs) || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("TracefsPath() error %v, want ErrNoTracefs and os.ErrPermission", err)
	}
	if want := "statfs /sys/kernel/debug/tracing: permission denied (tracefs at /sys/kernel/debug/tracing is readable by root only"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
}

func checkCannotRead(t *testing.T) {
	p, err := TracefsPath()
	if p != defaultTracefs || err != nil {
		t.Fatalf("TracefsPath() = %q, %v; want %q", p, err, defaultTracefs)
	}
	_, err = ReadFormat("skb", "kfree_skb")
	t.Logf("ReadFormat: %v", err)
	if err == nil {
		t.Skip("tracefs is readable by all on this machine (mounted with mode=)")
	}
	if !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "readable by root only") {
		t.Errorf("ReadFormat error %v, want os.ErrPermission and advice", err)
	}
}

// copyExecutable copies the test binary where any user may run it.
func copyExecutable(t *testing.T) string {
	dir, err := os.MkdirTemp("", "dropmon-tracepoint-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	exe := filepath.Join(dir, "tracepoint.test")
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}
