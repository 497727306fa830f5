package tracepoint

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestParseMountinfoLine(t *testing.T) {
	for _, tt := range []struct {
		line                string
		root, point, fstype string
		ok                  bool
	}{
		{line: "63 46 0:13 / /sys/kernel/tracing rw,relatime - tracefs nodev rw",
			root: "/", point: "/sys/kernel/tracing", fstype: "tracefs", ok: true},
		{line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
			root: "/mnt1", point: "/mnt2", fstype: "ext3", ok: true},
		{line: "40 30 0:7 / /sys/kernel/debug rw,nosuid shared:9 master:2 - debugfs debugfs rw",
			root: "/", point: "/sys/kernel/debug", fstype: "debugfs", ok: true},
		{line: `70 1 0:13 / /my\040trace rw - tracefs nodev rw`,
			root: "/", point: "/my trace", fstype: "tracefs", ok: true},
		{line: `70 1 0:13 /x\134y /a\011b\012c rw - tracefs nodev rw`,
			root: `/x\y`, point: "/a\tb\nc", fstype: "tracefs", ok: true},
		{line: `70 1 0:13 / /bad\04escape rw - tracefs nodev rw`,
			root: "/", point: `/bad\04escape`, fstype: "tracefs", ok: true},
		{line: "63 46 0:13 / /sys/kernel/tracing rw,relatime tracefs nodev rw"},
		{line: "63 46 0:13 / /x rw -"},
		{line: ""},
	} {
		root, point, fstype, ok := parseMountinfoLine(tt.line)
		if root != tt.root || point != tt.point || fstype != tt.fstype || ok != tt.ok {
			t.Errorf("parseMountinfoLine(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
				tt.line, root, point, fstype, ok, tt.root, tt.point, tt.fstype, tt.ok)
		}
	}
}

func TestMountsFromMountinfo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mountinfo")
	data := strings.Join([]string{
		"22 27 0:21 / /proc rw,relatime - proc proc rw",
		"50 27 0:13 / /container/tracing rw - tracefs nodev rw",
		"51 27 0:13 /instances /elsewhere rw - tracefs nodev rw", // a bind of a subdirectory
		"52 23 0:13 / /sys/kernel/tracing rw,nosuid - tracefs tracefs rw",
		"53 23 0:7 / /sys/kernel/debug rw - debugfs debugfs rw",
		"truncated line",
	}, "\n")
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	saved := mountinfoPath
	mountinfoPath = file
	t.Cleanup(func() { mountinfoPath = saved })

	tracefs, debugfs := mountsFromMountinfo()
	if want := []string{"/sys/kernel/tracing", "/container/tracing"}; !slices.Equal(tracefs, want) {
		t.Errorf("tracefs mounts %q, want %q", tracefs, want)
	}
	if want := []string{"/sys/kernel/debug"}; !slices.Equal(debugfs, want) {
		t.Errorf("debugfs mounts %q, want %q", debugfs, want)
	}

	mountinfoPath = filepath.Join(t.TempDir(), "absent")
	if tracefs, debugfs := mountsFromMountinfo(); tracefs != nil || debugfs != nil {
		t.Errorf("without mountinfo got %q, %q", tracefs, debugfs)
	}
}

func TestHasMagic(t *testing.T) {
	if ok, err := hasMagic(t.TempDir(), tracefsMagic, debugfsMagic); ok || err != nil {
		t.Errorf("hasMagic(temporary directory) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := hasMagic(filepath.Join(t.TempDir(), "absent"), tracefsMagic); ok || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hasMagic(absent path) = %v, %v; want false, ENOENT", ok, err)
	}
}

func TestPermissionAdvice(t *testing.T) {
	denied := &fs.PathError{Op: "open", Path: "/sys/kernel/tracing/events/skb/kfree_skb/format", Err: syscall.EACCES}
	err := permissionAdvice("/sys/kernel/tracing", denied)
	if !errors.Is(err, os.ErrPermission) || !errors.Is(err, syscall.EACCES) {
		t.Errorf("%v does not wrap os.ErrPermission and EACCES", err)
	}
	for _, want := range []string{"permission denied", "tracefs at /sys/kernel/tracing is readable by root only", "run as root", "mode="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	other := &fs.PathError{Op: "read", Path: "x", Err: syscall.EIO}
	if got := permissionAdvice("/t", other); got != error(other) {
		t.Errorf("permissionAdvice changed a non-permission error: %v", got)
	}
}

// TestTracefsPathCached checks that a found path is returned without looking
// again, so only the first call may mount and print.
func TestTracefsPathCached(t *testing.T) {
	root := fakeTracefs(t)
	var out strings.Builder
	saved := noticeOutput
	noticeOutput = &out
	t.Cleanup(func() { noticeOutput = saved })
	for range 3 {
		if p, err := TracefsPath(); p != root || err != nil {
			t.Fatalf("TracefsPath() = %q, %v; want %q", p, err, root)
		}
	}
	if out.Len() != 0 {
		t.Errorf("printed %q for a cached path", out.String())
	}
}
