package program

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleObjects are the committed BPF objects: good ELF input.
func sampleObjects(tb testing.TB) []string {
	tb.Helper()
	objs, err := filepath.Glob(filepath.Join("..", "samples", "bpf", "*.o"))
	if err != nil || len(objs) == 0 {
		tb.Fatalf("no objects in samples/bpf: %v", err)
	}
	return objs
}

// patchProgram returns a copy of obj with patch applied to the bytes of
// its executable section sec.
func patchProgram(t *testing.T, obj []byte, sec string, patch func(code []byte)) []byte {
	t.Helper()
	obj = bytes.Clone(obj)
	f, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(sec)
	if s == nil {
		t.Fatalf("no section %s", sec)
	}
	patch(obj[s.Offset : s.Offset+s.Size])
	return obj
}

func TestReadELFBadInput(t *testing.T) {
	dir := t.TempDir()
	obj, err := os.ReadFile(filepath.Join("..", "samples", "bpf", "dropcount.bpf.o"))
	if err != nil {
		t.Fatal(err)
	}
	const sec = "tracepoint/skb/kfree_skb"
	firstLDDW := func(code []byte) int {
		for i := 0; i < len(code); i += 8 {
			if code[i] == 0x18 {
				return i
			}
		}
		t.Fatal("no lddw")
		return 0
	}
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	big := filepath.Join(dir, "big.o")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, MaxELFSize+1) != nil {
		t.Fatal("cannot make a sparse file")
	}
	// The program's last instruction, made the first slot of an lddw.
	var last int
	lddwLast := write("lddwlast.o", patchProgram(t, obj, sec, func(c []byte) { last = len(c)/8 - 1; c[len(c)-8] = 0x18 }))
	for _, tc := range []struct {
		name     string
		path     string
		want     string
		wantIs   error
		wantInsn int // -1: no *InsnError
	}{
		{"empty", write("empty.o", nil), "empty.o: not an ELF object: file is empty", ErrInvalid, -1},
		{"not elf", write("text.o", []byte("hello, world")), `not an ELF object: it starts with "hello, w"`, ErrInvalid, -1},
		{"short magic", write("magic.o", []byte("\x7fEL")), "truncated ELF header: 3 bytes", ErrInvalid, -1},
		{"truncated header", write("hdr.o", obj[:40]), "truncated ELF header: 40 bytes, the header alone has 64", ErrInvalid, -1},
		{"truncated object", write("body.o", obj[:len(obj)/2]), "truncated ELF object", nil, -1},
		{"directory", dir, "is a directory", nil, -1},
		{"too large", big, "big.o: larger than the 64 MiB limit for ELF input", ErrTooLarge, -1},
		{"device", "/dev/zero", "/dev/zero: larger than the 64 MiB limit for ELF input", ErrTooLarge, -1},
		{"missing", filepath.Join(dir, "nosuch.o"), "no such file", os.ErrNotExist, -1},
		{"lddw second slot", write("lddw2.o", patchProgram(t, obj, sec, func(c []byte) { c[firstLDDW(c)+9] = 0x01 })),
			"program count_drops: insn 11: invalid bpf_ld_imm64 insn: its second slot has a non-zero opcode, register or offset", ErrInvalid, 11},
		{"lddw last", lddwLast, "invalid bpf_ld_imm64 insn: the program ends before its second slot", ErrInvalid, last},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadELF(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadELF: %v, want %q", err, tc.want)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("%v does not match %v", err, tc.wantIs)
			}
			var ie *InsnError
			switch {
			case tc.wantInsn < 0 && errors.As(err, &ie):
				t.Errorf("%v is an *InsnError; the file is unreadable, not the program wrong", err)
			case tc.wantInsn >= 0 && (!errors.As(err, &ie) || ie.Insn != tc.wantInsn):
				t.Errorf("%v: want an *InsnError at insn %d", err, tc.wantInsn)
			}
		})
	}
}

func TestFromJSONInsns(t *testing.T) {
	const prog = `"bytecode_hex": "b7000000000000009500000000000000"`
	for _, tc := range []struct {
		name, insns, want string
	}{
		{"agree", `[{"code": 183}, {"code": 149}]`, ""},
		{"absent", ``, ""},
		{"imm differs", `[{"code": 183, "imm": 1}, {"code": 149}]`,
			"insns[0] is {code 0xb7 dst 0 src 0 off 0 imm 1} but slot 0 of bytecode_hex is {code 0xb7 dst 0 src 0 off 0 imm 0}"},
		{"dst differs", `[{"code": 183}, {"code": 149, "dst": 1}]`, "insns[1] is {code 0x95 dst 1"},
		{"out of range", `[{"code": 183}, {"code": 405}]`, "insns[1] is {code 0x195"},
		{"too many", `[{"code": 183}, {"code": 149}, {"code": 149}]`, "insns has 3 entries but bytecode_hex has 16 bytes (2 slots)"},
		{"empty", `[]`, "insns has 0 entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			insns := ""
			if tc.insns != "" {
				insns = `"insns": ` + tc.insns + `,`
			}
			data := `{"schema": "dropmon-verifier-case/1", "id": "c", "prog_type": "xdp", "maps": [], ` + insns + prog + `}`
			_, _, err := FromJSON([]byte(data))
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("FromJSON: %v, want %q", err, tc.want)
			case tc.want != "" && !errors.Is(err, ErrInvalid):
				t.Errorf("%v does not match ErrInvalid", err)
			}
		})
	}
}

func TestFromJSONFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, nil, 0o644); err != nil || os.Truncate(big, MaxJSONSize+1) != nil {
		t.Fatal("cannot make a sparse file")
	}
	for _, path := range []string{big, "/dev/zero"} {
		_, _, err := FromJSONFile(path)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path+": larger than the 64 MiB limit for JSON input") {
			t.Errorf("FromJSONFile(%s): %v", path, err)
		}
	}
}

// FuzzFromELF reads arbitrary bytes as a BPF ELF object, seeded with the
// committed samples, and turns each program it finds into a Program: no
// panic, and an error about an instruction must be an *InsnError matching
// ErrInvalid or ErrNotSupported.
func FuzzFromELF(f *testing.F) {
	for _, obj := range sampleObjects(f) {
		data, err := os.ReadFile(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// CO-RE relocations go against the objects' own types, so that the
	// target is the same on every machine and needs no /sys access.
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := parseELF("fuzz.o", data)
		if err != nil {
			var ie *InsnError
			if errors.As(err, &ie) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v: an *InsnError that is not ErrInvalid", err)
			}
			return
		}
		var opts *ELFOptions
		if cs.Types != nil {
			opts = &ELFOptions{KernelTypes: cs.Types}
		}
		for name := range cs.Programs {
			p, err := fromCollection("fuzz.o", cs, "", name, opts)
			if err != nil {
				continue
			}
			if _, err := Decode(p.Insns); err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotSupported) {
				t.Fatalf("Decode: %v matches neither ErrInvalid nor ErrNotSupported", err)
			}
		}
	})
}
