package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestExec(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		prog     string
		wantOut  string
		wantCode int
		wantErr  string
	}{
		{name: "mov exit", prog: "b7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n", wantOut: "2a\n"},
		{name: "lenient whitespace", prog: "  b7 00 00 00 ff ff ff ff \n\n 95 00\t00 00 00 00 00 00", wantOut: "ffffffffffffffff\n"},
		{name: "tokens of several bytes", prog: "b70000002a000000 9500000000000000", wantOut: "2a\n"},
		{name: "r2 is the memory length", args: []string{"00 01 02"}, prog: "bf 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00", wantOut: "3\n"},
		{name: "no memory: r1 is 0", prog: "bf 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00", wantOut: "0\n"},
		{name: "memory is writable", args: []string{"00 00 00 00 00 00 00 00"},
			prog:    "7a 01 00 00 07 00 00 00 79 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
			wantOut: "7\n"},
		{name: "helper 5 returns r1", prog: "b7 01 00 00 09 00 00 00 85 00 00 00 05 00 00 00 95 00 00 00 00 00 00 00", wantOut: "9\n"},
		{name: "interp by name", args: []string{"--engine", "interp"}, prog: "b7 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00", wantOut: "0\n"},
		{name: "verified first: R0 unset", prog: "95 00 00 00 00 00 00 00", wantCode: 1, wantErr: "insn 0: R0 !read_ok"},
		{name: "jit by name", args: []string{"--engine=jit"}, prog: "b7 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00", wantOut: "7\n"},
		{name: "unknown engine", args: []string{"--engine", "kernel"}, prog: "95 00 00 00 00 00 00 00", wantCode: 2, wantErr: "--engine kernel: want one of interp, jit"},
		{name: "bad hex", prog: "9g", wantCode: 2, wantErr: "program: token 0"},
		{name: "unused field", prog: "07 10 00 00 01 00 00 00 95 00 00 00 00 00 00 00", wantCode: 1,
			wantErr: "insn 0: BPF_ALU uses reserved fields"},
		{name: "access violation", args: []string{"00 00"}, prog: "79 10 08 00 00 00 00 00 95 00 00 00 00 00 00 00", wantCode: 1,
			wantErr: "insn 0: invalid access to memory, mem_size=2 off=8 size=8"},
		{name: "endless loop refused", args: []string{"--max-insns", "100"}, prog: "05 00 ff ff 00 00 00 00 95 00 00 00 00 00 00 00", wantCode: 1,
			wantErr: "unreachable insn 1"},
		{name: "two memory arguments", args: []string{"00", "01"}, prog: "95 00 00 00 00 00 00 00", wantCode: 2, wantErr: "at most one argument"},
		{name: "bad flag", args: []string{"--nope"}, prog: "", wantCode: 2, wantErr: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(append([]string{"exec"}, tt.args...), strings.NewReader(tt.prog), &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if stdout.String() != tt.wantOut {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantOut)
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
