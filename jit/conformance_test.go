//go:build amd64 && linux

package jit

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
	"github.com/dropmon/dropmon/userspacevm"
	"github.com/dropmon/dropmon/userspacevm/program"
	"github.com/dropmon/dropmon/verifier"
)

// conformanceCase is one .data file of the bpf_conformance suite.
type conformanceCase struct {
	name   string
	code   []byte
	mem    []byte
	result uint64
}

// loadConformance gets every test's bytecode from run.py --dump and
// memory and result from the .data file, as userspacevm's test does.
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

// conformanceHelpers is DefaultHelpers with helper 5 returning its first
// argument, as the suite expects, counting calls into *calls.
func conformanceHelpers(calls *uint64) userspacevm.Helpers {
	h := userspacevm.DefaultHelpers()
	h[asm.FnKtimeGetNs] = func(_ *userspacevm.Call, r1, _, _, _, _ uint64) uint64 {
		*calls++
		return r1
	}
	return h
}

// prepareConformance verifies code as the conformance type and prepares it.
func prepareConformance(t *testing.T, name string, code []byte, memLen int, h userspacevm.Helpers) *userspacevm.Prepared {
	t.Helper()
	insns, err := program.FromBytes(code)
	if err != nil {
		t.Fatal(err)
	}
	prog := &program.Program{Name: name, Type: program.Conformance, Insns: insns}
	v, err := verifier.Verify(prog, &verifier.Options{ContextSize: memLen})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	p, err := userspacevm.PrepareVerified(v, &userspacevm.LoadOptions{Helpers: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// runEngine runs p once on engine over a copy of mem and returns R0, the
// memory afterwards and the runner (closed at the end of the test).
func runEngine(t *testing.T, e userspacevm.Engine, p *userspacevm.Prepared, mem []byte) (uint64, []byte, userspacevm.Runner) {
	t.Helper()
	r, err := e.Load(p)
	if err != nil {
		t.Fatalf("%s: load: %v", e.Name(), err)
	}
	t.Cleanup(func() { r.Close() })
	buf := make([]byte, len(mem), max(16, len(mem))) // 8-byte aligned, as exec makes it
	copy(buf, mem)
	got, err := r.Run(buf, nil)
	if err != nil {
		t.Fatalf("%s: run: %v", e.Name(), err)
	}
	return got, buf, r
}

// TestConformance runs every conformance test on the JIT and the
// interpreter: R0 must equal the file's result and each other, the memory
// afterwards must be the same, and the JIT must exit to Go exactly once
// per helper call the interpreter made (helper 5 counts its calls).
func TestConformance(t *testing.T) {
	cases := loadConformance(t)
	if len(cases) != 312 {
		t.Errorf("%d conformance tests at ISA v4, want 312", len(cases))
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.name, ".data"), func(t *testing.T) {
			var calls uint64
			p := prepareConformance(t, c.name, c.code, len(c.mem), conformanceHelpers(&calls))
			want, wantMem, _ := runEngine(t, userspacevm.Interp{}, p, c.mem)
			interpCalls := calls
			calls = 0
			got, gotMem, r := runEngine(t, Engine{}, p, c.mem)
			if got != c.result || got != want {
				t.Errorf("jit r0 = %#x, interpreter %#x, file %#x", got, want, c.result)
			}
			if string(gotMem) != string(wantMem) {
				t.Errorf("memory after run:\njit    %x\ninterp %x", gotMem, wantMem)
			}
			if exits := r.(*Runner).Exits(); exits != interpCalls || calls != interpCalls {
				t.Errorf("jit exited %d times for %d helper calls (interpreter made %d)", exits, calls, interpCalls)
			}
		})
	}
}
