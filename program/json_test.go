package program

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/testutil"
)

// jsonCase writes a dropmon-verifier-case/1 description of insns.
func jsonCase(t *testing.T, maps string, insns asm.Instructions) string {
	t.Helper()
	var b strings.Builder
	if err := insns.Marshal(hexWriter{&b}, binary.LittleEndian); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"schema": "dropmon-verifier-case/1", "id": "t1", "name": "prog",
		"prog_type": "xdp", "privileged": false, "expected": "reject",
		"maps": [%s], "bytecode_hex": %q}`, maps, b.String())
}

type hexWriter struct{ b *strings.Builder }

func (w hexWriter) Write(p []byte) (int, error) { return w.b.WriteString(hex.EncodeToString(p)) }

func TestFromJSON(t *testing.T) {
	insns := asm.Instructions{
		asm.LoadMapPtr(asm.R1, 1),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	maps := `{"type": "hash", "type_id": 1, "key_size": 4, "value_size": 8, "max_entries": 16},
		{"name": "aom", "type": "array_of_maps", "key_size": 4, "value_size": 4, "max_entries": 2,
		 "inner_map": {"type": "array", "type_id": 2, "key_size": 4, "value_size": 4, "max_entries": 1}}`
	p, c, err := FromJSON([]byte(jsonCase(t, maps, insns)))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "t1" || c.Privileged || c.Expected != "reject" || p.Type != XDP || p.Name != "prog" {
		t.Errorf("case %+v, program %s %v", c, p.Name, p.Type)
	}
	if len(p.Maps) != 2 || p.Maps[0].Type != ebpf.Hash || p.Maps[0].ValueSize != 8 ||
		p.Maps[1].Type != ebpf.ArrayOfMaps || p.Maps[1].InnerMap == nil || p.Maps[1].InnerMap.Type != ebpf.Array {
		t.Errorf("maps: %+v %+v", p.Maps[0], p.Maps[1])
	}
	if m, err := p.MapIndex(0); err != nil || m != 1 {
		t.Errorf("MapIndex(0) = %d, %v; want 1", m, err)
	}
	if len(p.Insns) != 3 {
		t.Errorf("%d instructions, want 3", len(p.Insns))
	}
}

func TestFromJSONErrors(t *testing.T) {
	good := jsonCase(t, `{"type": "array", "key_size": 4, "value_size": 4, "max_entries": 1}`,
		asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R0, 0), asm.Return()})
	for _, tc := range []struct {
		name, json, want string
	}{
		{"not json", `{"schema":`, "json program description"},
		{"schema", strings.Replace(good, "dropmon-verifier-case/1", "other/2", 1), `schema "other/2"`},
		{"prog type", strings.Replace(good, `"xdp"`, `"lsm"`, 1), `program type "lsm"`},
		{"bad hex", strings.Replace(good, `"bytecode_hex": "18`, `"bytecode_hex": "zz`, 1), "bytecode_hex"},
		{"odd length", strings.Replace(good, `"bytecode_hex": "18`, `"bytecode_hex": "1`, 1), "bytecode_hex"},
		{"map index", strings.Replace(good, `{"type": "array", "key_size": 4, "value_size": 4, "max_entries": 1}`, "", 1),
			"map index 0 out of range"},
		{"map type", strings.Replace(good, `"array"`, `"nosuch"`, 1), `unknown map type "nosuch"`},
		{"type mismatch", strings.Replace(good, `"array",`, `"array", "type_id": 1,`, 1), "type_id says 1"},
		{"empty", strings.Replace(good, `"bytecode_hex": "`, `"bytecode_hex": "", "x": "`, 1), "no instructions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := FromJSON([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotSupported) {
				t.Errorf("%v matches neither ErrInvalid nor ErrNotSupported", err)
			}
		})
	}
}

// TestFromJSONCorpus reads every JSON description of the verifier corpus.
func TestFromJSONCorpus(t *testing.T) {
	dir := testutil.SharedDir(t, "verifier-corpus")
	files, err := filepath.Glob(filepath.Join(dir, "cases", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no JSON cases in %s: %v", dir, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, c, err := FromJSON(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if c.Expected != "accept" && c.Expected != "reject" {
			t.Errorf("%s: expected %q", c.ID, c.Expected)
		}
		if _, err := Decode(p.Insns); err != nil {
			t.Errorf("%s: decode: %v", c.ID, err)
		}
	}
}

// FuzzFromJSON feeds arbitrary descriptions to FromJSON: it must return a
// program or an error, never panic, and a program it returns must have its
// map loads in range.
func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"schema": "dropmon-verifier-case/1", "prog_type": "xdp", "maps": [],
		"bytecode_hex": "b7000000000000009500000000000000"}`))
	f.Add([]byte(`{"schema": "dropmon-verifier-case/1", "prog_type": "kprobe",
		"maps": [{"type": "array_of_maps", "key_size": 4, "value_size": 4, "max_entries": 1,
		"inner_map": {"type_id": 2, "key_size": 4, "value_size": 8, "max_entries": 1}}],
		"bytecode_hex": "18110000000000000000000000000000b7000000000000009500000000000000"}`))
	f.Add([]byte(`{"schema": "dropmon-verifier-case/1", "prog_type": "socket_filter", "maps": [],
		"insns": [{"code": 183, "dst": 0, "src": 0, "off": 0, "imm": -1}, {"code": 149}],
		"bytecode_hex": "b7000000ffffffff9500000000000000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, c, err := FromJSON(data)
		if err != nil {
			return
		}
		if c == nil || len(p.Insns) == 0 {
			t.Fatalf("no error, but case %v and %d instructions", c, len(p.Insns))
		}
		if _, err := p.MapRefs(); err != nil {
			t.Fatalf("accepted a description with a bad map load: %v", err)
		}
	})
}
