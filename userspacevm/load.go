package userspacevm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/skbuff"
	"github.com/dropmon/dropmon/userspacevm/maps"
	"github.com/dropmon/dropmon/verifier"
)

// LoadOptions tune Prepare. The zero value (or nil) creates the program's
// maps and uses DefaultHelpers.
type LoadOptions struct {
	// Maps, when not nil, are the maps to use instead of creating them,
	// by index into Program.Maps, so that several programs and runners
	// share them. Each must match its spec. The Prepared program does not
	// close them.
	Maps []*maps.Map
	// MapOptions go to maps.New for the maps Prepare creates.
	MapOptions *maps.Options
	// Helpers is the table helper calls are bound to; nil means
	// DefaultHelpers().
	Helpers Helpers
}

// Prepared is a program made ready for any engine: decoded, its maps bound,
// its map loads resolved to addresses and its helper calls to
// implementations. It is read-only once made, so any number of runners, of
// any engine, may share it. Close it after its runners.
type Prepared struct {
	Program *program.Program
	// Insns is the decoded program with every map pseudo load rewritten to
	// an LdDW of the address it stands for; MapRefs says where they were.
	Insns   []program.Insn
	MapRefs []program.MapRef
	// Maps are the program's maps, by index into Program.Maps.
	Maps []*maps.Map
	// HasHashMaps says runners must bracket runs with a maps.Guard.
	HasHashMaps bool
	// verified is the verifier's result when the program came through
	// PrepareVerified; nil for Prepare. Engines run only verified programs
	// unless told otherwise for tests.
	verified *verifier.Verified
	// MinContext is how many bytes a run's context must have: what the
	// verifier proved the program reads (CheckContext), skbuff.Size for
	// programs whose context is an __sk_buff.
	MinContext int
	// SkBuff says the program's context is a struct __sk_buff (socket
	// filter, tc, cgroup_skb, flow dissector): runs take an skbuff.Context
	// and the packet in RunContext.Packet, and the engines fill the
	// context's pointer words for each run (SetSkbPointers).
	SkBuff bool

	helpers []HelperFunc // by helper number; nil where the program makes no call
	ownMaps bool
}

// Prepare decodes and validates prog, binds its maps and resolves its map
// loads and helper calls. Errors name the instruction ("insn 7: helper 158
// (bpf_get_current_task_btf) is not implemented by the user-space
// engines") and match ErrInvalid or ErrNotSupported.
func Prepare(prog *program.Program, opts *LoadOptions) (*Prepared, error) {
	if prog == nil {
		return nil, fmt.Errorf("load program: nil program: %w", ErrInvalid)
	}
	insns, err := program.Decode(prog.Insns)
	if err != nil {
		return nil, fmt.Errorf("load program %s: %w", progName(prog), err)
	}
	return prepare(prog, insns, opts)
}

// prepare binds the maps and resolves map loads and helper calls of prog,
// decoded as insns.
func prepare(prog *program.Program, insns []program.Insn, opts *LoadOptions) (_ *Prepared, err error) {
	if opts == nil {
		opts = &LoadOptions{}
	}
	p := &Prepared{Program: prog, Insns: insns, SkBuff: skbTypes[prog.Type]}
	if p.SkBuff {
		p.MinContext = skbuff.Size
	}
	if err := p.bindMaps(opts); err != nil {
		return nil, fmt.Errorf("load program %s: %w", progName(prog), err)
	}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if err := p.resolveMapLoads(); err != nil {
		return nil, fmt.Errorf("load program %s: %w", progName(prog), err)
	}
	if err := p.resolveCalls(opts.Helpers); err != nil {
		return nil, fmt.Errorf("load program %s: %w", progName(prog), err)
	}
	return p, nil
}

// PrepareVerified is Prepare for a program the verifier accepted: what
// engines run. It takes the verifier's own copy of the program and its
// decoded instructions, so what runs is exactly what was proven, whatever
// the caller does to its program. Verify first with the program's context
// size (for a tracepoint, the record size of its format).
func PrepareVerified(v *verifier.Verified, opts *LoadOptions) (*Prepared, error) {
	if v == nil || v.Program() == nil {
		return nil, fmt.Errorf("load verified program: %w: nothing verified", ErrInvalid)
	}
	prog := v.Program()
	if err := checkContext(v, prog); err != nil {
		return nil, err
	}
	insns := v.Insns()
	if skbTypes[prog.Type] {
		convertCtxPointers(v, insns)
	}
	p, err := prepare(prog, insns, opts)
	if err != nil {
		return nil, err
	}
	p.verified = v
	switch {
	case p.SkBuff:
	case prog.Type == program.Conformance:
		p.MinContext = v.ContextSize()
	default:
		p.MinContext = v.MaxCtxOffset()
	}
	return p, nil
}

// skbTypes are the program types whose context is a struct __sk_buff.
var skbTypes = map[program.Type]bool{
	program.SocketFilter: true, program.SchedCLS: true, program.SchedACT: true,
	program.CgroupSKB: true, program.FlowDissector: true,
}

// convertCtxPointers rewrites the loads of __sk_buff's data, data_end and
// data_meta, u32 fields in the uapi struct, into 64-bit loads of the
// pointers the engines keep beside it (skbuff.PtrData, ...), as the kernel
// rewrites them into loads from its own sk_buff (convert_ctx_accesses).
// The verifier names those loads (Verified.CtxPointer); it refuses a
// load through a modified context pointer, so the instruction's offset is
// the field's. flow_keys and sk are 64-bit in the uapi struct already:
// the engines write the pointers there.
func convertCtxPointers(v *verifier.Verified, insns []program.Insn) {
	for pc := range insns {
		t, ok := v.CtxPointer(pc)
		if !ok {
			continue
		}
		var off int32
		switch t {
		case verifier.PtrToPacket:
			off = skbuff.PtrData
		case verifier.PtrToPacketEnd:
			off = skbuff.PtrDataEnd
		case verifier.PtrToPacketMeta:
			off = skbuff.PtrDataMeta
		default:
			continue
		}
		insns[pc].Op = program.LdxDW
		insns[pc].Off = off
	}
}

// SetSkbPointers writes into ctx, an skbuff.Context's bytes, the pointers
// a run over pkt reads: data and data_meta at pkt's first byte, data_end
// past its last, flow_keys at the context's own flow keys, sk NULL. Both
// engines call it before each run of an __sk_buff program; a context
// shorter than skbuff.Size is left alone (the run refuses it).
func SetSkbPointers(ctx, pkt []byte) {
	if len(ctx) < skbuff.Size {
		return
	}
	var data uint64
	if len(pkt) > 0 {
		data = uint64(uintptr(unsafe.Pointer(unsafe.SliceData(pkt))))
	}
	le := binary.LittleEndian
	le.PutUint64(ctx[skbuff.PtrData:], data)
	le.PutUint64(ctx[skbuff.PtrDataEnd:], data+uint64(len(pkt)))
	le.PutUint64(ctx[skbuff.PtrDataMeta:], data)
	le.PutUint64(ctx[skbuff.OffFlowKeys:], uint64(uintptr(unsafe.Pointer(&ctx[skbuff.FlowKeysOffset]))))
	le.PutUint64(ctx[skbuff.OffSk:], 0)
}

// Verified returns the verifier's result for a program that came through
// PrepareVerified, nil for one from Prepare.
func (p *Prepared) Verified() *verifier.Verified { return p.verified }

// CheckContext refuses a run over fewer bytes than the program was verified
// to read: engines that trust the verifier (the JIT) read without checks.
func (p *Prepared) CheckContext(ctx []byte) error {
	if len(ctx) < p.MinContext && p.SkBuff {
		return fmt.Errorf("run %s: context of %d bytes: a %s program runs over an skbuff.Context (%d bytes) with its packet in RunContext.Packet: %w",
			progName(p.Program), len(ctx), p.Program.Type, p.MinContext, ErrShortContext)
	}
	if len(ctx) < p.MinContext {
		return fmt.Errorf("run %s: context of %d bytes, but the program was verified to read %d: %w",
			progName(p.Program), len(ctx), p.MinContext, ErrShortContext)
	}
	return nil
}

// checkContext refuses programs whose context the engines do not build.
// Run hands a program the bytes it is given, read-only: a tracepoint record,
// pt_regs, perf event data, the conformance type's memory, or a packet for
// socket programs that read it with LD_ABS/LD_IND. Socket, tc and XDP
// programs that read or write struct __sk_buff or xdp_md fields directly
// would run over bytes that are not what the verifier proved.
func checkContext(v *verifier.Verified, prog *program.Program) error {
	switch prog.Type {
	case program.Tracepoint, program.Kprobe, program.PerfEvent, program.RawTracepoint, program.Conformance:
		return nil
	case program.SocketFilter, program.SchedCLS, program.SchedACT, program.CgroupSKB, program.FlowDissector:
		return nil // an skbuff.Context
	}
	return fmt.Errorf("load program %s: %s programs need their context (xdp_md), which the user-space engines do not build: %w",
		progName(prog), prog.Type, ErrNotSupported)
}

func progName(prog *program.Program) string {
	if prog.Name == "" {
		return "(unnamed)"
	}
	return prog.Name
}

// bindMaps creates the program's maps, or checks the caller's against the
// specs.
func (p *Prepared) bindMaps(opts *LoadOptions) error {
	specs := p.Program.Maps
	if opts.Maps != nil {
		if len(opts.Maps) != len(specs) {
			return fmt.Errorf("%d maps given for %d map specs: %w", len(opts.Maps), len(specs), ErrInvalid)
		}
		for i, m := range opts.Maps {
			if err := specMatches(specs[i], m); err != nil {
				return fmt.Errorf("map %d (%s): %w", i, specs[i].Name, err)
			}
		}
		p.Maps = opts.Maps
	} else {
		p.ownMaps = true
		for i, spec := range specs {
			m, err := maps.New(spec, opts.MapOptions)
			if err != nil {
				p.Close()
				return fmt.Errorf("map %d: %w", i, withMapKinds(err))
			}
			p.Maps = append(p.Maps, m)
		}
	}
	for _, m := range p.Maps {
		p.HasHashMaps = p.HasHashMaps || m.NeedsGuard()
	}
	return nil
}

// specMatches checks a caller's map against the program's spec, as the
// kernel checks a reused map's attributes.
func specMatches(want *program.MapSpec, m *maps.Map) error {
	if m == nil || want == nil {
		return fmt.Errorf("nil map or spec: %w", ErrInvalid)
	}
	if got := m.Spec(); !m.Matches(want) {
		return fmt.Errorf("map is %v key %d value %d entries %d flags %#x, program wants %v key %d value %d entries %d flags %#x: %w",
			got.Type, got.KeySize, got.ValueSize, got.MaxEntries, got.Flags,
			want.Type, want.KeySize, want.ValueSize, want.MaxEntries, want.Flags, ErrInvalid)
	}
	return nil
}

// resolveMapLoads rewrites each map pseudo load into an LdDW of the map's
// address (BPF_PSEUDO_MAP_FD) or of an array value's address plus the
// load's offset (BPF_PSEUDO_MAP_VALUE, array maps only, as in the kernel's
// map_direct_value_addr).
func (p *Prepared) resolveMapLoads() error {
	refs, err := p.Program.MapRefs()
	if err != nil {
		return err
	}
	p.MapRefs = refs
	for _, ref := range refs {
		m := p.Maps[ref.Map]
		in := &p.Insns[ref.Slot]
		addr := m.Pointer()
		if ref.Value {
			if addr, err = valueAddr(m, ref.Offset); err != nil {
				return &program.InsnError{Insn: ref.Slot, Err: err}
			}
		}
		*in = program.Insn{Op: program.LdDW, Dst: in.Dst, Imm: int64(addr)}
	}
	return nil
}

func valueAddr(m *maps.Map, off uint32) (uint64, error) {
	spec := m.Spec()
	if !m.DirectValue() {
		return 0, notSupportedf("direct value access (BPF_PSEUDO_MAP_VALUE) to map %q of type %v: only array maps have it", spec.Name, spec.Type)
	}
	if off >= spec.ValueSize {
		return 0, fmt.Errorf("invalid access to map value pointer: offset %d, value_size %d: %w", off, spec.ValueSize, ErrInvalid)
	}
	var key [4]byte
	base := m.LookupAddr(key[:], 0)
	if base == 0 {
		return 0, fmt.Errorf("map %q has no element 0: %w", spec.Name, ErrInvalid)
	}
	return base + uint64(off), nil
}

// resolveCalls binds helper calls to the table's implementations and checks
// that the program type may use the legacy packet loads.
func (p *Prepared) resolveCalls(table Helpers) error {
	if table == nil {
		table = DefaultHelpers()
	}
	for pc := range p.Insns {
		in := &p.Insns[pc]
		switch {
		case in.Op == program.CallHelper:
			if err := p.bindHelper(table, asm.BuiltinFunc(in.Imm)); err != nil {
				return &program.InsnError{Insn: pc, Err: err}
			}
		case in.Op.IsPacketLoad() && !packetTypes[p.Program.Type]:
			return &program.InsnError{Insn: pc, Err: fmt.Errorf(
				"%s (BPF_LD_ABS/BPF_LD_IND) is not allowed in %s programs: %w", in.Op, p.Program.Type, ErrInvalid)}
		}
	}
	return nil
}

// packetTypes may use LD_ABS and LD_IND (the kernel's may_access_skb), and
// the Conformance type over its memory.
var packetTypes = map[program.Type]bool{
	program.SocketFilter: true, program.SchedCLS: true, program.SchedACT: true, program.Conformance: true,
}

func (p *Prepared) bindHelper(table Helpers, id asm.BuiltinFunc) error {
	fn := table[id]
	if fn == nil {
		return notSupportedf("%s is not implemented by the user-space engines", program.DescribeHelper(id))
	}
	if int(id) >= len(p.helpers) {
		p.helpers = append(p.helpers, make([]HelperFunc, int(id)+1-len(p.helpers))...)
	}
	p.helpers[id] = fn
	return nil
}

// HelperFunc returns the implementation a helper call of the program is
// bound to, or nil.
func (p *Prepared) HelperFunc(id asm.BuiltinFunc) HelperFunc {
	if int(id) < len(p.helpers) {
		return p.helpers[id]
	}
	return nil
}

// MapAt implements MapResolver over the program's maps.
func (p *Prepared) MapAt(ptr uint64) (*maps.Map, bool) {
	for _, m := range p.Maps {
		if m.Pointer() == ptr {
			return m, true
		}
	}
	return nil, false
}

// Close closes the maps Prepare created (not those the caller passed in).
// Runners must be closed first.
func (p *Prepared) Close() error {
	if !p.ownMaps {
		return nil
	}
	var errs []error
	for _, m := range p.Maps {
		errs = append(errs, m.Close())
	}
	p.Maps = nil
	return errors.Join(errs...)
}
