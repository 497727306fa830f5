package dropcount

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dropmon/dropmon/tracepoint"
)

// reasonPrefix is the enum's prefix in include/net/dropreason-core.h, which
// the format's table leaves out.
const reasonPrefix = "SKB_DROP_REASON_"

// ParseReasons turns drop reason names into the running kernel's numbers,
// from the format's own table (the numbers differ between kernels). Names
// are case-insensitive, with or without the SKB_DROP_REASON_ prefix; an
// unknown name is an error that lists the kernel's names.
func ParseReasons(format *tracepoint.Format, names []string) ([]uint32, error) {
	if len(names) == 0 {
		return nil, nil
	}
	table := format.Symbols["reason"]
	if _, err := format.Field("reason"); err != nil || len(table) == 0 {
		return nil, fmt.Errorf("%s:%s gives no drop reasons on this kernel (Linux 5.17+ does)", format.Group, format.Name)
	}
	byName := make(map[string]uint32, len(table))
	for v, name := range table {
		byName[strings.ToUpper(name)] = uint32(v)
	}
	var out []uint32
	for _, name := range names {
		key := strings.ToUpper(strings.TrimSpace(name))
		key = strings.TrimPrefix(key, reasonPrefix)
		v, ok := byName[key]
		if !ok {
			return nil, fmt.Errorf("unknown drop reason %q (this kernel's reasons: %s)", name, reasonNames(table))
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// reasonNames lists a reason table's names in the order of their numbers.
func reasonNames(table map[uint64]string) string {
	values := slices.Sorted(maps.Keys(table))
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = table[v]
	}
	return strings.Join(names, ", ")
}

// EtherTypes names the protocols ParseProtocol knows by name.
var EtherTypes = map[string]uint16{"ipv4": 0x0800, "arp": 0x0806, "ipv6": 0x86dd}

// ParseProtocol parses an EtherType: ipv4, ipv6, arp (any case) or a number
// (0x86dd, 2048).
func ParseProtocol(s string) (uint16, error) {
	if v, ok := EtherTypes[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil {
		return 0, fmt.Errorf("protocol %q: want ipv4, ipv6, arp or an EtherType number such as 0x86dd", s)
	}
	return uint16(v), nil
}
