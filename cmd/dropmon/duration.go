package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	flag "github.com/spf13/pflag"
)

// maxDuration is the longest time.Duration, as a user would write it.
const maxDuration = "2562047h"

// durationUnits are time.ParseDuration's units in nanoseconds.
var durationUnits = map[string]float64{
	"ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
}

// durationFlagError turns pflag's error for a duration that Go cannot
// hold ("must be a duration like 30s") into one that says it is too large.
// Other errors come back unchanged.
func durationFlagError(err error) error {
	var bad *flag.InvalidValueError
	if !errors.As(err, &bad) || bad.GetFlag().Value.Type() != "duration" || !durationTooLarge(bad.GetValue()) {
		return err
	}
	return fmt.Errorf("--%s %s: too large: at most %s", bad.GetFlag().Name, bad.GetValue(), maxDuration)
}

// durationTooLarge reports whether s reads as a duration (numbers with
// units, as time.ParseDuration takes them, exponents allowed) whose
// magnitude is past what a time.Duration holds.
func durationTooLarge(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" {
		return false
	}
	var total float64
	for s != "" {
		n := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789.eE+-", r) })
		if n <= 0 {
			return false
		}
		// An exponent's sign is part of the number; a unit starts with a
		// letter other than e (no unit does).
		num, rest := s[:n], s[n:]
		v, err := strconv.ParseFloat(num, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return false
		}
		u := strings.IndexAny(rest, "0123456789.")
		if u < 0 {
			u = len(rest)
		}
		scale, ok := durationUnits[rest[:u]]
		if !ok {
			return false
		}
		total += v * scale
		s = rest[u:]
	}
	return total > math.MaxInt64 || math.IsInf(total, 0)
}
