package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize takes, binary multiples all.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30},
	{"KB", 10}, {"MB", 20}, {"GB", 30},
	{"K", 10}, {"M", 20}, {"G", 30},
	{"k", 10}, {"B", 0},
}

// parseSize parses a byte count such as 512KiB, 4M or 65536. Units are
// binary (K is 1024), as perf's --mmap-pages takes them.
func parseSize(s string) (int, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, shift = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.shift
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, errors.New("want a size such as 512KiB, 4MiB or a number of bytes")
	}
	if n > 1<<40>>shift {
		return 0, fmt.Errorf("%s is too large", s)
	}
	return int(n << shift), nil
}

// formatSize prints a byte count the way parseSize reads it.
func formatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n)
}
