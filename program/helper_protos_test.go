package program

import (
	"testing"

	"github.com/cilium/ebpf/asm"
)

// TestHelperProtosConsistent checks the table the way the kernel's
// check_func_proto does (check_raw_mode_ok, check_arg_pair_ok): sizes
// follow the memory they size, arguments leave no gaps, and every entry is
// filed under its own number with a kernel name.
func TestHelperProtosConsistent(t *testing.T) {
	known := make(map[Type]bool)
	for typ := range typeNames {
		known[typ] = true
	}
	for id, p := range helperProtos {
		name := HelperName(id)
		if name == "" {
			t.Errorf("helper %d has no kernel name", id)
		}
		if p.Func != id {
			t.Errorf("%s filed under %d has Func %d", name, id, p.Func)
		}
		if p.Name() != name {
			t.Errorf("%s: Name() = %q", name, p.Name())
		}
		uninit := 0
		for i, a := range p.Args {
			prev := ArgNone
			if i > 0 {
				prev = p.Args[i-1]
			}
			switch a.Base() {
			case ArgConstSize, ArgConstSizeOrZero:
				if b := prev.Base(); b != ArgPtrToMem && b != ArgPtrToUninitMem {
					t.Errorf("%s arg %d: %s follows %s, not memory", name, i+1, a, prev)
				}
			case ArgConstAllocSizeOrZero:
				if prev.Base() != ArgConstMapPtr {
					t.Errorf("%s arg %d: %s should follow the ring buffer map", name, i+1, a)
				}
			case ArgPtrToMem, ArgPtrToUninitMem:
				if i == len(p.Args)-1 || !isSize(p.Args[i+1]) {
					t.Errorf("%s arg %d: %s is not followed by its size", name, i+1, a)
				}
				if a.Base() == ArgPtrToUninitMem {
					uninit++
				}
			case ArgPtrToMapKey, ArgPtrToMapValue:
				if p.Args[0] != ArgConstMapPtr && (i == 0 || p.Args[1] != ArgConstMapPtr) {
					t.Errorf("%s arg %d: %s without a map argument", name, i+1, a)
				}
			case ArgNone:
				if a != ArgNone {
					t.Errorf("%s arg %d: flags on ARG_DONTCARE", name, i+1)
				}
				for j := i + 1; j < len(p.Args); j++ {
					if p.Args[j] != ArgNone {
						t.Errorf("%s: arg %d after an empty arg %d", name, j+1, i+1)
					}
				}
			}
			if int(a.Base()) >= len(argNames) {
				t.Errorf("%s arg %d: unknown kind %s", name, i+1, a)
			}
		}
		if uninit > 1 {
			t.Errorf("%s: more than one ARG_PTR_TO_UNINIT_MEM (check_raw_mode_ok)", name)
		}
		if (p.Ret == RetPtrToMemOrNull) != hasArg(p, ArgConstAllocSizeOrZero) {
			t.Errorf("%s: %s needs an ARG_CONST_ALLOC_SIZE_OR_ZERO to size it", name, p.Ret)
		}
		for _, typ := range p.Types {
			if !known[typ] {
				t.Errorf("%s: unknown program type %d", name, typ)
			}
		}
	}
}

func isSize(a ArgType) bool {
	b := a.Base()
	return b == ArgConstSize || b == ArgConstSizeOrZero
}

func hasArg(p *HelperProto, kind ArgType) bool {
	for _, a := range p.Args {
		if a.Base() == kind {
			return true
		}
	}
	return false
}

// TestHelperProtosCorpus checks that every helper the verifier corpus's
// accepted programs call is known and allowed for their program type, and
// that the ones the kernel refuses are refused.
func TestHelperProtosCorpus(t *testing.T) {
	tests := []struct {
		typ     Type
		helpers []asm.BuiltinFunc
	}{
		{Kprobe, []asm.BuiltinFunc{1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 15, 16, 22, 25, 27, 37, 55, 113, 131, 132}},
		{Tracepoint, []asm.BuiltinFunc{1, 2, 3, 4, 5, 14, 16, 27}},
		{PerfEvent, []asm.BuiltinFunc{1, 2, 6, 8, 16, 27, 56}},
		{SocketFilter, []asm.BuiltinFunc{1, 2, 5, 8, 12, 26, 46, 47, 68}},
		{SchedCLS, []asm.BuiltinFunc{1, 6, 9, 10, 11, 13, 18, 21, 23, 33}},
		{CgroupSKB, []asm.BuiltinFunc{1, 2, 14, 26}},
		{XDP, []asm.BuiltinFunc{1, 5, 6, 7, 12, 23, 25, 28, 44, 51, 54, 65, 69}},
	}
	for _, tt := range tests {
		for _, id := range tt.helpers {
			p, ok := Helper(id)
			if !ok {
				t.Errorf("%s: %s unknown", tt.typ, DescribeHelper(id))
				continue
			}
			if !p.Allows(tt.typ) {
				t.Errorf("%s: %s refused", tt.typ, DescribeHelper(id))
			}
		}
	}
	refused := []struct {
		typ Type
		id  asm.BuiltinFunc
	}{
		{XDP, asm.FnSockMapUpdate},      // PREVAIL's wronghelper.o
		{SocketFilter, asm.FnRedirect},  // tc and XDP only
		{SocketFilter, asm.FnProbeRead}, // bpf_tracing_func_proto only
		{XDP, asm.FnSkbLoadBytes},
		{Kprobe, asm.FnXdpAdjustHead},
		{SchedCLS, asm.FnRedirectMap},
		{Tracepoint, asm.FnPerfProgReadValue},
		{Tracepoint, asm.FnOverrideReturn},
		{CgroupSKB, asm.FnSkbStoreBytes},
	}
	for _, r := range refused {
		if p, ok := Helper(r.id); ok && p.Allows(r.typ) {
			t.Errorf("%s: %s allowed", r.typ, DescribeHelper(r.id))
		}
	}
}

// TestHelperProtosStable pins the prototypes the interpreter and the
// drop counter rely on.
func TestHelperProtosStable(t *testing.T) {
	tests := []struct {
		id   asm.BuiltinFunc
		ret  RetType
		args []ArgType
		gpl  bool
	}{
		{asm.FnMapLookupElem, RetPtrToMapValueOrNull, []ArgType{ArgConstMapPtr, ArgPtrToMapKey}, false},
		{asm.FnMapUpdateElem, RetInteger, []ArgType{ArgConstMapPtr, ArgPtrToMapKey, ArgPtrToMapValue, ArgAnything}, false},
		{asm.FnMapDeleteElem, RetInteger, []ArgType{ArgConstMapPtr, ArgPtrToMapKey}, false},
		{asm.FnKtimeGetNs, RetInteger, nil, false},
		{asm.FnTracePrintk, RetInteger, []ArgType{memRO, ArgConstSize}, true},
		{asm.FnGetPrandomU32, RetInteger, nil, false},
		{asm.FnGetSmpProcessorId, RetInteger, nil, false},
		{asm.FnGetCurrentPidTgid, RetInteger, nil, false},
		{asm.FnPerfEventOutput, RetInteger, []ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything, memRO, ArgConstSizeOrZero}, true},
		{asm.FnGetStackid, RetInteger, []ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything}, true},
		{asm.FnTailCall, RetVoid, []ArgType{ArgPtrToCtx, ArgConstMapPtr, ArgAnything}, false},
		{asm.FnRingbufReserve, RetPtrToMemOrNull, []ArgType{ArgConstMapPtr, ArgConstAllocSizeOrZero, ArgAnything}, false},
		{asm.FnRingbufSubmit, RetVoid, []ArgType{ArgPtrToAllocMem, ArgAnything}, false},
	}
	for _, tt := range tests {
		p, ok := Helper(tt.id)
		if !ok {
			t.Errorf("%s unknown", DescribeHelper(tt.id))
			continue
		}
		var want [5]ArgType
		copy(want[:], tt.args)
		if p.Ret != tt.ret || p.Args != want || p.GPLOnly != tt.gpl {
			t.Errorf("%s: got %s %v gpl=%v, want %s %v gpl=%v", p.Name(), p.Ret, p.Args, p.GPLOnly, tt.ret, want, tt.gpl)
		}
	}
	if s := ArgPtrToAllocMem.String(); s != "ARG_PTR_TO_ALLOC_MEM" {
		t.Errorf("ArgPtrToAllocMem.String() = %q", s)
	}
	if p, _ := Helper(asm.FnTracePrintk); p.Priv != PrivPerfmon {
		t.Errorf("bpf_trace_printk needs CAP_PERFMON, got %s", p.Priv)
	}
}
