package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/testutil"
)

func TestDisasm(t *testing.T) {
	dir := t.TempDir()
	hash := `{"type": "hash", "type_id": 1, "key_size": 4, "value_size": 8, "max_entries": 4}`
	count := writeCase(t, dir, "count", "kprobe", true, hash, asm.Instructions{
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.LoadMapPtr(asm.R1, 0),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	})
	uninit := writeCase(t, dir, "uninit", "socket_filter", true, "",
		asm.Instructions{asm.Mov.Reg(asm.R0, asm.R2), asm.Return()})
	elf := filepath.Join(testutil.SharedDir(t, "verifier-corpus"), "elf")
	sockex1 := filepath.Join(elf, "new_linux/sockex1_kern.o")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout, in order
		wantErr  string
		jit      bool // needs the JIT: skipped where it does not run
	}{
		{name: "json", args: []string{"--json", count},
			wantOut: []string{"count (kprobe):", "0: StMemW", "3: LoadMapPtr dst: r1 fd: 0", "6: JEqImm dst: r0 off: 2 imm: 0", "10: Exit"}},
		{name: "json jit", args: []string{"--json", count, "--jit"}, jit: true,
			wantOut: []string{"bytes of x86-64", "   3: LoadMapPtr", "\tmov", "   6: JEqImm dst: r0 off: 2 imm: 0 -> 9", "  10: Exit", "\t"}},
		{name: "json jit intel", args: []string{"--json", count, "--jit", "--intel"}, jit: true,
			wantOut: []string{"  10: Exit", "ptr ["}},
		{name: "elf", args: []string{sockex1}, wantOut: []string{"bpf_prog1 (socket_filter):", "LdAbsB imm: 23", "Exit"}},
		{name: "elf jit", args: []string{sockex1, "--jit"}, jit: true,
			wantOut: []string{"bpf_prog1:", "; if (value)", "  10: JEqImm dst: r0 off: 2 imm: 0 -> 13", "lock add", "  14: Exit"}},
		// A rejected program is still listed without --jit.
		{name: "rejected listed", args: []string{"--json", uninit}, wantOut: []string{"MovReg dst: r0 src: r2"}},
		{name: "rejected jit", args: []string{"--json", uninit, "--jit"}, wantCode: 1, wantErr: "insn 0: R2 !read_ok"},
		{name: "no type", args: []string{filepath.Join(elf, "build/divzero.o")}, wantCode: 2, wantErr: "give --type"},
		{name: "missing file", args: []string{filepath.Join(dir, "nosuch.o")}, wantCode: 2, wantErr: "no such file"},
		{name: "no program", args: nil, wantCode: 2, wantErr: "want one program file"},
		{name: "bad flag", args: []string{"--jitt", count}, wantCode: 2, wantErr: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(append([]string{"disasm"}, tt.args...), nil, &stdout, &stderr)
			if tt.jit && code == 1 && strings.Contains(stderr.String(), "not supported") {
				t.Skip(stderr.String())
			}
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, stderr.String())
			}
			rest := stdout.String()
			for _, want := range tt.wantOut {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (after the earlier ones):\n%s", want, stdout.String())
				}
				rest = rest[i+len(want):]
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
