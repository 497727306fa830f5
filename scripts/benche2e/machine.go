package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// machine describes where a run happened, for the report's header.
type machine struct {
	cpus     int
	memBytes uint64
	kernel   string
	cpuModel string
}

func (m machine) String() string {
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB, Linux %s",
		m.cpus, m.cpuModel, float64(m.memBytes)/(1<<30), m.kernel)
}

// describeMachine reads what it can; missing parts stay "?".
func describeMachine() machine {
	m := machine{cpus: runtime.NumCPU(), kernel: "?", cpuModel: "?"}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.kernel = unix.ByteSliceToString(u.Release[:])
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		m.memBytes, _ = parseMemTotal(f)
		f.Close()
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		if model := parseCPUModel(f); model != "" {
			m.cpuModel = model
		}
		f.Close()
	}
	return m
}

// parseMemTotal returns MemTotal from /proc/meminfo text
// ("MemTotal:       24589356 kB") in bytes.
func parseMemTotal(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kib, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("meminfo MemTotal: %w", err)
			}
			return kib << 10, nil
		}
	}
	return 0, fmt.Errorf("meminfo: no MemTotal")
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo text, or ""
// (some architectures have none).
func parseCPUModel(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// toolVersion returns the first line a tool prints for its version, or a
// note that it could not be run.
func toolVersion(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if err != nil && first == "" {
		return fmt.Sprintf("%s: %v", name, err)
	}
	return first
}
