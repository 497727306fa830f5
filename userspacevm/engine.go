package userspacevm

import (
	"unsafe"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// Engine loads prepared programs into runners. Every engine implements it:
// the interpreter (Interp), and the JIT. Engines load verified programs
// (verifier.Verify, then PrepareVerified) and refuse others with
// ErrNotVerified; only the interpreter runs an unverified one, when
// InterpOptions.RunUnverified says so (tests and fuzzing).
type Engine interface {
	// Name is the engine's name as flags spell it ("interp", "jit").
	Name() string
	// Load makes a runner of p. Load refuses, naming it, what the engine
	// cannot run.
	Load(p *Prepared) (Runner, error)
}

// Interp is the interpreter as an Engine.
type Interp struct {
	Options InterpOptions
}

// Name implements Engine.
func (Interp) Name() string { return "interp" }

// Load implements Engine.
func (e Interp) Load(p *Prepared) (Runner, error) {
	return NewInterpreter(p, &e.Options)
}

// runMemory builds the regions of a runner: the context (filled per run),
// the packet (filled per run for __sk_buff programs), the stack, and the value slots of each map that has values programs may
// address.
func runMemory(p *Prepared, st *stack) Memory {
	kind, writable := RegionContext, false
	if p.Program.Type == program.Conformance {
		kind, writable = RegionMemory, true
	}
	// An __sk_buff context is written by the programs that may (cb[],
	// mark, the flow keys), as the verifier allows. The packet is
	// writable for tc programs only.
	writable = writable || p.SkBuff
	pktWritable := p.Program.Type == program.SchedCLS || p.Program.Type == program.SchedACT
	regions := []Region{{Kind: kind, Writable: writable}, {Kind: RegionPacket, Writable: pktWritable}, st.region()}
	for _, m := range p.Maps {
		if r, ok := mapRegion(m); ok {
			regions = append(regions, r)
		}
	}
	return Memory{Regions: regions}
}

func mapRegion(m *maps.Map) (Region, bool) {
	if !m.HasValues() {
		return Region{}, false // stack traces, perf event arrays
	}
	spec := m.Spec()
	base, size := m.Block()
	start := uint64(uintptr(base))
	return Region{
		Kind: RegionMapValues, Name: spec.Name, Start: start, End: start + uint64(size),
		Base: base, Writable: !m.ProgramReadOnly(), Values: m,
	}, true
}

// guardMaps registers a runner's guard with the program's hash maps, so
// that entries deleted during a run keep their memory until it ends.
func guardMaps(p *Prepared) *maps.Guard {
	if !p.HasHashMaps {
		return nil
	}
	g := new(maps.Guard)
	for _, m := range p.Maps {
		m.Register(g)
	}
	return g
}

func unguardMaps(p *Prepared, g *maps.Guard) {
	if g == nil {
		return
	}
	for _, m := range p.Maps {
		m.Unregister(g)
	}
}

// ctxRegion points the context region at one run's bytes. It sets the
// three fields that change rather than the whole Region: copying a struct
// with pointers goes through the write barrier's bulk path, which cost
// more than the rest of a short run.
func ctxRegion(r *Region, ctx []byte) {
	if len(ctx) == 0 {
		r.Base, r.Start, r.End = nil, 0, 0
		return
	}
	base := unsafe.Pointer(unsafe.SliceData(ctx))
	r.Base, r.Start = base, uint64(uintptr(base))
	r.End = r.Start + uint64(len(ctx))
}

// RunMemory is the memory a runner of p over stackMem may touch, as helpers
// see it through Call.Mem: region 0 is the context (point it at each run's
// bytes with SetContext), region 1 the packet of __sk_buff programs
// (SetPacket), then the stack, then each map's values. Engines
// other than the interpreter (the JIT) build theirs with it.
func RunMemory(p *Prepared, stackMem []byte) Memory {
	return runMemory(p, &stack{mem: stackMem})
}

// SetContext points region 0 of a memory made by RunMemory at one run's
// bytes; nil forgets them.
func (m *Memory) SetContext(ctx []byte) { ctxRegion(&m.Regions[0], ctx) }

// SetPacket points region 1 of a memory made by RunMemory at one run's
// packet; nil forgets it.
func (m *Memory) SetPacket(pkt []byte) { ctxRegion(&m.Regions[1], pkt) }
