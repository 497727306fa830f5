package userspacevm

import (
	"bufio"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/testutil"
	"github.com/dropmon/dropmon/userspacevm/program"
	"github.com/dropmon/dropmon/verifier"
)

// conformanceCase is one .data file of the bpf_conformance suite: the
// program as run.py assembles it, the memory and the expected R0.
type conformanceCase struct {
	name   string
	code   []byte
	mem    []byte
	result uint64
}

// loadConformance gets every test's bytecode from run.py's assembler
// (--dump, default ISA v4 and groups) and reads memory and result from the
// .data file itself.
func loadConformance(t *testing.T) []conformanceCase {
	t.Helper()
	dir := testutil.SharedDir(t, "conformance")
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	out, err := exec.Command("python3", filepath.Join(dir, "run.py"), "--dump").Output()
	if err != nil {
		t.Fatalf("run.py --dump: %v", err)
	}
	var cases []conformanceCase
	for line := range strings.Lines(string(out)) {
		name, code, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok || strings.HasPrefix(code, "skipped") {
			continue
		}
		b, err := hex.DecodeString(strings.ReplaceAll(code, " ", ""))
		if err != nil {
			t.Fatalf("%s: bytecode %q: %v", name, code, err)
		}
		c := conformanceCase{name: name, code: b}
		readDataFile(t, filepath.Join(dir, "tests", name), &c)
		cases = append(cases, c)
	}
	return cases
}

// readDataFile reads the "-- mem" and "-- result" sections.
func readDataFile(t *testing.T, path string, c *conformanceCase) {
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
					t.Fatalf("%s: mem %q: %v", c.name, tok, err)
				}
				c.mem = append(c.mem, byte(v))
			}
		case section == "result":
			v, err := strconv.ParseUint(strings.Fields(body)[0], 0, 64)
			if err != nil {
				t.Fatalf("%s: result %q: %v", c.name, body, err)
			}
			c.result = v
		}
	}
}

// TestConformanceData runs the suite in-process on the interpreter, the
// same tests cmd/dropmon's test runs through run.py and `dropmon exec`.
func TestConformanceData(t *testing.T) {
	cases := loadConformance(t)
	if len(cases) != 312 {
		t.Errorf("%d conformance tests at ISA v4, want 312", len(cases))
	}
	helpers := DefaultHelpers()
	helpers[asm.FnKtimeGetNs] = func(_ *Call, r1, _, _, _, _ uint64) uint64 { return r1 }
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.name, ".data"), func(t *testing.T) {
			insns, err := program.FromBytes(c.code)
			if err != nil {
				t.Fatal(err)
			}
			// Verified as the conformance type first, as dropmon exec does.
			prog := &program.Program{Name: c.name, Type: program.Conformance, Insns: insns}
			v, err := verifier.Verify(prog, &verifier.Options{ContextSize: len(c.mem)})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			p, err := PrepareVerified(v, &LoadOptions{Helpers: helpers})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			it, err := NewInterpreter(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer it.Close()
			mem := make([]byte, len(c.mem), max(16, len(c.mem))) // 8-byte aligned, as exec makes it
			copy(mem, c.mem)
			got, err := it.Run(mem, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.result {
				t.Errorf("r0 = %#x, want %#x", got, c.result)
			}
		})
	}
}
