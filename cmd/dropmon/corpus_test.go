package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/testutil"
)

var corpusSummary = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

// TestVerifierCorpus runs ../shared/verifier-corpus/run.py over `dropmon
// verify`: all 151 real-world programs must get the kernel's verdict.
func TestVerifierCorpus(t *testing.T) {
	dir := testutil.SharedDir(t, "verifier-corpus")
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	bin := buildDropmon(t)
	// run.py runs the templates through /bin/sh and quotes the values it
	// fills in; the binary's path is ours to quote.
	quoted := "'" + strings.ReplaceAll(bin, "'", `'\''`) + "'"
	cmd := exec.Command("python3", filepath.Join(dir, "run.py"),
		"--json-cmd", quoted+" verify --json {case}",
		"--elf-cmd", quoted+" verify {file} --section {section} --program {program} --type {prog_type}")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	if corpusSummary.FindStringSubmatch(last) == nil {
		t.Fatalf("run.py: %v; no summary line in:\n%s", err, out)
	}
	if last != "151 passed, 0 failed" {
		t.Errorf("run.py: %s, want 151 passed, 0 failed:\n%s", last, out)
	}
}
