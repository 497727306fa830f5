package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// tracefsDir is where tracefs is mounted when it is nowhere yet.
const tracefsDir = "/sys/kernel/tracing"

// ensureTracefs mounts tracefs when no tracefs is mounted: perf and
// bpftrace read the tracepoint's format from it and, unlike dropmon, do not
// mount it themselves (bpftrace then says "tracepoint not found"). The note
// says what it did, or is empty.
func ensureTracefs() (note string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find tracefs: %w", err)
	}
	defer f.Close()
	if hasTracefs(f) {
		return "", nil
	}
	if err := unix.Mount("tracefs", tracefsDir, "tracefs", 0, ""); err != nil {
		return "", fmt.Errorf("mount tracefs at %s: %w", tracefsDir, err)
	}
	return "mounted tracefs at " + tracefsDir, nil
}

// hasTracefs says whether /proc/self/mountinfo text lists a tracefs mount,
// or a debugfs, which has tracefs at tracing/. The filesystem type is the
// first field after the " - " separator.
func hasTracefs(r io.Reader) bool {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		_, after, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		if f := strings.Fields(after); len(f) > 0 && (f[0] == "tracefs" || f[0] == "debugfs") {
			return true
		}
	}
	return false
}
