package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/testutil"
)

// buildDropmon builds the static binary the conformance runner drives.
func buildDropmon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dropmon")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var summaryLine = regexp.MustCompile(`^(\d+) passed, (\d+) failed, (\d+) skipped$`)

// runConformance runs ../shared/conformance/run.py against `dropmon exec`
// and returns the counts of its last line.
func runConformance(t *testing.T, dir, bin, engine string, args ...string) (passed, failed int) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	argv := append([]string{filepath.Join(dir, "run.py")}, args...)
	argv = append(argv, "--", bin, "exec", "--engine", engine)
	out, err := exec.Command("python3", argv...).CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	m := summaryLine.FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("run.py %v: %v; no summary line in:\n%s", args, err, out)
	}
	passed, _ = strconv.Atoi(m[1])
	failed, _ = strconv.Atoi(m[2])
	if failed > 0 {
		t.Logf("run.py %v:\n%s", args, out)
	}
	return passed, failed
}

func TestConformance(t *testing.T) {
	dir := testutil.SharedDir(t, "conformance")
	bin := buildDropmon(t)

	for _, engine := range []string{"interp", "jit"} {
		t.Run("tests/"+engine, func(t *testing.T) {
			passed, failed := runConformance(t, dir, bin, engine)
			if passed != 312 || failed != 0 {
				t.Errorf("ISA v4 on %s: %d passed, %d failed; want 312 passed, 0 failed", engine, passed, failed)
			}
		})
	}
	t.Run("negative", func(t *testing.T) {
		passed, failed := runConformance(t, dir, bin, "interp", "--tests", filepath.Join(dir, "negative"), "--all")
		if passed != 45 || failed != 0 {
			t.Errorf("negative: %d rejected, %d accepted; want all 45 rejected", passed, failed)
		}
	})
}
