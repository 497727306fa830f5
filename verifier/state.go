package verifier

import (
	"fmt"
	"strings"

	"github.com/dropmon/dropmon/program"
)

// regState is what the verifier knows about one register or spilled
// stack slot (the kernel's struct bpf_reg_state).
type regState struct {
	typ RegType
	// frameno is, for PtrToStack, the frame whose stack it points into.
	frameno uint8
	// off is a pointer's fixed offset; the numeric facts below are its
	// variable offset (for scalars: the value).
	off int32
	// id links copies: of an _or_null pointer (one null check settles
	// all), of a packet pointer (one range check covers all), of a
	// scalar (one branch refines all).
	id uint32
	// rng is, for packet pointers, how many bytes past the pointer's
	// variable base are proven inside the packet.
	rng int32
	// m is the map, for ConstPtrToMap and map value pointers (an inner
	// map's spec after a map-in-map lookup).
	m *program.MapSpec
	// size is the region size of PtrToMem and map values (value_size).
	size uint32

	tn             tnum
	smin, smax     int64
	umin, umax     uint64
	s32min, s32max int32 // the low half's ranges, as JMP32 and ALU32 see it
	u32min, u32max uint32
}

// Byte kinds of stack slots (the kernel's STACK_INVALID, STACK_MISC,
// STACK_ZERO, STACK_SPILL).
const (
	stackInvalid uint8 = iota
	stackMisc
	stackZero
	stackSpill
)

// stackSlot is 8 bytes of stack: slot i holds fp-8(i+1) .. fp-8i-1. A
// slot is either a whole spilled register or bytes of their own kind.
type stackSlot struct {
	spill regState
	kind  [8]uint8
}

func (s *stackSlot) spilled() bool { return s.kind[0] == stackSpill }

// spillWidth is how many low bytes of the slot hold the spilled register:
// 8, or fewer for a narrow spill of a scalar.
func (s *stackSlot) spillWidth() int {
	n := 0
	for n < 8 && s.kind[n] == stackSpill {
		n++
	}
	return n
}

// funcState is one call frame.
type funcState struct {
	regs     [11]regState
	stack    []stackSlot
	callsite int // the caller's call instruction, -1 for the main frame
	subprog  int
	frameno  int
}

func (f *funcState) clone() *funcState {
	c := *f
	c.stack = append([]stackSlot(nil), f.stack...)
	return &c
}

// vstate is one path's state: the frames from main to the current one.
type vstate struct {
	frames []*funcState
	// speculative marks a path the CPU may take only by misprediction
	// (see pushSpeculative): its errors end it instead of the
	// verification.
	speculative bool
	parent      *checkpoint // the latest checkpoint on this path
	// refs are the references the path holds (ring buffer records from
	// bpf_ringbuf_reserve): each must be submitted or discarded.
	refs []reference
}

// reference is an acquired object: the id its pointers share and the
// instruction that acquired it.
type reference struct {
	id    uint32 // what the log calls it (the kernel's ref_obj_id)
	regID uint32 // the id of the pointers to the object
	insn  int
}

// release drops the reference id; false if the path does not hold it.
func (s *vstate) release(id uint32) bool {
	for i, r := range s.refs {
		if r.regID == id {
			s.refs = append(s.refs[:i:i], s.refs[i+1:]...)
			return true
		}
	}
	return false
}

func (s *vstate) cur() *funcState { return s.frames[len(s.frames)-1] }

func (s *vstate) clone() *vstate {
	c := &vstate{frames: make([]*funcState, len(s.frames)), parent: s.parent, speculative: s.speculative,
		refs: append([]reference(nil), s.refs...)}
	for i, f := range s.frames {
		c.frames[i] = f.clone()
	}
	return c
}

// forEachReg visits every register and spilled register of every frame,
// for the updates that follow ids (null checks, packet ranges, linked
// scalars).
func (s *vstate) forEachReg(fn func(r *regState)) {
	for _, f := range s.frames {
		for i := range f.regs {
			fn(&f.regs[i])
		}
		for i := range f.stack {
			if f.stack[i].spilled() {
				fn(&f.stack[i].spill)
			}
		}
	}
}

// String prints a register the way the kernel's log does, roughly:
// "map_value(off=0,ks=4,vs=8)", "scalar(umax=255)", "42".
func (r *regState) String() string {
	switch r.typ {
	case NotInit:
		return "?"
	case Scalar:
		if r.isConst() {
			return fmt.Sprintf("%d", int64(r.tn.v))
		}
		return "scalar(" + r.boundsString() + ")"
	}
	var b strings.Builder
	b.WriteString(r.typ.String())
	fmt.Fprintf(&b, "(id=%d,off=%d", r.id, r.off)
	switch r.typ {
	case PtrToPacket, PtrToPacketMeta:
		fmt.Fprintf(&b, ",r=%d", r.rng)
	case PtrToMapValue, PtrToMapValueOrNull, PtrToMem, PtrToMemOrNull:
		fmt.Fprintf(&b, ",vs=%d", r.size)
	}
	if !(r.tn.isConst() && r.tn.v == 0) {
		b.WriteString("," + r.boundsString())
	}
	b.WriteString(")")
	return b.String()
}

func (r *regState) boundsString() string {
	var parts []string
	if r.smin != -1<<63 {
		parts = append(parts, fmt.Sprintf("smin=%d", r.smin))
	}
	if r.smax != 1<<63-1 {
		parts = append(parts, fmt.Sprintf("smax=%d", r.smax))
	}
	if r.umin != 0 {
		parts = append(parts, fmt.Sprintf("umin=%d", r.umin))
	}
	if r.umax != ^uint64(0) {
		parts = append(parts, fmt.Sprintf("umax=%d", r.umax))
	}
	if r.s32min != -1<<31 && int64(r.s32min) != r.smin {
		parts = append(parts, fmt.Sprintf("s32_min=%d", r.s32min))
	}
	if r.s32max != 1<<31-1 && int64(r.s32max) != r.smax {
		parts = append(parts, fmt.Sprintf("s32_max=%d", r.s32max))
	}
	if r.u32min != 0 && uint64(r.u32min) != r.umin {
		parts = append(parts, fmt.Sprintf("u32_min=%d", r.u32min))
	}
	if r.u32max != 1<<32-1 && uint64(r.u32max) != r.umax {
		parts = append(parts, fmt.Sprintf("u32_max=%d", r.u32max))
	}
	if !r.tn.isConst() && r.tn != tnumUnknown {
		parts = append(parts, "var_off="+r.tn.String())
	}
	return strings.Join(parts, ",")
}

// stateString prints the current frame's initialised registers and stack.
func (s *vstate) String() string {
	f := s.cur()
	var b strings.Builder
	for i := range f.regs {
		if f.regs[i].typ == NotInit {
			continue
		}
		fmt.Fprintf(&b, " R%d=%s", i, f.regs[i].String())
	}
	for i := range f.stack {
		sl := &f.stack[i]
		switch {
		case sl.spilled():
			fmt.Fprintf(&b, " fp-%d=%s", 8*(i+1), sl.spill.String())
		case sl.kind != [8]uint8{}:
			fmt.Fprintf(&b, " fp-%d=%s", 8*(i+1), slotKinds(sl))
		}
	}
	if len(s.frames) > 1 {
		fmt.Fprintf(&b, " (frame %d)", len(s.frames)-1)
	}
	return b.String()
}

func slotKinds(sl *stackSlot) string {
	const letters = "?mz"
	b := make([]byte, 8)
	for j := 0; j < 8; j++ {
		k := sl.kind[7-j] // highest address first, as the kernel prints
		if int(k) < len(letters) {
			b[j] = letters[k]
		} else {
			b[j] = 's'
		}
	}
	return string(b)
}
