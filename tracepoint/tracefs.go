package tracepoint

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	// ErrNotFound is wrapped by errors for a group or event that tracefs
	// does not list.
	ErrNotFound = errors.New("tracepoint not found")
	// ErrNoTracefs is wrapped by errors when no tracefs can be found or
	// mounted.
	ErrNoTracefs = errors.New("tracefs not available")
)

// Statfs magic numbers from include/uapi/linux/magic.h.
const (
	tracefsMagic = 0x74726163
	debugfsMagic = 0x64626720
)

// defaultTracefs is where the kernel (4.1+) creates an empty directory for
// tracefs and where we mount it when nothing else is mounted.
const defaultTracefs = "/sys/kernel/tracing"

// debugfsTracing is the older location: a debugfs at /sys/kernel/debug has a
// tracing/ directory, an automount of tracefs since 4.1 and part of debugfs
// before.
const debugfsTracing = "/sys/kernel/debug/tracing"

// noticeOutput receives the one-line notice printed when we mount tracefs
// ourselves. Tests replace it.
var noticeOutput io.Writer = os.Stderr

// mountinfoPath is read to find tracefs and debugfs mounts. Tests replace it.
var mountinfoPath = "/proc/self/mountinfo"

// tracefsCache remembers a found or mounted tracefs. Failures are not cached:
// the next call looks again (someone may have mounted it meanwhile).
var tracefsCache struct {
	mu   sync.Mutex
	path string
}

// TracefsPath returns the directory where tracefs is mounted, mounting it at
// /sys/kernel/tracing when none is. It looks, like perf and cilium/ebpf, first
// for a tracefs in /proc/self/mountinfo, then for a debugfs with a tracing
// directory, then at the two usual paths by statfs magic.
//
// When it mounts tracefs itself it says so once on stderr. The error, when
// there is no tracefs it may use and mounting fails, wraps ErrNoTracefs and,
// for lack of privilege, os.ErrPermission. A found path is cached; a failure
// is not, so a later call looks again.
func TracefsPath() (string, error) {
	tracefsCache.mu.Lock()
	defer tracefsCache.mu.Unlock()
	if tracefsCache.path != "" {
		return tracefsCache.path, nil
	}
	p, denied := findTracefs()
	if p != "" {
		tracefsCache.path = p
		return p, nil
	}
	if err := mountTracefs(defaultTracefs); err != nil {
		if denied != nil && errors.Is(err, os.ErrPermission) {
			// Typically a debugfs (mode 0700) at /sys/kernel/debug: tracefs
			// is there, just not for us.
			return "", fmt.Errorf("%w: %w", ErrNoTracefs, denied)
		}
		return "", err
	}
	fmt.Fprintf(noticeOutput, "dropmon: mounted tracefs at %s\n", defaultTracefs)
	tracefsCache.path = defaultTracefs
	return defaultTracefs, nil
}

// findTracefs returns a usable tracefs directory, or "" and, when a
// candidate could not be examined for lack of permission, why.
func findTracefs() (path string, denied error) {
	type candidate struct {
		path   string
		magics []int64
	}
	var candidates []candidate
	tracefs, debugfs := mountsFromMountinfo()
	for _, p := range tracefs {
		candidates = append(candidates, candidate{p, []int64{tracefsMagic}})
	}
	for _, p := range debugfs {
		candidates = append(candidates, candidate{filepath.Join(p, "tracing"), []int64{tracefsMagic, debugfsMagic}})
	}
	// mountinfo may be unreadable (no /proc) or may not show the mount.
	candidates = append(candidates,
		candidate{defaultTracefs, []int64{tracefsMagic}},
		candidate{debugfsTracing, []int64{tracefsMagic, debugfsMagic}})
	for _, c := range candidates {
		ok, err := hasMagic(c.path, c.magics...)
		if ok {
			return c.path, nil
		}
		if denied == nil && errors.Is(err, os.ErrPermission) {
			denied = permissionAdvice(c.path, &os.PathError{Op: "statfs", Path: c.path, Err: err})
		}
	}
	return "", denied
}

// mountsFromMountinfo lists the mount points of whole (root "/") tracefs and
// debugfs file systems, /sys/kernel/tracing first when it is one of them.
func mountsFromMountinfo() (tracefs, debugfs []string) {
	f, err := os.Open(mountinfoPath)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	for s.Scan() {
		root, point, fstype, ok := parseMountinfoLine(s.Text())
		if !ok || root != "/" {
			continue
		}
		switch fstype {
		case "tracefs":
			if point == defaultTracefs {
				tracefs = append([]string{point}, tracefs...)
			} else {
				tracefs = append(tracefs, point)
			}
		case "debugfs":
			debugfs = append(debugfs, point)
		}
	}
	return tracefs, debugfs
}

// parseMountinfoLine splits one line of /proc/<pid>/mountinfo (see
// proc_pid_mountinfo(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
//
// returning the root (4th), the mount point (5th) and the file system type
// (first field after the "-" separator).
func parseMountinfoLine(line string) (root, point, fstype string, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 7 {
		return "", "", "", false
	}
	for i := 6; i < len(fields)-1; i++ {
		if fields[i] == "-" {
			return unescapeMountinfo(fields[3]), unescapeMountinfo(fields[4]), fields[i+1], true
		}
	}
	return "", "", "", false
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for space, \011,
// \012, \134) in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// hasMagic reports whether path is the root of a file system with one of the
// given statfs magic numbers, and the error of statfs if it failed.
func hasMagic(path string, magics ...int64) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, err
	}
	for _, m := range magics {
		if int64(st.Type) == m {
			return true, nil
		}
	}
	return false, nil
}

// mountTracefs mounts tracefs at dir, as `mount -t tracefs nodev dir` would.
func mountTracefs(dir string) error {
	err := unix.Mount("tracefs", dir, "tracefs", 0, "")
	if err == nil {
		return nil
	}
	advice := fmt.Sprintf("run as root, or mount it as root with `mount -t tracefs nodev %s`", dir)
	switch {
	case errors.Is(err, unix.ENODEV):
		advice = "the kernel has no tracefs: it was built without CONFIG_TRACING"
	case errors.Is(err, unix.ENOENT):
		advice = fmt.Sprintf("kernels before 4.1 have no %s: mount debugfs with "+
			"`mount -t debugfs nodev /sys/kernel/debug`", dir)
	}
	// EPERM and EACCES match os.ErrPermission through the wrapped errno.
	return fmt.Errorf("%w: none mounted, and mount at %s: %w (%s)", ErrNoTracefs, dir, err, advice)
}

// permissionAdvice turns EACCES/EPERM from reading tracefs into an error that
// wraps os.ErrPermission and says what to do; other errors pass unchanged.
func permissionAdvice(tracefs string, err error) error {
	if !errors.Is(err, os.ErrPermission) {
		return err
	}
	return fmt.Errorf("%w (tracefs at %s is readable by root only: run as root, "+
		"or give access with `chmod` or the mount options gid= and mode=)", err, tracefs)
}
