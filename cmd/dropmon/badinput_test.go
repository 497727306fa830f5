package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dropcountObject is a committed BPF object whose one program has three
// lddw instructions: the tests patch copies of it.
var dropcountObject = filepath.Join("..", "..", "samples", "bpf", "dropcount.bpf.o")

// patchedObject copies dropcountObject into dir as name, lets patch change
// the bytes of its program section, and returns the copy's path.
func patchedObject(t *testing.T, dir, name string, patch func(code []byte)) string {
	t.Helper()
	data, err := os.ReadFile(dropcountObject)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sec := f.Section("tracepoint/skb/kfree_skb")
	if sec == nil {
		t.Fatalf("%s has no section tracepoint/skb/kfree_skb", dropcountObject)
	}
	patch(data[sec.Offset : sec.Offset+sec.Size])
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// firstLDDW is the byte offset of the first lddw in code.
func firstLDDW(t *testing.T, code []byte) int {
	t.Helper()
	for i := 0; i+8 <= len(code); i += 8 {
		if code[i] == 0x18 {
			return i
		}
	}
	t.Fatal("no lddw in the program")
	return 0
}

// jsonCaseText is a dropmon-verifier-case/1 description with the given
// bytecode and, when insns is not empty, that insns array.
func jsonCaseText(bytecode, insns string) string {
	extra := ""
	if insns != "" {
		extra = `"insns": ` + insns + `,`
	}
	return fmt.Sprintf(`{"schema": "dropmon-verifier-case/1", "id": "bad", "prog_type": "socket_filter",
		"maps": [], %s "bytecode_hex": %q}`, extra, bytecode)
}

// sparseFile makes a file of size bytes that takes no room on disk.
func sparseFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBadInput feeds every command input that is wrong in one way and
// checks the exit status and the message: nothing may panic, hang or read
// without bound. Exit 1 is a program rejected or a run that failed, 2 bad
// usage or input that cannot be read.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string) string {
		path := filepath.Join(dir, name)
		writeFile(t, path, text)
		return path
	}
	obj, err := os.ReadFile(dropcountObject)
	if err != nil {
		t.Fatal(err)
	}
	const (
		mov0 = "b700000000000000"
		exit = "9500000000000000"
	)
	var (
		good       = dropcountObject
		empty      = file("empty.o", "")
		truncHdr   = file("trunc-header.o", string(obj[:30]))
		truncBody  = file("trunc-body.o", string(obj[:1000]))
		notELF     = file("notes.txt", "# not an object\n")
		missing    = filepath.Join(dir, "nosuch.o")
		bigELF     = sparseFile(t, filepath.Join(dir, "big.o"), 64<<20+1)
		bigJSON    = sparseFile(t, filepath.Join(dir, "big.json"), 64<<20+1)
		emptyJSON  = file("empty.json", "")
		goodJSON   = file("good.json", jsonCaseText(mov0+exit, `[{"code": 183}, {"code": 149}]`))
		lddwSlot2  = file("lddw2.json", jsonCaseText("1800000001000000"+"0700000000000000"+mov0+exit, ""))
		lddwLast   = file("lddwlast.json", jsonCaseText(mov0+exit+"1800000001000000", ""))
		insnsDiff  = file("diff.json", jsonCaseText(mov0+exit, `[{"code": 183}, {"code": 149, "imm": 1}]`))
		insnsShort = file("short.json", jsonCaseText(mov0+exit, `[{"code": 183}]`))
		elfSlot2   = patchedObject(t, dir, "lddw2.o", func(code []byte) { code[firstLDDW(t, code)+8] = 0x07 })
		lastInsn   int // the program's last instruction, made the first slot of an lddw
		elfLast    = patchedObject(t, dir, "lddwlast.o", func(code []byte) { lastInsn = len(code)/8 - 1; code[len(code)-8] = 0x18 })
	)
	devZero := func() io.Reader {
		f, err := os.Open("/dev/zero")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	tests := []struct {
		name     string
		args     []string
		stdin    func() io.Reader // nil: empty
		prog     string           // stdin text when stdin is nil
		wantCode int
		wantErr  string
	}{
		// The monitor: only flags that fail to parse, so nothing starts.
		{name: "monitor huge interval", args: []string{"--interval", "999999999h"}, wantCode: 2,
			wantErr: "--interval 999999999h: too large: at most 2562047h"},
		{name: "monitor huge duration", args: []string{"-d", "1e20s"}, wantCode: 2, wantErr: "--duration 1e20s: too large: at most 2562047h"},
		{name: "monitor huge sum", args: []string{"-d", "2562047h60m"}, wantCode: 2, wantErr: "too large: at most 2562047h"},
		{name: "monitor not a duration", args: []string{"-i", "5"}, wantCode: 2, wantErr: `must be a duration like "30s"`},
		{name: "monitor bad engine", args: []string{"--engine", "foo"}, wantCode: 2, wantErr: "--engine foo: want one of jit, interp, kernel"},
		{name: "monitor zero interval", args: []string{"-i", "0s"}, wantCode: 2, wantErr: "must be positive"},
		{name: "monitor bad ring size", args: []string{"--ring-size", "big"}, wantCode: 2, wantErr: "want a size such as"},
		{name: "monitor map without program", args: []string{"--map", "m"}, wantCode: 2, wantErr: "go with --program"},
		{name: "monitor stray argument", args: []string{"-n", "3", "now"}, wantCode: 2, wantErr: "unexpected argument"},

		// exec: hex on stdin.
		{name: "exec stdin /dev/zero", args: []string{"exec"}, stdin: devZero, wantCode: 2,
			wantErr: "larger than the 32 Mi digit limit for hex input"},
		{name: "exec empty stdin", args: []string{"exec"}, wantCode: 1, wantErr: "program has no instructions"},
		{name: "exec not hex", args: []string{"exec"}, prog: "b7 00 zz", wantCode: 2, wantErr: `token 2 "zz" is not hex bytes`},
		{name: "exec odd digits", args: []string{"exec"}, prog: "b70", wantCode: 2, wantErr: "token 0"},
		{name: "exec memory not hex", args: []string{"exec", "0g"}, prog: mov0 + exit, wantCode: 2, wantErr: "memory: token 0"},
		{name: "exec partial slot", args: []string{"exec"}, prog: mov0 + "95", wantCode: 1, wantErr: "not a multiple of 8 bytes"},
		{name: "exec lddw second slot", args: []string{"exec"}, prog: "1800000001000000 0700000000000000" + mov0 + exit, wantCode: 1,
			wantErr: "insn 0: invalid bpf_ld_imm64 insn"},
		{name: "exec lddw last", args: []string{"exec"}, prog: mov0 + exit + "1800000001000000", wantCode: 1,
			wantErr: "insn 2: invalid bpf_ld_imm64 insn"},
		{name: "exec bad engine", args: []string{"exec", "--engine", "foo"}, prog: mov0 + exit, wantCode: 2,
			wantErr: "--engine foo: want one of interp, jit"},
		{name: "exec max-insns with jit", args: []string{"exec", "--engine", "jit", "--max-insns", "10"}, prog: mov0 + exit, wantCode: 2,
			wantErr: "--max-insns goes with --engine interp"},
		{name: "exec max-insns reached", args: []string{"exec", "--max-insns", "100"},
			prog: mov0 + "0700000001000000 a500feffe8030000" + exit, wantCode: 1, wantErr: "instruction budget exhausted"},
		{name: "exec max-insns not a number", args: []string{"exec", "--max-insns", "lots"}, wantCode: 2, wantErr: "invalid argument"},

		// verify: ELF objects and JSON descriptions.
		{name: "verify good object", args: []string{"verify", good}, wantCode: 0},
		{name: "verify json /dev/zero", args: []string{"verify", "--json", "/dev/zero"}, wantCode: 2,
			wantErr: "/dev/zero: larger than the 64 MiB limit for JSON input"},
		{name: "verify elf /dev/zero", args: []string{"verify", "/dev/zero"}, wantCode: 2,
			wantErr: "/dev/zero: larger than the 64 MiB limit for ELF input"},
		{name: "verify json too large", args: []string{"verify", "--json", bigJSON}, wantCode: 2,
			wantErr: "big.json: larger than the 64 MiB limit for JSON input"},
		{name: "verify elf too large", args: []string{"verify", bigELF}, wantCode: 2,
			wantErr: "big.o: larger than the 64 MiB limit for ELF input"},
		{name: "verify empty file", args: []string{"verify", empty}, wantCode: 2, wantErr: "empty.o: not an ELF object: file is empty"},
		{name: "verify truncated header", args: []string{"verify", truncHdr}, wantCode: 2, wantErr: "truncated ELF header: 30 bytes"},
		{name: "verify truncated object", args: []string{"verify", truncBody}, wantCode: 2, wantErr: "truncated ELF object"},
		{name: "verify not ELF", args: []string{"verify", notELF}, wantCode: 2, wantErr: `notes.txt: not an ELF object: it starts with "# not an"`},
		{name: "verify directory", args: []string{"verify", dir}, wantCode: 2, wantErr: "is a directory"},
		{name: "verify json directory", args: []string{"verify", "--json", dir}, wantCode: 2, wantErr: "is a directory"},
		{name: "verify missing file", args: []string{"verify", missing}, wantCode: 2, wantErr: "no such file"},
		{name: "verify json empty", args: []string{"verify", "--json", emptyJSON}, wantCode: 2, wantErr: "empty.json: json program description"},
		{name: "verify elf lddw second slot", args: []string{"verify", elfSlot2}, wantCode: 1,
			wantErr: "lddw2.o: rejected: program count_drops: insn 11: invalid bpf_ld_imm64 insn"},
		{name: "verify elf lddw last", args: []string{"verify", elfLast}, wantCode: 1,
			wantErr: fmt.Sprintf("rejected: program count_drops: insn %d: invalid bpf_ld_imm64 insn", lastInsn)},
		{name: "verify json lddw second slot", args: []string{"verify", "--json", lddwSlot2}, wantCode: 1,
			wantErr: "insn 0: invalid bpf_ld_imm64 insn"},
		{name: "verify json lddw last", args: []string{"verify", "--json", lddwLast}, wantCode: 1,
			wantErr: "insn 2: invalid bpf_ld_imm64 insn"},
		{name: "verify json insns agree", args: []string{"verify", "--json", goodJSON}, wantCode: 0},
		{name: "verify json insns differ", args: []string{"verify", "--json", insnsDiff}, wantCode: 2,
			wantErr: "insns[1] is {code 0x95 dst 0 src 0 off 0 imm 1} but slot 1 of bytecode_hex is {code 0x95 dst 0 src 0 off 0 imm 0}"},
		{name: "verify json insns too few", args: []string{"verify", "--json", insnsShort}, wantCode: 2,
			wantErr: "insns has 1 entries but bytecode_hex has 16 bytes (2 slots)"},

		// disasm shares verify's loading.
		{name: "disasm json /dev/zero", args: []string{"disasm", "--json", "/dev/zero"}, wantCode: 2,
			wantErr: "larger than the 64 MiB limit for JSON input"},
		{name: "disasm intel without jit", args: []string{"disasm", "--intel", good}, wantCode: 2, wantErr: "--intel goes with --jit"},
		{name: "disasm unprivileged without jit", args: []string{"disasm", "--unprivileged", good}, wantCode: 2,
			wantErr: "--unprivileged goes with --jit"},
		{name: "disasm elf lddw", args: []string{"disasm", elfSlot2}, wantCode: 1, wantErr: "invalid bpf_ld_imm64 insn"},
		{name: "disasm empty file", args: []string{"disasm", empty}, wantCode: 2, wantErr: "not an ELF object: file is empty"},
		{name: "disasm directory", args: []string{"disasm", dir}, wantCode: 2, wantErr: "is a directory"},
		{name: "disasm insns differ", args: []string{"disasm", "--json", insnsDiff}, wantCode: 2, wantErr: "insns[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin := io.Reader(strings.NewReader(tt.prog))
			if tt.stdin != nil {
				stdin = tt.stdin()
			}
			code, stdout, stderr := dispatchWithin(t, 20*time.Second, tt.args, stdin)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, stdout, stderr)
			}
			// The message comes first; a usage text may follow it.
			first, _, _ := strings.Cut(stderr, "\n")
			if !strings.Contains(first, tt.wantErr) {
				t.Errorf("stderr %q, want its first line to contain %q", stderr, tt.wantErr)
			}
			if code == 1 && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q is not one line", stderr)
			}
		})
	}
}

// dispatchWithin runs dispatch and fails the test if it panics or takes
// longer than limit.
func dispatchWithin(t *testing.T, limit time.Duration, args []string, stdin io.Reader) (code int, stdout, stderr string) {
	t.Helper()
	type result struct {
		code           int
		stdout, stderr string
		panicked       any
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			r.panicked = recover()
			done <- r
		}()
		var out, errOut bytes.Buffer
		r.code = dispatch(args, stdin, &out, &errOut)
		r.stdout, r.stderr = out.String(), errOut.String()
	}()
	select {
	case r := <-done:
		if r.panicked != nil {
			t.Fatalf("dropmon %s panicked: %v", strings.Join(args, " "), r.panicked)
		}
		return r.code, r.stdout, r.stderr
	case <-time.After(limit):
		t.Fatalf("dropmon %s did not finish within %s", strings.Join(args, " "), limit)
	}
	return 0, "", ""
}
