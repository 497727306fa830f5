package program

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/cilium/ebpf/asm"
)

// ArgType is what a helper argument must hold, after the kernel's enum
// bpf_arg_type (include/linux/bpf.h). A base kind may carry flag bits.
type ArgType uint16

const (
	ArgNone            ArgType = iota // ARG_DONTCARE: the helper takes fewer arguments
	ArgConstMapPtr                    // ARG_CONST_MAP_PTR: a map loaded with a map-fd pseudo load
	ArgPtrToMapKey                    // ARG_PTR_TO_MAP_KEY: key_size initialised bytes
	ArgPtrToMapValue                  // ARG_PTR_TO_MAP_VALUE: value_size initialised bytes
	ArgPtrToMem                       // ARG_PTR_TO_MEM: initialised memory, size in the next argument
	ArgPtrToUninitMem                 // ARG_PTR_TO_UNINIT_MEM: memory the helper fills
	ArgConstSize                      // ARG_CONST_SIZE: the size of the previous argument, > 0
	ArgConstSizeOrZero                // ARG_CONST_SIZE_OR_ZERO: the same, may be 0
	ArgPtrToCtx                       // ARG_PTR_TO_CTX: the program's context, unmodified
	ArgAnything                       // ARG_ANYTHING: any initialised value
	// ArgConstAllocSizeOrZero (ARG_CONST_ALLOC_SIZE_OR_ZERO): a constant
	// size, possibly 0, of memory the helper allocates; the pointer the
	// helper returns (RetPtrToMemOrNull) has that size. bpf_ringbuf_reserve's
	// second argument.
	ArgConstAllocSizeOrZero
	// ArgPtrToAllocMem: memory a RetPtrToMemOrNull helper returned, passed
	// back unmodified (offset 0) to be released, once, on every path. The
	// kernel's ARG_PTR_TO_ALLOC_MEM, today ARG_PTR_TO_MEM | MEM_RINGBUF |
	// OBJ_RELEASE: bpf_ringbuf_submit's and bpf_ringbuf_discard's first
	// argument.
	ArgPtrToAllocMem

	// ArgReadOnly (the kernel's MEM_RDONLY) marks memory the helper only
	// reads, so read-only memory such as a tracepoint record may be passed.
	ArgReadOnly ArgType = 1 << 8
	// ArgMaybeNull (PTR_MAYBE_NULL) also accepts a NULL pointer.
	ArgMaybeNull ArgType = 1 << 9

	argFlags = ArgReadOnly | ArgMaybeNull
)

var argNames = [...]string{
	ArgNone:            "ARG_DONTCARE",
	ArgConstMapPtr:     "ARG_CONST_MAP_PTR",
	ArgPtrToMapKey:     "ARG_PTR_TO_MAP_KEY",
	ArgPtrToMapValue:   "ARG_PTR_TO_MAP_VALUE",
	ArgPtrToMem:        "ARG_PTR_TO_MEM",
	ArgPtrToUninitMem:  "ARG_PTR_TO_UNINIT_MEM",
	ArgConstSize:       "ARG_CONST_SIZE",
	ArgConstSizeOrZero: "ARG_CONST_SIZE_OR_ZERO",
	ArgPtrToCtx:        "ARG_PTR_TO_CTX",
	ArgAnything:        "ARG_ANYTHING",

	ArgConstAllocSizeOrZero: "ARG_CONST_ALLOC_SIZE_OR_ZERO",
	ArgPtrToAllocMem:        "ARG_PTR_TO_ALLOC_MEM",
}

// Base returns the kind without flags.
func (a ArgType) Base() ArgType { return a &^ argFlags }

func (a ArgType) String() string {
	var s string
	if b := a.Base(); int(b) < len(argNames) {
		s = argNames[b]
	} else {
		s = fmt.Sprintf("ArgType(%d)", uint16(b))
	}
	if a&ArgReadOnly != 0 {
		s += "|MEM_RDONLY"
	}
	if a&ArgMaybeNull != 0 {
		s += "|PTR_MAYBE_NULL"
	}
	return s
}

// RetType is what a helper returns in R0, after enum bpf_return_type.
type RetType uint8

const (
	RetInteger             RetType = iota // RET_INTEGER: a scalar
	RetVoid                               // RET_VOID: nothing; R0 is not readable
	RetPtrToMapValue                      // RET_PTR_TO_MAP_VALUE
	RetPtrToMapValueOrNull                // RET_PTR_TO_MAP_VALUE_OR_NULL: test before use
	RetPtrToMemOrNull                     // RET_PTR_TO_MEM_OR_NULL (ring buffer reservations)
)

func (r RetType) String() string {
	switch r {
	case RetInteger:
		return "RET_INTEGER"
	case RetVoid:
		return "RET_VOID"
	case RetPtrToMapValue:
		return "RET_PTR_TO_MAP_VALUE"
	case RetPtrToMapValueOrNull:
		return "RET_PTR_TO_MAP_VALUE_OR_NULL"
	case RetPtrToMemOrNull:
		return "RET_PTR_TO_MEM_OR_NULL"
	}
	return fmt.Sprintf("RetType(%d)", uint8(r))
}

// HelperProto is a helper's prototype, after the kernel's struct
// bpf_func_proto: what it takes, what it returns, and which program types
// may call it.
type HelperProto struct {
	Func    asm.BuiltinFunc
	Ret     RetType
	Args    [5]ArgType
	GPLOnly bool   // callable only from programs with a GPL-compatible licence
	Types   []Type // program types that may call it
	// Priv is the capability the loader needs beyond loading the program
	// type at all, as bpf_base_func_proto tiers its helpers.
	Priv Privilege
}

// Privilege is a capability tier of bpf_base_func_proto
// (kernel/bpf/helpers.c): helpers every program may call, those that need
// CAP_BPF, and those that need CAP_PERFMON. Tracing program types need
// CAP_PERFMON to be loaded at all, so for them the tier changes nothing.
type Privilege uint8

const (
	PrivNone    Privilege = iota // any loader, unprivileged included
	PrivBPF                      // bpf_capable(): CAP_BPF (bpf_jiffies64, ...)
	PrivPerfmon                  // perfmon_capable(): CAP_PERFMON (trace_printk, probe_read_kernel, ...)
)

func (p Privilege) String() string {
	switch p {
	case PrivNone:
		return "none"
	case PrivBPF:
		return "CAP_BPF"
	case PrivPerfmon:
		return "CAP_PERFMON"
	}
	return fmt.Sprintf("Privilege(%d)", uint8(p))
}

// Name returns the helper's kernel name ("bpf_map_lookup_elem").
func (p *HelperProto) Name() string { return HelperName(p.Func) }

// Allows reports whether a program of type t may call the helper.
func (p *HelperProto) Allows(t Type) bool {
	for _, u := range p.Types {
		if u == t {
			return true
		}
	}
	return false
}

// NumArgs returns how many arguments the helper takes.
func (p *HelperProto) NumArgs() int {
	n := 0
	for n < len(p.Args) && p.Args[n] != ArgNone {
		n++
	}
	return n
}

// Helper returns the prototype of helper id, if dropmon knows it.
func Helper(id asm.BuiltinFunc) (*HelperProto, bool) {
	p, ok := helperProtos[id]
	return p, ok
}

// HelperName returns the kernel's name of helper id ("bpf_map_lookup_elem"),
// or "" for a number the kernel does not define (as far as cilium/ebpf's
// list goes).
func HelperName(id asm.BuiltinFunc) string {
	return helperNames()[id]
}

// DescribeHelper names a helper for messages: "helper 1
// (bpf_map_lookup_elem)", or "helper 999 (unknown)".
func DescribeHelper(id asm.BuiltinFunc) string {
	name := HelperName(id)
	if name == "" {
		name = "unknown"
	}
	return fmt.Sprintf("helper %d (%s)", uint32(id), name)
}

// helperNames derives the kernel names from cilium/ebpf's constants
// (FnGetSmpProcessorId -> bpf_get_smp_processor_id), whose list follows the
// kernel's uapi bpf.h; the conversion is regular for every one of them.
var helperNames = sync.OnceValue(func() map[asm.BuiltinFunc]string {
	names := make(map[asm.BuiltinFunc]string)
	for id := asm.BuiltinFunc(1); ; id++ {
		s := id.String()
		if !strings.HasPrefix(s, "Fn") {
			return names // stringer's "BuiltinFunc(N)": past the end of the list
		}
		names[id] = "bpf_" + snake(strings.TrimPrefix(s, "Fn"))
	}
})

// snake turns CamelCase into snake_case, keeping digits with the word
// before them (L3CsumReplace -> l3_csum_replace, Tcp6Sock -> tcp6_sock).
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
