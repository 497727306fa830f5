package program

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/testutil"
)

func TestFromELF(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t, "verifier-corpus"), "elf")
	for _, tc := range []struct {
		file, section, name string
		wantName            string
		wantType            Type
		wantMaps            []string
	}{
		{"new_linux/sockex1_kern.o", "socket1", "", "bpf_prog1", SocketFilter, []string{"my_map"}},
		{"new_linux/sockex3_kern.o", "", "main_prog", "main_prog", SocketFilter, []string{"jmp_table"}},
		{"new_linux/sockex3_kern.o", "socket/3", "bpf_func_PARSE_IP", "bpf_func_PARSE_IP", SocketFilter,
			[]string{"percpu_map", "jmp_table", "hash_map"}},
		{"new_linux/tracex4_kern.o", "kretprobe/kmem_cache_alloc_node", "", "bpf_prog2", Kprobe, []string{"my_map"}},
		{"new_linux/tracex6_kern.o", "", "bpf_prog2", "bpf_prog2", Kprobe, []string{"counters", "values2"}},
		{"cilium-examples/tcx_bpf_bpfel.o", "tc", "ingress_prog_func", "ingress_prog_func", SchedCLS, []string{".bss"}},
		{"cilium-examples/tracepoint_in_c_bpf_bpfel.o", "", "", "mm_page_alloc", Tracepoint, []string{"counting_map"}},
		{"cilium-examples/xdp_bpf_bpfel.o", "xdp", "", "xdp_prog_func", XDP, []string{"xdp_stats_map"}},
		{"cilium-examples/cgroup_skb_bpf_bpfel.o", "", "", "count_egress_packets", CgroupSKB, []string{"pkt_count"}},
		{"cilium-examples/uretprobe_bpf_x86_bpfel.o", "", "", "uretprobe_bash_readline", Kprobe, []string{"events"}},
		{"build/nullmapref.o", "test", "test_repro", "test_repro", Unspec, []string{"test_map"}},
		{"build/dependent_read.o", "", "", "dependent_read", XDP, nil},
	} {
		t.Run(tc.file+"/"+tc.wantName, func(t *testing.T) {
			p, err := FromELF(filepath.Join(dir, tc.file), tc.section, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.wantName || p.Type != tc.wantType {
				t.Errorf("got %s of type %v, want %s of type %v", p.Name, p.Type, tc.wantName, tc.wantType)
			}
			var names []string
			for _, m := range p.Maps {
				names = append(names, m.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.wantMaps, ",") {
				t.Errorf("maps %v, want %v", names, tc.wantMaps)
			}
			refs, err := p.MapRefs()
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) == 0 && len(tc.wantMaps) > 0 {
				t.Error("no map loads")
			}
			if _, err := Decode(p.Insns); err != nil {
				t.Errorf("decode: %v", err)
			}
		})
	}
}

func TestFromELFDataSection(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t, "verifier-corpus"), "elf")
	p, err := FromELF(filepath.Join(dir, "cilium-examples/tcx_bpf_bpfel.o"), "", "egress_prog_func")
	if err != nil {
		t.Fatal(err)
	}
	refs, err := p.MapRefs()
	if err != nil {
		t.Fatal(err)
	}
	m := p.Maps[0]
	if m.Type != ebpf.Array || m.KeySize != 4 || m.MaxEntries != 1 || m.ValueSize == 0 {
		t.Errorf(".bss map %+v", *m)
	}
	for _, r := range refs {
		if !r.Value || r.Offset >= m.ValueSize {
			t.Errorf("ref %+v: want a value load inside the %d-byte .bss", r, m.ValueSize)
		}
	}
}

func TestFromELFErrors(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t, "verifier-corpus"), "elf")
	sockex3 := filepath.Join(dir, "new_linux/sockex3_kern.o")
	notELF := filepath.Join(t.TempDir(), "x.o")
	if err := os.WriteFile(notELF, []byte("not an ELF object"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, section, prog, want string
		is                              error
	}{
		{"missing file", filepath.Join(dir, "nosuch.o"), "", "", "nosuch.o", os.ErrNotExist},
		{"not elf", notELF, "", "", "x.o", nil},
		{"no program", sockex3, "", "nosuch", `program "nosuch"`, ErrNotFound},
		{"no section", sockex3, "socket/9", "", `section "socket/9" has no program`, ErrNotFound},
		{"wrong section", sockex3, "socket/1", "main_prog", `is in section "socket/0"`, ErrNotFound},
		{"ambiguous", sockex3, "", "", "has 5 programs", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromELF(tc.path, tc.section, tc.prog)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not match %v", err, tc.is)
			}
		})
	}
}

// ciliumTestdata returns cilium/ebpf's testdata folder in the module cache,
// whose objects have what the corpus lacks: bpf-to-bpf calls, several data
// sections, __kconfig and __ksym externs.
func ciliumTestdata(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cilium/ebpf").Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "testdata")
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("cannot locate cilium/ebpf's module: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("cilium/ebpf's testdata: %v", err)
	}
	return dir
}

func TestFromELFCalls(t *testing.T) {
	p, err := FromELF(filepath.Join(ciliumTestdata(t), "loader-clang-22-el.elf"), "xdp", "")
	if err != nil {
		t.Fatal(err)
	}
	insns, err := Decode(p.Insns)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	calls := 0
	for pc, in := range insns {
		if in.Op != CallLocal {
			continue
		}
		calls++
		if in.Target() <= pc || in.Target() >= len(insns) {
			t.Errorf("insn %d calls %d, outside the appended subprograms", pc, in.Target())
		}
	}
	if calls == 0 {
		t.Error("no bpf-to-bpf calls decoded")
	}
	refs, err := p.MapRefs()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	for _, r := range refs {
		if r.Value {
			values[p.Maps[r.Map].Name] = true
		}
	}
	for _, sec := range []string{".bss", ".data", ".rodata"} {
		if !values[sec] {
			t.Errorf("no value load of %s (maps %v)", sec, values)
		}
	}
	// The data sections keep their initial contents, for the engines to
	// write into the maps.
	for _, m := range p.Maps {
		if (m.Name == ".data" || m.Name == ".rodata") && len(m.Data) != int(m.ValueSize) {
			t.Errorf("map %s: %d bytes of initial contents for %d-byte values", m.Name, len(m.Data), m.ValueSize)
		}
	}
}

func TestFromELFExterns(t *testing.T) {
	dir := ciliumTestdata(t)
	for _, tc := range []struct{ file, section, name, want string }{
		{"kconfig-el.elf", "", "kconfig", "__kconfig"},
		{"ksym-el.elf", "", "ksym_test", "ksyms and kconfig are not supported"},
		{"kfunc-el.elf", "tc", "call_kfunc", "kfuncs are not supported"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := FromELF(filepath.Join(dir, tc.file), tc.section, tc.name)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrNotSupported) {
				t.Fatalf("err = %v, want ErrNotSupported with %q", err, tc.want)
			}
		})
	}
}

// TestFromELFCorpus loads every ELF program of the verifier corpus's
// manifest by its section and name, and checks its size against the
// manifest's.
func TestFromELFCorpus(t *testing.T) {
	dir := testutil.SharedDir(t, "verifier-corpus")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Cases []struct {
			ID, Kind, File, Section, Program string
			ProgType                         string `json:"prog_type"`
			InsnSlots                        int    `json:"insn_slots"`
		}
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range manifest.Cases {
		if c.Kind != "elf" {
			continue
		}
		n++
		p, err := FromELF(filepath.Join(dir, c.File), c.Section, c.Program)
		if err != nil {
			t.Errorf("%s: %v", c.ID, err)
			continue
		}
		if slots := int(p.Insns.Size() / asm.InstructionSize); slots != c.InsnSlots {
			t.Errorf("%s: %d slots, manifest says %d", c.ID, slots, c.InsnSlots)
		}
		if want, err := ParseType(c.ProgType); err != nil || (p.Type != Unspec && p.Type != want) {
			t.Errorf("%s: type %v, manifest says %s", c.ID, p.Type, c.ProgType)
		}
	}
	if n == 0 {
		t.Error("no ELF programs in the manifest")
	}
}
