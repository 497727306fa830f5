package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/testutil"
)

// writeCase writes a dropmon-verifier-case/1 description into dir and
// returns its path.
func writeCase(t *testing.T, dir, name, progType string, privileged bool, maps string, insns asm.Instructions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(`{"schema": "dropmon-verifier-case/1", "id": %q, "name": %q, "prog_type": %q,
		"privileged": %t, "expected": "accept", "maps": [%s], "bytecode_hex": %q}`,
		name, name, progType, privileged, maps, hex.EncodeToString(buf.Bytes()))
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyJSON(t *testing.T) {
	dir := t.TempDir()
	ret0 := asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
	hash := `{"type": "hash", "type_id": 1, "key_size": 4, "value_size": 8, "max_entries": 4}`
	lookup := asm.Instructions{
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
		asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord), // no null check
		asm.Return(),
	}
	leak := asm.Instructions{asm.Mov.Reg(asm.R0, asm.R10), asm.Return()}
	cases := map[string]string{
		"ret0":        writeCase(t, dir, "ret0", "xdp", true, "", ret0),
		"uninit":      writeCase(t, dir, "uninit", "socket_filter", true, "", asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2), asm.Return()}),
		"nullcheck":   writeCase(t, dir, "nullcheck", "kprobe", true, hash, lookup),
		"leak-priv":   writeCase(t, dir, "leak-priv", "socket_filter", true, "", leak),
		"leak-unpriv": writeCase(t, dir, "leak-unpriv", "socket_filter", false, "", leak),
		"helper":      writeCase(t, dir, "helper", "kprobe", true, "", asm.Instructions{asm.BuiltinFunc(100000).Call(), asm.Return()}),
		"maptype": writeCase(t, dir, "maptype", "kprobe", true, `{"type_id": 4000, "key_size": 4, "value_size": 4, "max_entries": 1}`,
			asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R0, 0), asm.Return()}),
		"mapindex": writeCase(t, dir, "mapindex", "kprobe", true, hash,
			asm.Instructions{asm.LoadMapPtr(asm.R1, 3), asm.Mov.Imm(asm.R0, 0), asm.Return()}),
	}
	bigHelper := filepath.Join(dir, "bighelper.json")
	writeFile(t, bigHelper, `{"schema": "dropmon-verifier-case/1", "id": "h", "prog_type": "kprobe",
		"maps": [], "bytecode_hex": "85000000ffffff7fb7000000000000009500000000000000"}`)
	badSchema := filepath.Join(dir, "schema.json")
	writeFile(t, badSchema, `{"schema": "other/1"}`)
	notJSON := filepath.Join(dir, "bad.json")
	writeFile(t, notJSON, `{"schema": `)

	tests := []verifyTest{
		{name: "accept", args: []string{"--json", cases["ret0"]}, wantOut: "processed 2 insns\n"},
		{name: "uninitialised register", args: []string{"--json", cases["uninit"]}, wantCode: 1, wantErr: "insn 0: R2 !read_ok"},
		{name: "missing null check", args: []string{"--json", cases["nullcheck"]}, wantCode: 1,
			wantErr: "insn 6: R0 invalid mem access 'map_value_or_null'"},
		{name: "privileged may return a pointer", args: []string{"--json", cases["leak-priv"]}, wantOut: "processed 2 insns\n"},
		{name: "unprivileged may not", args: []string{"--json", cases["leak-unpriv"]}, wantCode: 1, wantErr: "R0 leaks addr"},
		{name: "--unprivileged overrides", args: []string{"--json", "--unprivileged", cases["leak-priv"]}, wantCode: 1, wantErr: "R0 leaks addr"},
		{name: "--without-perfmon may not", args: []string{"--json", "--without-perfmon", cases["leak-priv"]}, wantCode: 1, wantErr: "R0 leaks addr"},
		{name: "unknown helper", args: []string{"--json", cases["helper"]}, wantCode: 1, wantErr: "insn 0"},
		{name: "helper number no kernel has", args: []string{"--json", bigHelper}, wantCode: 1, wantErr: "insn 0: invalid helper"},
		{name: "unknown map type", args: []string{"--json", cases["maptype"]}, wantCode: 1, wantErr: "rejected"},
		{name: "map index out of range", args: []string{"--json", cases["mapindex"]}, wantCode: 2, wantErr: "map index 3 out of range"},
		{name: "bad schema", args: []string{"--json", badSchema}, wantCode: 2, wantErr: `schema "other/1"`},
		{name: "not json", args: []string{"--json", notJSON}, wantCode: 2, wantErr: "bad.json"},
		{name: "missing file", args: []string{"--json", filepath.Join(dir, "nosuch.json")}, wantCode: 2, wantErr: "no such file"},
		{name: "no argument", args: []string{"--json"}, wantCode: 2, wantErr: "want one program file"},
		{name: "bad flag", args: []string{"--nope", cases["ret0"]}, wantCode: 2, wantErr: "unknown flag"},
		{name: "bad type", args: []string{"--json", "--type", "lsm", cases["ret0"]}, wantCode: 2, wantErr: `program type "lsm"`},
	}
	runVerifyTests(t, tests)
}

// verifyTest is one run of `dropmon verify`: its exit status, the start
// of its stdout and a substring of its stderr.
type verifyTest struct {
	name     string
	args     []string
	wantCode int
	wantOut  string
	wantErr  string
}

func runVerifyTests(t *testing.T, tests []verifyTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(append([]string{"verify"}, tt.args...), nil, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tt.wantOut) {
				t.Errorf("stdout %q, want it to start with %q", stdout.String(), tt.wantOut)
			}
			if code == 0 && !strings.HasPrefix(stdout.String(), "processed ") {
				t.Errorf("stdout %q of an accepted program does not say how many instructions were processed", stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
			if code == 1 && strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr %q is not one line", stderr.String())
			}
		})
	}
}

func TestVerifyELF(t *testing.T) {
	elf := filepath.Join(testutil.SharedDir(t, "verifier-corpus"), "elf")
	obj := func(p string) string { return filepath.Join(elf, p) }
	tests := []verifyTest{
		{name: "sockex1", args: []string{obj("new_linux/sockex1_kern.o")}, wantOut: "processed "},
		{name: "by section and name", args: []string{obj("new_linux/sockex3_kern.o"), "--section", "socket/0", "--program", "main_prog"}},
		{name: "type override", args: []string{obj("build/divzero.o"), "--type", "socket_filter"}},
		{name: "missing null check", args: []string{obj("build/nullmapref.o"), "--type", "socket_filter"}, wantCode: 1,
			wantErr: "R0 invalid mem access 'map_value_or_null'"},
		{name: "pointer plus pointer", args: []string{obj("build/ptr_arith.o")}, wantCode: 1, wantErr: "pointer += pointer"},
		{name: "helper not for xdp", args: []string{obj("build/wronghelper.o")}, wantCode: 1, wantErr: "insn "},
		{name: "section without a type", args: []string{obj("build/divzero.o")}, wantCode: 2, wantErr: "give --type"},
		{name: "ambiguous", args: []string{obj("new_linux/sockex3_kern.o")}, wantCode: 2, wantErr: "name one"},
		{name: "no such program", args: []string{obj("new_linux/sockex1_kern.o"), "--program", "nosuch"}, wantCode: 2,
			wantErr: `program "nosuch": not found`},
		{name: "no such section", args: []string{obj("new_linux/sockex1_kern.o"), "--section", "xdp"}, wantCode: 2,
			wantErr: `section "xdp" has no program`},
		{name: "missing file", args: []string{obj("nosuch.o")}, wantCode: 2, wantErr: "no such file"},
		{name: "not an ELF object", args: []string{obj("../README.md")}, wantCode: 2, wantErr: "README.md"},
		{name: "json flags on ELF", args: []string{"--json", obj("new_linux/sockex1_kern.o"), "--section", "x"}, wantCode: 2,
			wantErr: "--section and --program are for ELF objects"},
	}
	runVerifyTests(t, tests)
}

// TestVerifyVerbose checks that -v prints the whole log and still ends
// with the one-line reason run.py reads.
func TestVerifyVerbose(t *testing.T) {
	path := writeCase(t, t.TempDir(), "uninit", "socket_filter", true, "",
		asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Mov.Reg(asm.R0, asm.R3), asm.Return()})
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"verify", "-vv", "--json", path}, nil, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) < 2 {
		t.Errorf("-vv printed no log: %q", stderr.String())
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "insn 1: R3 !read_ok") {
		t.Errorf("last line %q does not give the reason", last)
	}
}
