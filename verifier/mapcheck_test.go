package verifier

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

func testMap(t program.MapType, key, value, max, flags uint32) *program.MapSpec {
	return &program.MapSpec{Name: "m", Type: t, KeySize: key, ValueSize: value, MaxEntries: max, Flags: flags}
}

func TestHelperMapCompatible(t *testing.T) {
	hash := testMap(ebpf.Hash, 4, 8, 16, 0)
	tests := []struct {
		name    string
		id      asm.BuiltinFunc
		m       *program.MapSpec
		wantErr string
	}{
		{"lookup hash", asm.FnMapLookupElem, hash, ""},
		{"update percpu array", asm.FnMapUpdateElem, testMap(ebpf.PerCPUArray, 4, 8, 4, 0), ""},
		{"delete lru hash", asm.FnMapDeleteElem, testMap(ebpf.LRUHash, 4, 8, 4, 0), ""},
		{"lookup lpm trie", asm.FnMapLookupElem, testMap(ebpf.LPMTrie, 8, 8, 4, 1), ""},
		{"tail call prog array", asm.FnTailCall, testMap(ebpf.ProgramArray, 4, 4, 8, 0), ""},
		{"tail call through array", asm.FnTailCall, testMap(ebpf.Array, 4, 4, 1, 0),
			"cannot pass map_type 2 into func bpf_tail_call#12"},
		{"lookup prog array", asm.FnMapLookupElem, testMap(ebpf.ProgramArray, 4, 4, 8, 0),
			"cannot pass map_type 3 into func bpf_map_lookup_elem#1"},
		{"perf output", asm.FnPerfEventOutput, testMap(ebpf.PerfEventArray, 4, 4, 2, 0), ""},
		{"perf read", asm.FnPerfEventRead, testMap(ebpf.PerfEventArray, 4, 4, 2, 0), ""},
		{"perf read value", asm.FnPerfEventReadValue, testMap(ebpf.PerfEventArray, 4, 4, 2, 0), ""},
		{"perf output into hash", asm.FnPerfEventOutput, hash, "cannot pass map_type 1 into func bpf_perf_event_output#25"},
		{"update perf array", asm.FnMapUpdateElem, testMap(ebpf.PerfEventArray, 4, 4, 2, 0), "map_type 4 into func bpf_map_update_elem#2"},
		{"stackid", asm.FnGetStackid, testMap(ebpf.StackTrace, 4, 1016, 16, 0), ""},
		{"stackid into hash", asm.FnGetStackid, hash, "func bpf_get_stackid#27"},
		{"lookup stack trace", asm.FnMapLookupElem, testMap(ebpf.StackTrace, 4, 1016, 16, 0), "map_type 7"},
		{"skb under cgroup", asm.FnSkbUnderCgroup, testMap(ebpf.CGroupArray, 4, 4, 1, 0), ""},
		{"task under cgroup", asm.FnCurrentTaskUnderCgroup, testMap(ebpf.CGroupArray, 4, 4, 1, 0), ""},
		{"task under cgroup with array", asm.FnCurrentTaskUnderCgroup, testMap(ebpf.Array, 4, 4, 1, 0), "bpf_current_task_under_cgroup#37"},
		{"lookup cgroup array", asm.FnMapLookupElem, testMap(ebpf.CGroupArray, 4, 4, 1, 0), "map_type 8"},
		{"redirect devmap", asm.FnRedirectMap, testMap(ebpf.DevMap, 4, 4, 8, 0), ""},
		{"redirect devmap_hash", asm.FnRedirectMap, testMap(ebpf.DevMapHash, 4, 4, 8, 0), ""},
		{"redirect cpumap", asm.FnRedirectMap, testMap(ebpf.CPUMap, 4, 4, 8, 0), ""},
		{"redirect xskmap", asm.FnRedirectMap, testMap(ebpf.XSKMap, 4, 4, 8, 0), ""},
		{"redirect into array", asm.FnRedirectMap, testMap(ebpf.Array, 4, 4, 8, 0), "cannot pass map_type 2 into func bpf_redirect_map#51"},
		{"lookup devmap", asm.FnMapLookupElem, testMap(ebpf.DevMap, 4, 4, 8, 0), ""},
		{"lookup xskmap", asm.FnMapLookupElem, testMap(ebpf.XSKMap, 4, 4, 8, 0), ""},
		{"lookup cpumap", asm.FnMapLookupElem, testMap(ebpf.CPUMap, 4, 4, 8, 0), "map_type 16 into func bpf_map_lookup_elem#1"},
		{"update devmap", asm.FnMapUpdateElem, testMap(ebpf.DevMap, 4, 4, 8, 0), "map_type 14"},
		{"lookup array of maps", asm.FnMapLookupElem, testMap(ebpf.ArrayOfMaps, 4, 4, 8, 0), ""},
		{"update hash of maps", asm.FnMapUpdateElem, testMap(ebpf.HashOfMaps, 4, 4, 8, 0), "map_type 13 into func bpf_map_update_elem#2"},
		{"ringbuf reserve", asm.FnRingbufReserve, testMap(ebpf.RingBuf, 0, 0, 1<<24, 0), ""},
		{"ringbuf output", asm.FnRingbufOutput, testMap(ebpf.RingBuf, 0, 0, 1<<24, 0), ""},
		{"ringbuf query", asm.FnRingbufQuery, testMap(ebpf.RingBuf, 0, 0, 1<<24, 0), ""},
		{"ringbuf reserve in hash", asm.FnRingbufReserve, hash, "func bpf_ringbuf_reserve#131"},
		{"lookup ringbuf", asm.FnMapLookupElem, testMap(ebpf.RingBuf, 0, 0, 1<<24, 0), "map_type 27"},
		{"sock map update", asm.FnSockMapUpdate, testMap(ebpf.SockMap, 4, 4, 8, 0), ""},
		{"sock map update into hash", asm.FnSockMapUpdate, hash, "bpf_sock_map_update#53"},
		{"update sockmap", asm.FnMapUpdateElem, testMap(ebpf.SockMap, 4, 4, 8, 0), ""},
		{"sk redirect map into sockhash", asm.FnSkRedirectMap, testMap(ebpf.SockHash, 4, 4, 8, 0), "map_type 18"},
		{"nil map", asm.FnMapLookupElem, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := helperMapCompatible(tt.id, tt.m)
			if tt.wantErr == "" {
				if got != "" {
					t.Fatalf("refused: %s", got)
				}
				return
			}
			if !strings.Contains(got, tt.wantErr) {
				t.Fatalf("got %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestSockmapUpdateAllowed(t *testing.T) {
	for typ, want := range map[program.Type]bool{
		program.SocketFilter: true, program.SchedCLS: true, program.XDP: true,
		program.Kprobe: false, program.CgroupSKB: false, program.Tracepoint: false,
	} {
		if got := sockmapUpdateAllowed(typ); got != want {
			t.Errorf("%s: %v, want %v", typ, got, want)
		}
	}
}

func TestCheckMapSpec(t *testing.T) {
	inner := testMap(ebpf.Hash, 4, 8, 1000, 0)
	withInner := func(m, in *program.MapSpec) *program.MapSpec { m.InnerMap = in; return m }
	tests := []struct {
		name    string
		m       *program.MapSpec
		wantErr string
	}{
		// Every shape the corpus declares.
		{"hash", testMap(ebpf.Hash, 4, 8, 1024, 0), ""},
		{"hash no prealloc", testMap(ebpf.Hash, 4, 8, 1024, fNoPrealloc), ""},
		{"percpu hash", testMap(ebpf.PerCPUHash, 40, 24, 1024, fNoPrealloc), ""},
		{"lru hash", testMap(ebpf.LRUHash, 4, 8, 10000, 0), ""},
		{"lru no common lru", testMap(ebpf.LRUHash, 4, 8, 10000, fNoCommonLRU), ""},
		{"lru percpu hash", testMap(ebpf.LRUCPUHash, 4, 8, 100, 0), ""},
		{"array", testMap(ebpf.Array, 4, 16, 1, 0), ""},
		{"mmapable array", testMap(ebpf.Array, 4, 16, 1, fMmapable), ""},
		{"percpu array", testMap(ebpf.PerCPUArray, 4, 592, 1, 0), ""},
		{"stack trace", testMap(ebpf.StackTrace, 4, 1016, 10000, 0), ""},
		{"perf event array", testMap(ebpf.PerfEventArray, 4, 4, 64, 0), ""},
		{"perf event array filled by loader", testMap(ebpf.PerfEventArray, 0, 0, 0, 0), ""},
		{"prog array", testMap(ebpf.ProgramArray, 4, 4, 8, 0), ""},
		{"cgroup array", testMap(ebpf.CGroupArray, 4, 4, 1, 0), ""},
		{"array of maps", withInner(testMap(ebpf.ArrayOfMaps, 4, 4, 1024, 0), inner), ""},
		{"hash of maps", withInner(testMap(ebpf.HashOfMaps, 4, 4, 1024, 0), inner), ""},
		{"lpm trie", testMap(ebpf.LPMTrie, 8, 8, 256, fNoPrealloc), ""},
		{"devmap", testMap(ebpf.DevMap, 4, 4, 64, 0), ""},
		{"devmap with prog", testMap(ebpf.DevMap, 4, 8, 64, 0), ""},
		{"devmap hash", testMap(ebpf.DevMapHash, 4, 4, 64, 0), ""},
		{"cpumap", testMap(ebpf.CPUMap, 4, 4, 12, 0), ""},
		{"xskmap", testMap(ebpf.XSKMap, 4, 4, 64, 0), ""},
		{"sockmap", testMap(ebpf.SockMap, 4, 8, 64, 0), ""},
		{"sockhash", testMap(ebpf.SockHash, 16, 4, 64, 0), ""},
		{"ringbuf", testMap(ebpf.RingBuf, 0, 0, 1<<24, 0), ""},

		// Refusals.
		{"hash key 0", testMap(ebpf.Hash, 0, 8, 1, 0), "none may be 0"},
		{"hash max_entries 0", testMap(ebpf.Hash, 4, 8, 0, 0), "max_entries 0"},
		// Linux 6.18 creates a hash of 2^27 entries (without
		// preallocation) and refuses 2^27+1 with E2BIG: its 2^28 buckets
		// of 16 bytes overflow a u32.
		{"hash of 2^27 entries", testMap(ebpf.Hash, 4, 8, 1<<27, fNoPrealloc), ""},
		{"hash of 2^27+1 entries", testMap(ebpf.Hash, 4, 8, 1<<27+1, fNoPrealloc), "buckets of 16 bytes"},
		{"hash of 2^31+1 entries", testMap(ebpf.Hash, 4, 8, 1<<31+1, fNoPrealloc), "more than 2^31"},
		{"hash of 2^32-1 entries", testMap(ebpf.Hash, 4, 8, 1<<32-1, 0), "more than 2^31"},
		{"hash key too large", testMap(ebpf.Hash, 513, 8, 1, 0), "keys larger than 512"},
		{"hash unknown flag", testMap(ebpf.Hash, 4, 8, 1, 1<<20), "flags 0x100000 not allowed"},
		{"hash no common lru", testMap(ebpf.Hash, 4, 8, 1, fNoCommonLRU), "without an LRU map"},
		{"lru no prealloc", testMap(ebpf.LRUHash, 4, 8, 1, fNoPrealloc), "does not support"},
		{"percpu hash value too large", testMap(ebpf.PerCPUHash, 4, 40000, 1, 0), "per-CPU unit"},
		{"array key 8", testMap(ebpf.Array, 8, 8, 1, 0), "key_size 8, want 4"},
		{"array value 0", testMap(ebpf.Array, 4, 0, 1, 0), "value_size 0"},
		{"percpu array mmapable", testMap(ebpf.PerCPUArray, 4, 8, 1, fMmapable), "per-CPU array"},
		{"both prog access flags", testMap(ebpf.Array, 4, 8, 1, fRdonlyProg|fWronlyProg), "together"},
		{"prog array value 8", testMap(ebpf.ProgramArray, 4, 8, 1, 0), "value_size 8, want 4"},
		{"prog array preserve elems", testMap(ebpf.ProgramArray, 4, 4, 1, fPreserveElems), "not allowed"},
		{"perf event array key 8", testMap(ebpf.PerfEventArray, 8, 4, 4, 0), "key_size 8, want 4"},
		{"stack trace odd value", testMap(ebpf.StackTrace, 4, 12, 1, 0), "multiple of 8"},
		{"stack trace too deep", testMap(ebpf.StackTrace, 4, 8*128, 1, 0), "perf_event_max_stack"},
		{"lpm needs no prealloc", testMap(ebpf.LPMTrie, 8, 8, 1, 0), "BPF_F_NO_PREALLOC"},
		{"lpm key 4", testMap(ebpf.LPMTrie, 4, 8, 1, fNoPrealloc), "key_size 4"},
		{"array of maps without inner", testMap(ebpf.ArrayOfMaps, 4, 4, 8, 0), "no inner map"},
		{"nested map of maps", withInner(testMap(ebpf.HashOfMaps, 4, 4, 8, 0),
			withInner(testMap(ebpf.ArrayOfMaps, 4, 4, 8, 0), inner)), "only one level"},
		{"bad inner map", withInner(testMap(ebpf.ArrayOfMaps, 4, 4, 8, 0), testMap(ebpf.Array, 8, 4, 1, 0)), "inner map \"m\": array key_size 8"},
		{"inner map on a hash", withInner(testMap(ebpf.Hash, 4, 4, 8, 0), inner), "has an inner map"},
		{"devmap value 12", testMap(ebpf.DevMap, 4, 12, 8, 0), "value_size 12, want 4 or 8"},
		{"cpumap too many", testMap(ebpf.CPUMap, 4, 4, 10000, 0), "NR_CPUS"},
		{"xskmap value 8", testMap(ebpf.XSKMap, 4, 8, 8, 0), "value_size 8, want 4"},
		{"sockmap key 8", testMap(ebpf.SockMap, 8, 4, 8, 0), "key_size 8, want 4"},
		{"ringbuf not a power of two", testMap(ebpf.RingBuf, 0, 0, 3*4096, 0), "power of two"},
		{"ringbuf smaller than a page", testMap(ebpf.RingBuf, 0, 0, 1024, 0), "page size"},
		{"ringbuf with key", testMap(ebpf.RingBuf, 4, 0, 4096, 0), "key_size 4"},
		{"unsupported type", testMap(ebpf.Queue, 0, 4, 8, 0), "map_type 22 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkMapSpec(tt.m)
			if tt.wantErr == "" {
				if got != "" {
					t.Fatalf("refused: %s", got)
				}
				return
			}
			if !strings.Contains(got, tt.wantErr) {
				t.Fatalf("got %q, want it to contain %q", got, tt.wantErr)
			}
		})
	}
}

// TestMapPrivilege checks the map types map_create lets only CAP_BPF
// create (Linux 6.18 answers EPERM to nobody for an LRU hash).
func TestMapPrivilege(t *testing.T) {
	prog := func(m *program.MapSpec) *program.Program {
		return &program.Program{Type: program.SocketFilter, License: "GPL", Maps: []*program.MapSpec{m},
			Insns: asm.Instructions{asm.LoadMapPtr(asm.R1, 0), asm.Mov.Imm(asm.R0, 0), asm.Return()}}
	}
	for _, tt := range []struct {
		name string
		m    *program.MapSpec
		opts *Options
		want string
	}{
		{"unprivileged hash", testMap(ebpf.Hash, 4, 8, 4, 0), &Options{Unprivileged: true}, ""},
		{"unprivileged array", testMap(ebpf.Array, 4, 8, 4, 0), &Options{Unprivileged: true}, ""},
		{"unprivileged lru hash", testMap(ebpf.LRUHash, 4, 8, 4, 0), &Options{Unprivileged: true}, "lru_hash needs CAP_BPF"},
		{"unprivileged stack trace", testMap(ebpf.StackTrace, 4, 8, 4, 0), &Options{Unprivileged: true}, "stack_trace needs CAP_BPF"},
		{"without perfmon lru hash", testMap(ebpf.LRUHash, 4, 8, 4, 0), &Options{WithoutPerfmon: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Verify(prog(tt.m), tt.opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}
