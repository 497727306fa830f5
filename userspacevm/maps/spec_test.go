package maps

import (
	"errors"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/program"
)

func TestNewInvalidSpec(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    program.MapSpec
		wantErr string
	}{
		{"zero max entries", program.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4}, "max_entries is 0"},
		{"hash zero key", program.MapSpec{Type: ebpf.Hash, ValueSize: 4, MaxEntries: 1}, "key size 0 and value size 4 must not be 0"},
		{"hash zero value", program.MapSpec{Type: ebpf.LRUHash, KeySize: 4, MaxEntries: 1}, "must not be 0"},
		{"hash too large", program.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4 << 20, MaxEntries: 1}, "is too large"},
		{"percpu value too large", program.MapSpec{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 32769, MaxEntries: 1}, "per-CPU value size 32769"},
		{"array key size", program.MapSpec{Type: ebpf.Array, KeySize: 8, ValueSize: 4, MaxEntries: 1}, "array key size is 8, must be 4"},
		{"array zero value", program.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, MaxEntries: 1}, "value size is 0"},
		{"stack key size", program.MapSpec{Type: ebpf.StackTrace, KeySize: 8, ValueSize: 8, MaxEntries: 1}, "stack trace key size is 8"},
		{"stack value not multiple of 8", program.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 12, MaxEntries: 1}, "not a positive multiple of 8"},
		{"stack too deep", program.MapSpec{Type: ebpf.StackTrace, KeySize: 4, ValueSize: 8 * 128, MaxEntries: 1}, "more than 127 frames"},
		{"perf value size", program.MapSpec{Type: ebpf.PerfEventArray, KeySize: 4, ValueSize: 8, MaxEntries: 1}, "must be 4 and 4"},
		{"unsupported flag", program.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: 1 << 3}, "flags 0x8 are not supported for Hash"},
		{"no prealloc on lru", program.MapSpec{Type: ebpf.LRUHash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: flagNoPrealloc}, "flags 0x1"},
		{"mmapable percpu array", program.MapSpec{Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: flagMmapable}, "flags 0x400"},
		{"inner map", program.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, InnerMap: &program.MapSpec{}}, "not a map of maps"},
		{"huge", program.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4 << 20, MaxEntries: 1 << 20}, "more than the limit"},
		{"too many slots", program.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1<<32 - 1}, "is too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Name = "bad"
			m, err := New(&tc.spec, &Options{NumCPUs: testCPUs})
			if err == nil {
				m.Close()
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("error %q does not wrap ErrInvalidSpec", err)
			}
			if !strings.HasPrefix(err.Error(), `create map "bad": `) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewAcceptedFlags(t *testing.T) {
	for _, spec := range []program.MapSpec{
		{Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: flagNoPrealloc},
		{Type: ebpf.PerCPUHash, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: flagNoPrealloc | flagZeroSeed},
		{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1, Flags: flagMmapable},
	} {
		mustNewSpec(t, &spec)
	}
}

func TestProgramReadOnly(t *testing.T) {
	ro := mustNewSpec(t, &program.MapSpec{Name: ".rodata", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1, Flags: flagMmapable | flagRdonlyProg})
	if !ro.ProgramReadOnly() {
		t.Fatal("ProgramReadOnly false for BPF_F_RDONLY_PROG")
	}
	if err := ro.Update(u32(0), u64(42), UpdateAny); err != nil {
		t.Fatalf("user space fills .rodata: %v", err)
	}
	if got := ro.UpdateFromProgram(u32(0), u64(1), 0, 0); got != -int64(unix.EPERM) {
		t.Errorf("UpdateFromProgram: %d, want -EPERM", got)
	}
	if got := *word(ro, ro.LookupAddr(u32(0), 0)); got != 42 {
		t.Errorf("value %d, want 42", got)
	}
	if mustNew(t, ebpf.Array, 4, 8, 1).ProgramReadOnly() {
		t.Error("ProgramReadOnly true without the flag")
	}
}

func TestNewNotSupported(t *testing.T) {
	_, err := New(&program.MapSpec{Name: "jmp", Type: ebpf.ProgramArray, KeySize: 4, ValueSize: 4, MaxEntries: 4}, nil)
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("error %v does not wrap ErrNotSupported", err)
	}
	want := `create map "jmp": map type ProgramArray (3) is not supported by the user-space engines`
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestPerfEventArrayDefaultsToCPUs(t *testing.T) {
	m := mustNewSpec(t, &program.MapSpec{Name: "events", Type: ebpf.PerfEventArray, KeySize: 4, ValueSize: 4})
	if got := m.Spec().MaxEntries; got != testCPUs {
		t.Errorf("max_entries %d, want %d (one per CPU)", got, testCPUs)
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"0\n", 1, false},
		{"0-1\n", 2, false},
		{"0-3,8,10-11", 12, false},
		{"0,2", 3, false},
		{"", 0, true},
		{"a-b", 0, true},
		{"0-", 0, true},
		{"0-9000", 0, true},
	} {
		got, err := parseCPUList(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("parseCPUList(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if n, err := PossibleCPUs(); err != nil || n < 1 {
		t.Errorf("PossibleCPUs() = %d, %v", n, err)
	}
}

func TestOptionsNumCPUs(t *testing.T) {
	_, err := New(&program.MapSpec{Name: "p", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, &Options{NumCPUs: -1})
	if err == nil || !strings.Contains(err.Error(), "-1 CPUs") {
		t.Errorf("error %v, want one about -1 CPUs", err)
	}
	m, err := New(&program.MapSpec{Name: "p", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 4, MaxEntries: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if n, _ := PossibleCPUs(); m.NumCPUs() != n {
		t.Errorf("NumCPUs %d, want the possible CPUs %d", m.NumCPUs(), n)
	}
}
