package program

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// JSONSchema is the schema string of the verifier corpus's JSON program
// descriptions (../shared/verifier-corpus/README.md).
const JSONSchema = "dropmon-verifier-case/1"

// JSONCase is what a JSON program description says about the program
// besides the program itself: who it is and what the kernel made of it.
type JSONCase struct {
	ID       string
	Name     string
	Category string
	// Privileged false means: verify as an unprivileged loader would be
	// verified (no pointer leaks, no pointer comparisons). Absent means true.
	Privileged bool
	// Expected is the kernel's verdict, "accept" or "reject".
	Expected string
}

type jsonProgram struct {
	Schema      string     `json:"schema"`
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Category    string     `json:"category"`
	ProgType    string     `json:"prog_type"`
	Privileged  *bool      `json:"privileged"`
	Expected    string     `json:"expected"`
	Maps        []jsonMap  `json:"maps"`
	InsnSlots   *int       `json:"insn_slots"`
	Insns       []jsonInsn `json:"insns"`
	BytecodeHex string     `json:"bytecode_hex"`
	License     string     `json:"license"`
}

// jsonInsn is one 8-byte slot as the description spells it out, beside
// bytecode_hex. The fields are wide so that a value out of range is reported
// as a disagreement, not as a JSON type error.
type jsonInsn struct {
	Code int64 `json:"code"`
	Dst  int64 `json:"dst"`
	Src  int64 `json:"src"`
	Off  int64 `json:"off"`
	Imm  int64 `json:"imm"`
}

func (in jsonInsn) String() string {
	return fmt.Sprintf("{code %#02x dst %d src %d off %d imm %d}", in.Code, in.Dst, in.Src, in.Off, in.Imm)
}

type jsonMap struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	TypeID     *uint32  `json:"type_id"`
	KeySize    uint32   `json:"key_size"`
	ValueSize  uint32   `json:"value_size"`
	MaxEntries uint32   `json:"max_entries"`
	Flags      uint32   `json:"flags"`
	InnerMap   *jsonMap `json:"inner_map"`
}

// FromJSON reads a dropmon-verifier-case/1 program description: the program
// type, the maps (by kernel type name or BPF_MAP_TYPE number) and the
// bytecode. When the description also spells the program out slot by slot
// ("insns"), every slot must agree with bytecode_hex. A map load's
// immediate stays the index into Maps that the description gives it, which
// MapIndex resolves. Errors are about the input (wrong schema, bad hex, a
// map index out of range) and match ErrInvalid or ErrNotSupported; whether
// the program is safe is the verifier's business. The exception is bytecode
// the decoder cannot represent (a helper number past 1<<28, an lddw cut
// short): its error is an *InsnError naming the slot, since the kernel
// would refuse that program, and callers may report it as a rejection.
func FromJSON(data []byte) (*Program, *JSONCase, error) {
	var jp jsonProgram
	if err := json.Unmarshal(data, &jp); err != nil {
		return nil, nil, invalidf("json program description: %v", err)
	}
	if jp.Schema != JSONSchema {
		return nil, nil, invalidf("json program description: schema %q, want %q", jp.Schema, JSONSchema)
	}
	c := JSONCase{
		ID:         jp.ID,
		Name:       jp.Name,
		Category:   jp.Category,
		Privileged: jp.Privileged == nil || *jp.Privileged,
		Expected:   jp.Expected,
	}
	typ, err := ParseType(jp.ProgType)
	if err != nil {
		return nil, nil, fmt.Errorf("json program description %s: %w", c.ID, err)
	}
	p := &Program{Name: c.Name, Type: typ, License: jp.License}
	if p.Name == "" {
		p.Name = c.ID
	}
	if p.License == "" {
		p.License = "GPL"
	}
	for i := range jp.Maps {
		m, err := jp.Maps[i].spec(fmt.Sprintf("map%d", i))
		if err != nil {
			return nil, nil, fmt.Errorf("json program description %s: maps[%d]: %w", c.ID, i, err)
		}
		p.Maps = append(p.Maps, m)
	}
	code, err := hex.DecodeString(strings.Join(strings.Fields(jp.BytecodeHex), ""))
	if err != nil {
		return nil, nil, invalidf("json program description %s: bytecode_hex: %v", c.ID, err)
	}
	if jp.InsnSlots != nil && *jp.InsnSlots*8 != len(code) {
		return nil, nil, invalidf("json program description %s: insn_slots is %d but bytecode_hex has %d bytes",
			c.ID, *jp.InsnSlots, len(code))
	}
	if jp.Insns != nil {
		if err := checkInsns(jp.Insns, code); err != nil {
			return nil, nil, fmt.Errorf("json program description %s: %w", c.ID, err)
		}
	}
	if p.Insns, err = FromBytes(code); err != nil {
		return nil, nil, fmt.Errorf("json program description %s: %w", c.ID, err)
	}
	if _, err := p.MapRefs(); err != nil {
		// The description is wrong, not the program: no *InsnError.
		return nil, nil, invalidf("json program description %s: %v", c.ID, err)
	}
	return p, &c, nil
}

// FromJSONFile reads a JSON program description from path (at most
// MaxJSONSize bytes) with FromJSON. Errors name path.
func FromJSONFile(path string) (*Program, *JSONCase, error) {
	data, err := readLimited(path, MaxJSONSize, "JSON")
	if err != nil {
		return nil, nil, err
	}
	p, c, err := FromJSON(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, c, nil
}

// checkInsns checks that the description's insns, when it has them, say
// what bytecode_hex says, slot for slot: two spellings of one program that
// disagree leave it unknown which one was meant.
func checkInsns(insns []jsonInsn, code []byte) error {
	slots := len(code) / asm.InstructionSize
	if len(insns) != slots || len(code)%asm.InstructionSize != 0 {
		return invalidf("insns has %d entries but bytecode_hex has %d bytes (%d slots)", len(insns), len(code), slots)
	}
	for i, want := range insns {
		b := code[i*asm.InstructionSize:]
		got := jsonInsn{
			Code: int64(b[0]),
			Dst:  int64(b[1] & 0x0f),
			Src:  int64(b[1] >> 4),
			Off:  int64(int16(binary.LittleEndian.Uint16(b[2:4]))),
			Imm:  int64(int32(binary.LittleEndian.Uint32(b[4:8]))),
		}
		if got != want {
			return invalidf("insns[%d] is %v but slot %d of bytecode_hex is %v", i, want, i, got)
		}
	}
	return nil
}

// spec turns a JSON map into a MapSpec. The type number wins over the name
// so that a type dropmon has no name for still reaches the verifier, which
// rejects it in the kernel's words.
func (jm *jsonMap) spec(name string) (*MapSpec, error) {
	m := &MapSpec{
		Name:       jm.Name,
		KeySize:    jm.KeySize,
		ValueSize:  jm.ValueSize,
		MaxEntries: jm.MaxEntries,
		Flags:      jm.Flags,
	}
	if m.Name == "" {
		m.Name = name
	}
	switch {
	case jm.TypeID != nil:
		m.Type = ebpf.MapType(*jm.TypeID)
		if t, ok := mapTypeByName(jm.Type); jm.Type != "" && ok && t != m.Type {
			return nil, invalidf("map type %q is BPF_MAP_TYPE %d, but type_id says %d", jm.Type, t, *jm.TypeID)
		}
	case jm.Type != "":
		t, ok := mapTypeByName(jm.Type)
		if !ok {
			return nil, unsupportedf("unknown map type %q (give its type_id)", jm.Type)
		}
		m.Type = t
	default:
		return nil, invalidf("map has neither type nor type_id")
	}
	if jm.InnerMap != nil {
		inner, err := jm.InnerMap.spec(m.Name + ".inner")
		if err != nil {
			return nil, fmt.Errorf("inner_map: %w", err)
		}
		m.InnerMap = inner
	}
	return m, nil
}

// mapTypeNames are the kernel's map type names without the BPF_MAP_TYPE_
// prefix, in lower case, as JSON descriptions spell them.
var mapTypeNames = map[string]ebpf.MapType{
	"hash":                  ebpf.Hash,
	"array":                 ebpf.Array,
	"prog_array":            ebpf.ProgramArray,
	"perf_event_array":      ebpf.PerfEventArray,
	"percpu_hash":           ebpf.PerCPUHash,
	"percpu_array":          ebpf.PerCPUArray,
	"stack_trace":           ebpf.StackTrace,
	"cgroup_array":          ebpf.CGroupArray,
	"lru_hash":              ebpf.LRUHash,
	"lru_percpu_hash":       ebpf.LRUCPUHash,
	"lpm_trie":              ebpf.LPMTrie,
	"array_of_maps":         ebpf.ArrayOfMaps,
	"hash_of_maps":          ebpf.HashOfMaps,
	"devmap":                ebpf.DevMap,
	"sockmap":               ebpf.SockMap,
	"cpumap":                ebpf.CPUMap,
	"xskmap":                ebpf.XSKMap,
	"sockhash":              ebpf.SockHash,
	"cgroup_storage":        ebpf.CGroupStorage,
	"reuseport_sockarray":   ebpf.ReusePortSockArray,
	"percpu_cgroup_storage": ebpf.PerCPUCGroupStorage,
	"queue":                 ebpf.Queue,
	"stack":                 ebpf.Stack,
	"sk_storage":            ebpf.SkStorage,
	"devmap_hash":           ebpf.DevMapHash,
	"struct_ops":            ebpf.StructOpsMap,
	"ringbuf":               ebpf.RingBuf,
	"inode_storage":         ebpf.InodeStorage,
	"task_storage":          ebpf.TaskStorage,
	"bloom_filter":          ebpf.BloomFilter,
	"user_ringbuf":          ebpf.UserRingbuf,
	"cgrp_storage":          ebpf.CgroupStorage,
	"arena":                 ebpf.Arena,
}

func mapTypeByName(name string) (ebpf.MapType, bool) {
	t, ok := mapTypeNames[strings.ToLower(name)]
	return t, ok
}
