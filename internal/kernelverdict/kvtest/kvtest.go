// Package kvtest opens kernelverdict loaders for tests: the test is skipped
// where the kernel cannot load programs (or fails, with
// DROPMON_REQUIRE_PRIVILEGED=1, when privileges are missing), the loader
// is closed when the test ends, and the modes the machine allows are
// found once.
package kvtest

import (
	"errors"
	"testing"

	"github.com/dropmon/dropmon/internal/kernelverdict"
	"github.com/dropmon/dropmon/internal/testutil"
)

// Loader opens a loader with opts and returns it with the modes it can
// load in (Privileged always, first) and, for the others, why not.
func Loader(t testing.TB, opts *kernelverdict.Options) (*kernelverdict.Loader, []kernelverdict.Mode, map[kernelverdict.Mode]error) {
	t.Helper()
	l, err := kernelverdict.NewLoader(opts)
	testutil.Privileged(t, err)
	if errors.Is(err, kernelverdict.ErrUnavailable) {
		t.Skipf("cannot load programs into the kernel: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	modes := []kernelverdict.Mode{kernelverdict.Privileged}
	unavailable := map[kernelverdict.Mode]error{}
	for _, mode := range []kernelverdict.Mode{kernelverdict.BPFOnly, kernelverdict.Unprivileged} {
		if err := l.Available(mode); err != nil {
			if !errors.Is(err, kernelverdict.ErrUnavailable) {
				t.Fatal(err)
			}
			t.Logf("%v mode unavailable: %v", mode, err)
			unavailable[mode] = err
			continue
		}
		modes = append(modes, mode)
	}
	return l, modes, unavailable
}
