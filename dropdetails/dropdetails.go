package dropdetails

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/samples"
	"github.com/dropmon/dropmon/tracepoint"
)

// Names of the object, its program and maps.
const (
	ObjectName    = "dropdetails.bpf.o"
	ProgramName   = "count_drop_details"
	FlowsMapName  = "flows"
	StatsMapName  = "flow_stats"
	ConfigMapName = "details_config"
)

// DefaultMaxFlows is the size of the flows map.
const DefaultMaxFlows = 4096

// Sizes of the program's structures.
const (
	FlowKeySize   = 64
	FlowValueSize = 40
	ConfigSize    = 96
)

// Indexes of the per-CPU flow_stats array.
const (
	statInserted = 0
	statFailed   = 1
)

// ErrNoBTF says that the running kernel has no BTF, which the program needs
// to find the members of struct sk_buff.
var ErrNoBTF = errors.New("packet details read the skb through the kernel's BTF, and this kernel has none " +
	"(/sys/kernel/btf/vmlinux is missing: a kernel built with CONFIG_DEBUG_INFO_BTF=y has it)")

// btfPath is the running kernel's BTF; tests replace it.
var btfPath = "/sys/kernel/btf/vmlinux"

// Options are the details program's settings besides its filter.
type Options struct {
	MaxEntries uint32 // locations in the count map; 0: the object's
	MaxFlows   uint32 // flows in the LRU map; 0: DefaultMaxFlows
	// Stacks keys each count by the drop's kernel call chain too, in the
	// stack map dropcount.StackMapName, as dropcount.StackProgram does
	// (dropcount.Key.StackID).
	Stacks bool
}

// configStacks is the configuration's flag for Options.Stacks.
const configStacks = 1 << 8

// Program builds the details program for the tracepoint's format on this
// kernel, its CO-RE relocations applied against the running kernel's BTF,
// with the filter and options in its configuration map.
func Program(format *tracepoint.Format, filter *Filter, opts Options) (*program.Program, error) {
	if _, err := os.Stat(btfPath); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoBTF, err)
	}
	if format.Group != "skb" || format.Name != "kfree_skb" {
		return nil, fmt.Errorf("the details program reads skb:kfree_skb records, not %s:%s", format.Group, format.Name)
	}
	obj, err := samples.Object(ObjectName)
	if err != nil {
		return nil, err
	}
	prog, err := program.FromELFBytes(obj, ObjectName, "", ProgramName, nil)
	if err != nil {
		if errors.Is(err, program.ErrNotSupported) {
			return nil, fmt.Errorf("%w: %v", ErrNoBTF, err)
		}
		return nil, err
	}
	if opts.MaxFlows == 0 {
		opts.MaxFlows = DefaultMaxFlows
	}
	config := filter.encode()
	if opts.Stacks {
		binary.NativeEndian.PutUint32(config, binary.NativeEndian.Uint32(config)|configStacks)
	}
	for _, m := range prog.Maps {
		switch m.Name {
		case dropcount.MapName:
			if opts.MaxEntries != 0 {
				m.MaxEntries = opts.MaxEntries
			}
		case FlowsMapName:
			m.MaxEntries = opts.MaxFlows
		case dropcount.StackMapName:
			if m.ValueSize != dropcount.StackDepth*8 {
				return nil, fmt.Errorf("%s: map %s has %d-byte values, want %d", ObjectName, m.Name, m.ValueSize, dropcount.StackDepth*8)
			}
			// The kernel allocates every bucket up front: one when unused.
			m.MaxEntries = 1
			if opts.Stacks {
				m.MaxEntries = dropcount.StackEntries
			}
		case ConfigMapName:
			if m.ValueSize != ConfigSize {
				return nil, fmt.Errorf("%s: map %s has %d-byte values, want %d", ObjectName, m.Name, m.ValueSize, ConfigSize)
			}
			m.Data = config
		}
	}
	return prog, nil
}

// Where the namespace inode of a flow came from.
const (
	NetnsUnknown  = 0 // no device or socket gave one
	NetnsDevice   = 1 // skb->dev
	NetnsSocket   = 2 // skb->sk
	NetnsRxSocket = 3 // the record's rx_sk (Linux 6.10+)
)

// NetnsSourceName names a NetnsFrom value for reports.
func NetnsSourceName(from uint8) string {
	switch from {
	case NetnsDevice:
		return "device"
	case NetnsSocket:
		return "socket"
	case NetnsRxSocket:
		return "rx_sk"
	}
	return "unknown"
}

// FlowKey is a key of the flows map.
type FlowKey struct {
	Location uint64
	Reason   uint32
	Netns    uint32 // inode of the network namespace; 0 when unknown
	Ifindex  uint32 // 0 when the skb had no device
	Mark     uint32
	// Src and Dst are the IP addresses (IPv4 ones unmapped); invalid when
	// the packet had no IP header the program could read.
	Src, Dst netip.Addr
	// Sport and Dport are the TCP or UDP ports; for ICMP and ICMPv6, the
	// type and the code.
	Sport, Dport uint16
	L3Proto      uint16 // EtherType (skb->protocol)
	L4Proto      uint8  // IP protocol
	NetnsFrom    uint8  // NetnsDevice, ...
}

// DecodeFlowKey decodes a key of the flows map.
func DecodeFlowKey(b []byte) (FlowKey, error) {
	if len(b) != FlowKeySize {
		return FlowKey{}, fmt.Errorf("flow key of %d bytes, want %d", len(b), FlowKeySize)
	}
	ne := binary.NativeEndian
	k := FlowKey{
		Location: ne.Uint64(b[0:]), Reason: ne.Uint32(b[8:]), Netns: ne.Uint32(b[12:]),
		Ifindex: ne.Uint32(b[16:]), Mark: ne.Uint32(b[20:]),
		Sport: ne.Uint16(b[56:]), Dport: ne.Uint16(b[58:]), L3Proto: ne.Uint16(b[60:]),
		L4Proto: b[62], NetnsFrom: b[63],
	}
	if k.L3Proto == 0x0800 || k.L3Proto == 0x86dd {
		src, dst := netip.AddrFrom16([16]byte(b[24:40])), netip.AddrFrom16([16]byte(b[40:56]))
		if k.L3Proto == 0x0800 {
			src, dst = src.Unmap(), dst.Unmap()
		}
		if hasIP(b) {
			k.Src, k.Dst = src, dst
		}
	}
	return k, nil
}

// hasIP reports whether the program read an IP header into the key: an
// IPv4 key's addresses are IPv4-mapped, an IPv6 one has a protocol or
// addresses.
func hasIP(b []byte) bool {
	if binary.NativeEndian.Uint16(b[60:]) == 0x0800 {
		return b[34] == 0xff && b[35] == 0xff
	}
	return b[62] != 0 || !bytes.Equal(b[24:56], make([]byte, 32))
}

// FlowValue is a value of the flows map.
type FlowValue struct {
	Packets uint64
	Bytes   uint64 // sum of skb->len
	Len     uint32 // the last packet's skb->len
	Ifname  string // the device's name at the last drop
}

// DecodeFlowValue decodes a value of the flows map.
func DecodeFlowValue(b []byte) (FlowValue, error) {
	if len(b) != FlowValueSize {
		return FlowValue{}, fmt.Errorf("flow value of %d bytes, want %d", len(b), FlowValueSize)
	}
	ne := binary.NativeEndian
	name := b[24:40]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return FlowValue{Packets: ne.Uint64(b[0:]), Bytes: ne.Uint64(b[8:]), Len: ne.Uint32(b[16:]), Ifname: string(name)}, nil
}

// Stats are the flows map's bookkeeping, summed over CPUs.
type Stats struct {
	Inserted uint64 // flows the program added
	Failed   uint64 // drops whose flow could not be stored (counted by location all the same)
}

// Evicted is how many flows the LRU map dropped to make room: inserted
// minus present.
func (s Stats) Evicted(present int) uint64 {
	if s.Inserted < uint64(present) {
		return 0
	}
	return s.Inserted - uint64(present)
}

// DecodeStats sums the per-CPU values of the stats map: values[i] holds
// index i's value for every CPU.
func DecodeStats(values [2][]uint64) Stats {
	var s Stats
	for _, v := range values[statInserted] {
		s.Inserted += v
	}
	for _, v := range values[statFailed] {
		s.Failed += v
	}
	return s
}
