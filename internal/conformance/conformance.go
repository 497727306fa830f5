// Package conformance loads the public bpf_conformance suite that sits in
// ../shared beside a developer's checkout, for the tests of every engine:
// each test's bytecode as the suite's run.py assembles it, its memory and
// its expected result.
package conformance

import (
	"bufio"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dropmon/dropmon/internal/testutil"
)

// Case is one .data file of the bpf_conformance suite: the
// program as run.py assembles it, the memory and the expected R0.
type Case struct {
	Name   string // the .data file's name
	Code   []byte // the program as run.py assembles it
	Mem    []byte // the memory R1 points to (empty when the test has none)
	Result uint64 // the expected R0
}

// Load gets every test's bytecode from run.py's assembler
// (--dump, default ISA v4 and groups) and reads memory and result from the
// .data file itself.
func Load(t testing.TB) []Case {
	t.Helper()
	dir := testutil.SharedDir(t, "conformance")
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	out, err := exec.Command("python3", filepath.Join(dir, "run.py"), "--dump").Output()
	if err != nil {
		t.Fatalf("run.py --dump: %v", err)
	}
	var cases []Case
	for line := range strings.Lines(string(out)) {
		name, code, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok || strings.HasPrefix(code, "skipped") {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(code, " ", ""))
		if err != nil {
			t.Fatalf("%s: bytecode %q: %v", name, code, err)
		}
		c := Case{Name: name, Code: b}
		readDataFile(t, filepath.Join(dir, "tests", name), &c)
		cases = append(cases, c)
	}
	return cases
}

// readDataFile reads the "-- mem" and "-- result" sections.
func readDataFile(t testing.TB, path string, c *Case) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "--"); ok {
			section = strings.TrimSpace(strings.SplitN(name, "#", 2)[0])
			continue
		}
		body := strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
		switch {
		case body == "":
		case section == "mem":
			for _, tok := range strings.Fields(body) {
				v, err := strconv.ParseUint(tok, 16, 8)
				if err != nil {
					t.Fatalf("%s: mem %q: %v", c.Name, tok, err)
				}
				c.Mem = append(c.Mem, byte(v))
			}
		case section == "result":
			v, err := strconv.ParseUint(strings.Fields(body)[0], 0, 64)
			if err != nil {
				t.Fatalf("%s: result %q: %v", c.Name, body, err)
			}
			c.Result = v
		}
	}
}
