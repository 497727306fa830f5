package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzVerifyJSON runs `dropmon verify --json` on arbitrary descriptions:
// the command's whole path, from reading the file to the verdict. The exit
// status must be 0 (with "processed N insns"), 1 (one line of reason) or 2;
// 3 is a bug in the verifier, and a panic is a bug anywhere.
func FuzzVerifyJSON(f *testing.F) {
	const head = `{"schema": "dropmon-verifier-case/1", "id": "f", "prog_type": "socket_filter", `
	for _, seed := range []string{
		head + `"maps": [], "bytecode_hex": "b7000000000000009500000000000000"}`,
		head + `"maps": [], "insns": [{"code": 183}, {"code": 149}], "bytecode_hex": "b7000000000000009500000000000000"}`,
		head + `"privileged": false, "maps": [], "bytecode_hex": "bfa0000000000000 9500000000000000"}`,
		head + `"maps": [{"type": "hash", "key_size": 4, "value_size": 8, "max_entries": 4}],
			"bytecode_hex": "620afcff00000000 bfa2000000000000 07020000fcffffff 1811000000000000 0000000000000000 ` +
			`8500000001000000 1500010000000000 7900000000000000 b700000000000000 9500000000000000"}`,
		head + `"maps": [], "bytecode_hex": "1800000001000000 0700000000000000 9500000000000000"}`,
		`{"schema": "other/1"}`,
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "case.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := dispatch([]string{"verify", "--json", path}, nil, &stdout, &stderr)
		switch code {
		case verifyAccepted:
			if !strings.HasPrefix(stdout.String(), "processed ") {
				t.Fatalf("accepted, but stdout is %q", stdout.String())
			}
		case verifyRejected:
			if strings.Count(stderr.String(), "\n") != 1 {
				t.Fatalf("rejected, but stderr is not one line: %q", stderr.String())
			}
		case verifyBadInput:
		default:
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	})
}

// FuzzReplay replays arbitrary bytes as a recording, on the interpreter:
// the whole path (formats, markers, the program, the reports) must answer
// with reports or one error line, never a panic. Seeded with the committed
// recording and perf capture.
func FuzzReplay(f *testing.F) {
	for _, seed := range []string{"testdata/drops.data", "../../internal/perfdata/testdata/kfree_skb.data"} {
		if b, err := os.ReadFile(seed); err == nil {
			f.Add(b)
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "capture.data")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		switch code := dispatch([]string{"replay", path, "-o", "json", "--engine", "interp", "--stacks=false"}, nil, &stdout, &stderr); code {
		case 0:
		case 1:
			if !strings.HasPrefix(stderr.String(), "dropmon replay: ") && !strings.Contains(stderr.String(), "\ndropmon replay: ") {
				t.Fatalf("exit 1 without an error line: %q", stderr.String())
			}
		default:
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	})
}
