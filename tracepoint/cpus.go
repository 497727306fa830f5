package tracepoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// onlineCPUsPath is where the kernel lists the CPUs that are online.
var onlineCPUsPath = "/sys/devices/system/cpu/online"

// OnlineCPUs returns the numbers of the CPUs that are online, in order.
func OnlineCPUs() ([]int, error) {
	data, err := os.ReadFile(onlineCPUsPath)
	if err != nil {
		return nil, fmt.Errorf("read online cpus: %w", err)
	}
	cpus, err := parseCPUList(string(data))
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", onlineCPUsPath, err)
	}
	return cpus, nil
}

// parseCPUList parses the kernel's CPU list format: "0-3,5,7-8".
func parseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty cpu list")
	}
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("bad cpu %q in list %q", lo, s)
		}
		last := first
		if isRange {
			last, err = strconv.Atoi(hi)
			if err != nil || last < first {
				return nil, fmt.Errorf("bad cpu range %q in list %q", part, s)
			}
		}
		if last-first > 1<<16 {
			return nil, fmt.Errorf("cpu range %q in list %q is too large", part, s)
		}
		for c := first; c <= last; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}
