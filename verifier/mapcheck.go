package verifier

import (
	"fmt"
	"math"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// helperMapCompatible reports, as the kernel's check_map_func_compatibility
// does, whether helper id may take map m ("" when it may), e.g. "cannot
// pass map_type 1 into func bpf_tail_call#12". The check runs both ways:
// special maps take only their own helpers (a prog_array only
// bpf_tail_call), and helpers that need a special map take only that kind
// (bpf_tail_call only a prog_array). Whether a sockmap or sockhash may be
// updated also depends on the program type: see sockmapUpdateAllowed.
func helperMapCompatible(id asm.BuiltinFunc, m *program.MapSpec) string {
	if m == nil {
		return ""
	}
	if mapTakes(m.Type, id) && helperTakes(id, m.Type) {
		return ""
	}
	return fmt.Sprintf("cannot pass map_type %d into func %s#%d", uint32(m.Type), program.HelperName(id), int32(id))
}

// mapTakes is the first half of check_map_func_compatibility: the helpers
// a map of type t may be passed to. Plain maps (hash, array, their per-CPU
// and LRU variants, lpm_trie) take any helper that takes a map.
func mapTakes(t program.MapType, id asm.BuiltinFunc) bool {
	switch t {
	case ebpf.ProgramArray:
		return id == asm.FnTailCall
	case ebpf.PerfEventArray:
		return helperIn(id, asm.FnPerfEventRead, asm.FnPerfEventOutput, asm.FnSkbOutput,
			asm.FnPerfEventReadValue, asm.FnXdpOutput)
	case ebpf.RingBuf:
		return helperIn(id, asm.FnRingbufOutput, asm.FnRingbufReserve, asm.FnRingbufQuery,
			asm.FnRingbufReserveDynptr, asm.FnRingbufSubmitDynptr, asm.FnRingbufDiscardDynptr)
	case ebpf.StackTrace:
		return id == asm.FnGetStackid
	case ebpf.CGroupArray:
		return helperIn(id, asm.FnSkbUnderCgroup, asm.FnCurrentTaskUnderCgroup)
	case ebpf.DevMap, ebpf.DevMapHash, ebpf.XSKMap:
		return helperIn(id, asm.FnRedirectMap, asm.FnMapLookupElem)
	case ebpf.CPUMap:
		// "Restrict bpf side of cpumap and xskmap, open when use-cases
		// appear": no lookups into a cpumap.
		return id == asm.FnRedirectMap
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		// Programs only look inner maps up; user space fills the outer map.
		return id == asm.FnMapLookupElem
	case ebpf.SockMap:
		return helperIn(id, asm.FnSkRedirectMap, asm.FnSockMapUpdate, asm.FnMsgRedirectMap,
			asm.FnSkSelectReuseport, asm.FnMapLookupElem, asm.FnMapUpdateElem, asm.FnMapDeleteElem)
	case ebpf.SockHash:
		return helperIn(id, asm.FnSkRedirectHash, asm.FnSockHashUpdate, asm.FnMsgRedirectHash,
			asm.FnSkSelectReuseport, asm.FnMapLookupElem, asm.FnMapUpdateElem, asm.FnMapDeleteElem)
	}
	return true
}

// helperTakes is the second half: the map types a helper that needs a
// special map accepts.
func helperTakes(id asm.BuiltinFunc, t program.MapType) bool {
	switch id {
	case asm.FnTailCall:
		return t == ebpf.ProgramArray
	case asm.FnPerfEventRead, asm.FnPerfEventOutput, asm.FnPerfEventReadValue,
		asm.FnSkbOutput, asm.FnXdpOutput:
		return t == ebpf.PerfEventArray
	case asm.FnRingbufOutput, asm.FnRingbufReserve, asm.FnRingbufQuery,
		asm.FnRingbufReserveDynptr, asm.FnRingbufSubmitDynptr, asm.FnRingbufDiscardDynptr:
		return t == ebpf.RingBuf
	case asm.FnGetStackid:
		return t == ebpf.StackTrace
	case asm.FnCurrentTaskUnderCgroup, asm.FnSkbUnderCgroup:
		return t == ebpf.CGroupArray
	case asm.FnRedirectMap:
		return t == ebpf.DevMap || t == ebpf.DevMapHash || t == ebpf.CPUMap || t == ebpf.XSKMap
	case asm.FnSkRedirectMap, asm.FnMsgRedirectMap, asm.FnSockMapUpdate:
		return t == ebpf.SockMap
	case asm.FnSkRedirectHash, asm.FnMsgRedirectHash, asm.FnSockHashUpdate:
		return t == ebpf.SockHash
	case asm.FnMapPopElem:
		return t == ebpf.Queue || t == ebpf.Stack
	case asm.FnMapPeekElem, asm.FnMapPushElem:
		return t == ebpf.Queue || t == ebpf.Stack || t == ebpf.BloomFilter
	case asm.FnMapLookupPercpuElem:
		return t == ebpf.PerCPUArray || t == ebpf.PerCPUHash || t == ebpf.LRUCPUHash
	}
	return true
}

// sockmapUpdateAllowed is the kernel's may_update_sockmap for the program
// types dropmon loads: bpf_map_update_elem and bpf_map_delete_elem on a
// sockmap or sockhash need a program that cannot hold a locked socket.
// The kernel logs "cannot update sockmap in this context" otherwise.
func sockmapUpdateAllowed(t program.Type) bool {
	switch t {
	case program.SocketFilter, program.SchedCLS, program.SchedACT, program.XDP:
		return true
	}
	return false
}

func helperIn(id asm.BuiltinFunc, ids ...asm.BuiltinFunc) bool {
	for _, x := range ids {
		if id == x {
			return true
		}
	}
	return false
}

// Map flags (BPF_F_* in union bpf_attr's map_flags).
const (
	fNoPrealloc    = 1 << 0
	fNoCommonLRU   = 1 << 1
	fNumaNode      = 1 << 2
	fRdonly        = 1 << 3
	fWronly        = 1 << 4
	fStackBuildID  = 1 << 5
	fZeroSeed      = 1 << 6
	fRdonlyProg    = 1 << 7
	fWronlyProg    = 1 << 8
	fMmapable      = 1 << 10
	fPreserveElems = 1 << 11
	fInnerMap      = 1 << 12

	fAccessMask = fRdonly | fWronly | fRdonlyProg | fWronlyProg
)

// Kernel limits map specs are checked against (x86-64, default sysctls).
const (
	kmallocMaxSize  = 4 << 20  // KMALLOC_MAX_SIZE
	pcpuMinUnitSize = 32 << 10 // PCPU_MIN_UNIT_SIZE: the largest per-CPU value
	perfMaxStack    = 127      // kernel.perf_event_max_stack
	buildIDSize     = 32       // sizeof(struct bpf_stack_build_id)
	nrCPUs          = 8192     // NR_CPUS
	pageSize        = 4096
	lpmKeySizeMin   = 4 + 1   // sizeof(struct bpf_lpm_trie_key_u8) + 1 byte of data
	lpmKeySizeMax   = 4 + 256 // prefix length + LPM_DATA_SIZE_MAX
	htabElemSize    = 48      // sizeof(struct htab_elem), roughly
	htabBucketSize  = 16      // sizeof(struct bucket)
)

var mapTypeNames = map[program.MapType]string{
	ebpf.Hash: "hash", ebpf.Array: "array", ebpf.ProgramArray: "prog_array",
	ebpf.PerfEventArray: "perf_event_array", ebpf.PerCPUHash: "percpu_hash",
	ebpf.PerCPUArray: "percpu_array", ebpf.StackTrace: "stack_trace",
	ebpf.CGroupArray: "cgroup_array", ebpf.LRUHash: "lru_hash",
	ebpf.LRUCPUHash: "lru_percpu_hash", ebpf.LPMTrie: "lpm_trie",
	ebpf.ArrayOfMaps: "array_of_maps", ebpf.HashOfMaps: "hash_of_maps",
	ebpf.DevMap: "devmap", ebpf.SockMap: "sockmap", ebpf.CPUMap: "cpumap",
	ebpf.XSKMap: "xskmap", ebpf.SockHash: "sockhash", ebpf.DevMapHash: "devmap_hash",
	ebpf.RingBuf: "ringbuf",
}

// checkMapSpec validates a map spec as the kernel's map_alloc_check
// functions would (key and value sizes per type, max_entries, flags). It
// returns "" or what is wrong, naming the map and the kernel function whose
// rule it breaks: the kernel itself only answers EINVAL or E2BIG.
func checkMapSpec(m *program.MapSpec) string {
	name, ok := mapTypeNames[m.Type]
	if !ok {
		return fmt.Sprintf("map %q: map_type %d is not supported", m.Name, uint32(m.Type))
	}
	if m.InnerMap != nil && m.Type != ebpf.ArrayOfMaps && m.Type != ebpf.HashOfMaps {
		return fmt.Sprintf("map %q: %s map has an inner map", m.Name, name)
	}
	if m.Flags&fRdonlyProg != 0 && m.Flags&fWronlyProg != 0 {
		return fmt.Sprintf("map %q: BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together (bpf_map_flags_access_ok)", m.Name)
	}
	if msg := checkMapType(m); msg != "" {
		return fmt.Sprintf("map %q: %s %s", m.Name, name, msg)
	}
	return ""
}

func checkMapType(m *program.MapSpec) string {
	switch m.Type {
	case ebpf.Hash, ebpf.PerCPUHash, ebpf.LRUHash, ebpf.LRUCPUHash:
		return checkHash(m)
	case ebpf.Array, ebpf.PerCPUArray:
		return checkArray(m, fNumaNode|fMmapable|fAccessMask|fInnerMap)
	case ebpf.ProgramArray, ebpf.PerfEventArray, ebpf.CGroupArray:
		return checkFdArray(m)
	case ebpf.StackTrace:
		return checkStackTrace(m)
	case ebpf.LPMTrie:
		return checkLPMTrie(m)
	case ebpf.ArrayOfMaps, ebpf.HashOfMaps:
		return checkMapInMap(m)
	case ebpf.DevMap, ebpf.DevMapHash:
		// struct bpf_devmap_val: ifindex, optionally a program fd.
		return checkRedirectMap(m, fNumaNode|fAccessMask, 4, 8)
	case ebpf.CPUMap:
		// struct bpf_cpumap_val: qsize, optionally a program fd.
		if msg := checkRedirectMap(m, fNumaNode, 4, 8); msg != "" {
			return msg
		}
		if m.MaxEntries > nrCPUs {
			return fmt.Sprintf("max_entries %d is more than NR_CPUS (%d) (cpu_map_alloc: E2BIG)", m.MaxEntries, nrCPUs)
		}
	case ebpf.XSKMap:
		return checkRedirectMap(m, fNumaNode|fRdonly|fWronly, 4, 4)
	case ebpf.SockMap, ebpf.SockHash:
		return checkSockMap(m)
	case ebpf.RingBuf:
		return checkRingbuf(m)
	}
	return ""
}

func badFlags(flags, allowed uint32, fn string) string {
	if bad := flags &^ allowed; bad != 0 {
		return fmt.Sprintf("flags %#x not allowed (%s: EINVAL)", bad, fn)
	}
	return ""
}

// checkHash follows htab_map_alloc_check.
func checkHash(m *program.MapSpec) string {
	const fn = "htab_map_alloc_check"
	lru := m.Type == ebpf.LRUHash || m.Type == ebpf.LRUCPUHash
	percpu := m.Type == ebpf.PerCPUHash || m.Type == ebpf.LRUCPUHash
	if msg := badFlags(m.Flags, fNoPrealloc|fNoCommonLRU|fNumaNode|fAccessMask|fZeroSeed, fn); msg != "" {
		return msg
	}
	switch {
	case !lru && m.Flags&fNoCommonLRU != 0:
		return "BPF_F_NO_COMMON_LRU without an LRU map (" + fn + ": EINVAL)"
	case lru && m.Flags&fNoPrealloc != 0:
		return "BPF_F_NO_PREALLOC: the LRU implementation does not support it (" + fn + ": ENOTSUPP)"
	case m.Flags&fNumaNode != 0 && (percpu || m.Flags&fNoCommonLRU != 0):
		return "BPF_F_NUMA_NODE on a per-CPU map (" + fn + ": EINVAL)"
	case m.MaxEntries == 0 || m.KeySize == 0 || m.ValueSize == 0:
		return fmt.Sprintf("max_entries %d, key_size %d, value_size %d: none may be 0 (%s: EINVAL)",
			m.MaxEntries, m.KeySize, m.ValueSize, fn)
	case m.KeySize > maxBPFStack:
		return fmt.Sprintf("key_size %d: programs cannot handle keys larger than %d (%s: E2BIG)", m.KeySize, maxBPFStack, fn)
	case m.MaxEntries > 1<<31:
		return fmt.Sprintf("max_entries %d is more than 2^31 (htab_map_alloc: E2BIG)", m.MaxEntries)
	case nextPow2(m.MaxEntries) > math.MaxUint32/htabBucketSize:
		// The bucket array's size must fit in a u32.
		return fmt.Sprintf("max_entries %d needs %d buckets of %d bytes, more than 4 GiB (htab_map_alloc: E2BIG)",
			m.MaxEntries, nextPow2(m.MaxEntries), htabBucketSize)
	case uint64(m.KeySize)+uint64(m.ValueSize) >= kmallocMaxSize-htabElemSize:
		return fmt.Sprintf("key_size %d + value_size %d is too large (%s: E2BIG)", m.KeySize, m.ValueSize, fn)
	case percpu && roundUp8(m.ValueSize) > pcpuMinUnitSize:
		return fmt.Sprintf("value_size %d is more than a per-CPU unit (%d) (%s: E2BIG)", m.ValueSize, pcpuMinUnitSize, fn)
	}
	return ""
}

// checkArray follows array_map_alloc_check.
func checkArray(m *program.MapSpec, allowed uint32) string {
	const fn = "array_map_alloc_check"
	percpu := m.Type == ebpf.PerCPUArray
	if msg := badFlags(m.Flags, allowed, fn); msg != "" {
		return msg
	}
	switch {
	case m.MaxEntries == 0:
		return "max_entries 0 (" + fn + ": EINVAL)"
	case m.KeySize != 4:
		return fmt.Sprintf("key_size %d, want 4 (%s: EINVAL)", m.KeySize, fn)
	case m.ValueSize == 0:
		return "value_size 0 (" + fn + ": EINVAL)"
	case percpu && m.Flags&(fNumaNode|fMmapable) != 0:
		return "BPF_F_NUMA_NODE or BPF_F_MMAPABLE on a per-CPU array (" + fn + ": EINVAL)"
	case m.ValueSize > kmallocMaxSize:
		return fmt.Sprintf("value_size %d is more than KMALLOC_MAX_SIZE (%s: E2BIG)", m.ValueSize, fn)
	case percpu && roundUp8(m.ValueSize) > pcpuMinUnitSize:
		return fmt.Sprintf("value_size %d is more than a per-CPU unit (%d) (%s: E2BIG)", m.ValueSize, pcpuMinUnitSize, fn)
	}
	return ""
}

// checkFdArray follows fd_array_map_alloc_check: arrays of file
// descriptors (programs, perf events, cgroups) hold u32 values. A perf
// event array declared with key_size, value_size and max_entries 0 is
// accepted: cilium/ebpf fills in 4, 4 and the number of possible CPUs
// when it creates the map, as libbpf does.
func checkFdArray(m *program.MapSpec) string {
	const fn = "fd_array_map_alloc_check"
	if m.Type == ebpf.PerfEventArray {
		c := *m
		if c.KeySize == 0 {
			c.KeySize = 4
		}
		if c.ValueSize == 0 {
			c.ValueSize = 4
		}
		if c.MaxEntries == 0 {
			c.MaxEntries = 1
		}
		m = &c
	}
	if m.ValueSize != 4 {
		return fmt.Sprintf("value_size %d, want 4 (%s: EINVAL)", m.ValueSize, fn)
	}
	if m.Flags&(fRdonlyProg|fWronlyProg) != 0 {
		return "BPF_F_RDONLY_PROG or BPF_F_WRONLY_PROG on a file descriptor array (" + fn + ": EINVAL)"
	}
	allowed := uint32(fNumaNode | fAccessMask | fInnerMap)
	if m.Type == ebpf.PerfEventArray {
		allowed |= fPreserveElems
	}
	return checkArray(m, allowed)
}

// checkStackTrace follows stack_map_alloc.
func checkStackTrace(m *program.MapSpec) string {
	const fn = "stack_map_alloc"
	if msg := badFlags(m.Flags, fNumaNode|fAccessMask|fStackBuildID, fn); msg != "" {
		return msg
	}
	frame := uint32(8)
	if m.Flags&fStackBuildID != 0 {
		frame = buildIDSize
	}
	switch {
	case m.MaxEntries == 0 || m.KeySize != 4:
		return fmt.Sprintf("max_entries %d, key_size %d: want max_entries > 0 and key_size 4 (%s: EINVAL)", m.MaxEntries, m.KeySize, fn)
	case m.ValueSize < frame || m.ValueSize%frame != 0:
		return fmt.Sprintf("value_size %d is not a positive multiple of %d (%s: EINVAL)", m.ValueSize, frame, fn)
	case m.ValueSize/frame > perfMaxStack:
		return fmt.Sprintf("value_size %d holds more than kernel.perf_event_max_stack (%d) frames (%s: EINVAL)", m.ValueSize, perfMaxStack, fn)
	}
	return ""
}

// checkLPMTrie follows trie_alloc.
func checkLPMTrie(m *program.MapSpec) string {
	const fn = "trie_alloc"
	if msg := badFlags(m.Flags, fNoPrealloc|fNumaNode|fAccessMask, fn); msg != "" {
		return msg
	}
	switch {
	case m.Flags&fNoPrealloc == 0:
		return "needs BPF_F_NO_PREALLOC (" + fn + ": EINVAL)"
	case m.MaxEntries == 0:
		return "max_entries 0 (" + fn + ": EINVAL)"
	case m.KeySize < lpmKeySizeMin || m.KeySize > lpmKeySizeMax:
		return fmt.Sprintf("key_size %d, want %d to %d: a u32 prefix length and 1 to 256 bytes of data (%s: EINVAL)",
			m.KeySize, lpmKeySizeMin, lpmKeySizeMax, fn)
	case m.ValueSize == 0 || m.ValueSize > kmallocMaxSize-lpmKeySizeMax:
		return fmt.Sprintf("value_size %d out of range (%s: EINVAL)", m.ValueSize, fn)
	}
	return ""
}

// checkMapInMap follows bpf_map_meta_alloc and the outer map's own check:
// the outer map holds u32 map fds; the inner map, the template every
// element must match, must be given and not itself a map of maps.
func checkMapInMap(m *program.MapSpec) string {
	if m.InnerMap == nil {
		return "has no inner map (inner_map_fd is required: EBADF)"
	}
	if in := m.InnerMap.Type; in == ebpf.ArrayOfMaps || in == ebpf.HashOfMaps {
		return "has a map of maps as inner map: only one level is supported (bpf_map_meta_alloc: EINVAL)"
	}
	if msg := checkMapSpec(m.InnerMap); msg != "" {
		return "inner " + msg
	}
	if m.ValueSize != 4 {
		return fmt.Sprintf("value_size %d, want 4: a map fd (EINVAL)", m.ValueSize)
	}
	outer := *m
	outer.InnerMap = nil
	if m.Type == ebpf.ArrayOfMaps {
		outer.Type = ebpf.Array
		return checkArray(&outer, fNumaNode|fAccessMask)
	}
	outer.Type = ebpf.Hash
	return checkHash(&outer)
}

// checkRedirectMap follows dev_map_init_map, cpu_map_alloc and
// xsk_map_alloc_check: u32 keys (a device index, a CPU, a queue) and one of
// the value sizes given.
func checkRedirectMap(m *program.MapSpec, allowed, valueSize, valueSizeWithProg uint32) string {
	if msg := badFlags(m.Flags, allowed, "map_alloc_check"); msg != "" {
		return msg
	}
	switch {
	case m.MaxEntries == 0:
		return "max_entries 0 (EINVAL)"
	case m.KeySize != 4:
		return fmt.Sprintf("key_size %d, want 4 (EINVAL)", m.KeySize)
	case m.ValueSize != valueSize && m.ValueSize != valueSizeWithProg:
		if valueSize == valueSizeWithProg {
			return fmt.Sprintf("value_size %d, want %d (EINVAL)", m.ValueSize, valueSize)
		}
		return fmt.Sprintf("value_size %d, want %d or %d (EINVAL)", m.ValueSize, valueSize, valueSizeWithProg)
	}
	return ""
}

// checkSockMap follows sock_map_alloc and sock_hash_alloc: socket fds or
// cookies as u32 or u64 values.
func checkSockMap(m *program.MapSpec) string {
	if msg := badFlags(m.Flags, fNumaNode|fRdonly|fWronly, "sock_map_alloc"); msg != "" {
		return msg
	}
	switch {
	case m.MaxEntries == 0:
		return "max_entries 0 (EINVAL)"
	case m.Type == ebpf.SockMap && m.KeySize != 4:
		return fmt.Sprintf("key_size %d, want 4 (EINVAL)", m.KeySize)
	case m.KeySize == 0:
		return "key_size 0 (EINVAL)"
	case m.KeySize > maxBPFStack:
		return fmt.Sprintf("key_size %d is more than %d (E2BIG)", m.KeySize, maxBPFStack)
	case m.ValueSize != 4 && m.ValueSize != 8:
		return fmt.Sprintf("value_size %d, want 4 or 8 (EINVAL)", m.ValueSize)
	}
	return ""
}

// checkRingbuf follows ringbuf_map_alloc: no keys or values, and a data
// area whose size is a power of two and a multiple of the page size.
func checkRingbuf(m *program.MapSpec) string {
	const fn = "ringbuf_map_alloc"
	if msg := badFlags(m.Flags, fNumaNode, fn); msg != "" {
		return msg
	}
	switch {
	case m.KeySize != 0 || m.ValueSize != 0:
		return fmt.Sprintf("key_size %d and value_size %d, want 0 and 0 (%s: EINVAL)", m.KeySize, m.ValueSize, fn)
	case m.MaxEntries == 0 || m.MaxEntries&(m.MaxEntries-1) != 0 || m.MaxEntries%pageSize != 0:
		return fmt.Sprintf("max_entries %d is not a power of two multiple of the page size %d (%s: EINVAL)",
			m.MaxEntries, pageSize, fn)
	}
	return ""
}

func roundUp8(n uint32) uint64 { return (uint64(n) + 7) &^ 7 }

// nextPow2 is roundup_pow_of_two, in 64 bits.
func nextPow2(n uint32) uint64 {
	p := uint64(1)
	for p < uint64(n) {
		p <<= 1
	}
	return p
}
