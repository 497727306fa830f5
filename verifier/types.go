package verifier

import "fmt"

// RegType is what a register holds, after the kernel's enum bpf_reg_type.
// The verifier's state keeps one per register and per spilled stack slot.
type RegType uint8

const (
	NotInit               RegType = iota // NOT_INIT: never written, may not be read
	Scalar                               // SCALAR_VALUE: a number (tnum and bounds)
	PtrToCtx                             // PTR_TO_CTX: the program's context
	ConstPtrToMap                        // CONST_PTR_TO_MAP: a map, for helper arguments
	PtrToMapValue                        // PTR_TO_MAP_VALUE: inside a map value
	PtrToMapValueOrNull                  // PTR_TO_MAP_VALUE | PTR_MAYBE_NULL: test against 0 first
	PtrToMapKey                          // PTR_TO_MAP_KEY (bpf_for_each_map_elem callbacks)
	PtrToStack                           // PTR_TO_STACK: the frame pointer plus an offset
	PtrToPacket                          // PTR_TO_PACKET: skb->data / xdp->data plus an offset
	PtrToPacketMeta                      // PTR_TO_PACKET_META: xdp->data_meta
	PtrToPacketEnd                       // PTR_TO_PACKET_END: skb->data_end / xdp->data_end
	PtrToMem                             // PTR_TO_MEM: memory of a known size (ring buffer records)
	PtrToMemOrNull                       // PTR_TO_MEM | PTR_MAYBE_NULL
	ConstPtrToMapOrNull                  // a map from a map-in-map lookup, test against 0 first
	PtrToSocket                          // PTR_TO_SOCKET (bpf_sk_lookup_*), not dereferenced by our corpus
	PtrToSocketOrNull                    // PTR_TO_SOCKET | PTR_MAYBE_NULL
	PtrToFlowKeys                        // PTR_TO_FLOW_KEYS (flow dissector's __sk_buff->flow_keys)
	PtrToSockCommon                      // PTR_TO_SOCK_COMMON (__sk_buff->sk)
	PtrToSockCommonOrNull                // PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL
)

var regTypeNames = [...]string{
	NotInit:               "?",
	Scalar:                "scalar",
	PtrToCtx:              "ctx",
	ConstPtrToMap:         "map_ptr",
	PtrToMapValue:         "map_value",
	PtrToMapValueOrNull:   "map_value_or_null",
	PtrToMapKey:           "map_key",
	PtrToStack:            "fp",
	PtrToPacket:           "pkt",
	PtrToPacketMeta:       "pkt_meta",
	PtrToPacketEnd:        "pkt_end",
	PtrToMem:              "mem",
	PtrToMemOrNull:        "mem_or_null",
	ConstPtrToMapOrNull:   "map_ptr_or_null",
	PtrToSocket:           "sock",
	PtrToSocketOrNull:     "sock_or_null",
	PtrToFlowKeys:         "flow_keys",
	PtrToSockCommon:       "sock_common",
	PtrToSockCommonOrNull: "sock_common_or_null",
}

// String returns the kernel log's spelling ("scalar", "map_value_or_null",
// "fp", "pkt_end"), so messages read like the kernel's
// ("R1 invalid mem access 'scalar'").
func (t RegType) String() string {
	if int(t) < len(regTypeNames) && regTypeNames[t] != "" {
		return regTypeNames[t]
	}
	return fmt.Sprintf("RegType(%d)", uint8(t))
}

// IsPointer reports whether the type is any kind of pointer.
func (t RegType) IsPointer() bool { return t != NotInit && t != Scalar }

// OrNull reports whether the pointer may be NULL and must be tested first.
func (t RegType) OrNull() bool {
	switch t {
	case PtrToMapValueOrNull, PtrToMemOrNull, ConstPtrToMapOrNull, PtrToSocketOrNull, PtrToSockCommonOrNull:
		return true
	}
	return false
}

// NotNull is the type an _or_null pointer becomes on the branch where a
// test proved it is not NULL.
func (t RegType) NotNull() RegType {
	switch t {
	case PtrToMapValueOrNull:
		return PtrToMapValue
	case PtrToMemOrNull:
		return PtrToMem
	case ConstPtrToMapOrNull:
		return ConstPtrToMap
	case PtrToSocketOrNull:
		return PtrToSocket
	case PtrToSockCommonOrNull:
		return PtrToSockCommon
	}
	return t
}

// CtxAccess is what reading or writing a context field gives: whether the
// access is allowed, the type the loaded register gets (Scalar for plain
// fields, PtrToPacket for __sk_buff.data, ...), and when refused, the
// kernel's reason.
type CtxAccess struct {
	OK     bool
	Result RegType
	// Reason for a refusal, in the kernel's words where it has them, e.g.
	// "invalid bpf_context access off=76 size=4".
	Reason string
}
