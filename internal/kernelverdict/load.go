package kernelverdict

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/dropmon/dropmon/program"
)

// request is a program as it travels to a child: raw instructions whose
// map loads carry the index of their map in Maps, so that the loader can
// create the maps and give the loads their file descriptors.
type request struct {
	Type     uint32
	Maps     []wireMap
	Insns    []byte
	LogLevel uint32
}

type wireMap struct {
	Type, KeySize, ValueSize, MaxEntries, Flags uint32
	Inner                                       *wireMap
}

// response is what the loader answers. Err, when set, is a failure that is
// not a verdict (a map the kernel would not create).
type response struct {
	Verdict Verdict
	Log     string
	Err     string
}

// noMap is the index written into map loads that name no map of the
// program: as a file descriptor it is -1, which the kernel rejects.
const noMap = 0xffff_ffff

// byteOrder is the host's, in the form cilium's asm package switches on.
var byteOrder binary.ByteOrder = func() binary.ByteOrder {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()

// encode turns p into a request. Symbolic jumps and calls are resolved by
// cilium's Marshal; map loads by name or by index both become indices.
func encode(p *program.Program, level ebpf.LogLevel) (*request, error) {
	insns := make(asm.Instructions, len(p.Insns))
	copy(insns, p.Insns)
	for i := range insns {
		fixAtomic(&insns[i])
		if !insns[i].IsLoadFromMap() {
			continue
		}
		idx := int64(noMap)
		if m, err := p.MapIndex(i); err == nil {
			idx = int64(m)
		}
		insns[i].Constant = insns[i].Constant&^0xffff_ffff | idx
	}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, byteOrder); err != nil {
		return nil, fmt.Errorf("encode program: %w", err)
	}
	req := &request{Type: uint32(p.Type), Insns: buf.Bytes(), LogLevel: uint32(level)}
	if p.Type == program.Unspec {
		req.Type = uint32(program.SocketFilter)
	}
	for _, ms := range p.Maps {
		req.Maps = append(req.Maps, toWire(ms))
	}
	return req, nil
}

func toWire(ms *program.MapSpec) wireMap {
	if ms == nil {
		return wireMap{}
	}
	w := wireMap{Type: uint32(ms.Type), KeySize: ms.KeySize, ValueSize: ms.ValueSize,
		MaxEntries: ms.MaxEntries, Flags: ms.Flags}
	if ms.InnerMap != nil {
		inner := toWire(ms.InnerMap)
		w.Inner = &inner
	}
	return w
}

func (w *wireMap) spec() *ebpf.MapSpec {
	s := &ebpf.MapSpec{Type: ebpf.MapType(w.Type), KeySize: w.KeySize, ValueSize: w.ValueSize,
		MaxEntries: w.MaxEntries, Flags: w.Flags}
	if w.Inner != nil {
		s.InnerMap = w.Inner.spec()
	}
	return s
}

// load creates the request's maps and loads its program, in this process
// and with its privileges.
func load(req *request) response {
	v, log, err := loadProgram(req)
	if err != nil {
		return response{Err: err.Error()}
	}
	return response{Verdict: v, Log: log}
}

func loadProgram(req *request) (Verdict, string, error) {
	var maps []*ebpf.Map
	defer func() {
		for _, m := range maps {
			m.Close()
		}
	}()
	for i := range req.Maps {
		m, err := ebpf.NewMap(req.Maps[i].spec())
		if err != nil {
			return Reject, "", fmt.Errorf("create map %d (%v): %w", i, ebpf.MapType(req.Maps[i].Type), err)
		}
		maps = append(maps, m)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(req.Insns), byteOrder, "linux")
	if err != nil {
		return Reject, "", fmt.Errorf("decode program: %w", err)
	}
	for i := range insns {
		ins := &insns[i]
		fixAtomic(ins)
		if idx := uint32(ins.Constant); ins.IsLoadFromMap() && int(idx) < len(maps) {
			if err := ins.AssociateMap(maps[idx]); err != nil {
				return Reject, "", fmt.Errorf("instruction %d: %w", i, err)
			}
		}
	}
	spec := &ebpf.ProgramSpec{
		Name:         "dropmon_kv",
		Type:         ebpf.ProgramType(req.Type),
		Instructions: insns,
		License:      "GPL",
	}
	level := ebpf.LogLevel(req.LogLevel)
	if level != 0 {
		return loadSpec(spec, level)
	}
	// Statistics first: they are short, and they say how many instructions
	// the kernel simulated, which bounds the size of a level-1 log.
	v, log, err := loadSpec(spec, ebpf.LogLevelStats)
	if err != nil || v == Accept || processed(log) > maxBranchLog {
		return v, log, err
	}
	v2, log2, err := loadSpec(spec, ebpf.LogLevelBranch)
	if err != nil || v2 != v {
		// The log changed the verdict (the second load hit a limit the
		// first did not): keep the first.
		return v, log, nil
	}
	return v2, log2, nil
}

// maxBranchLog is the most instructions simulated for which a rejection
// is loaded again for the instruction log: a million-instruction log
// would be ~60 MiB and take seconds.
const maxBranchLog = 100_000

var processedRE = regexp.MustCompile(`processed (\d+) insns`)

// processed returns the "processed N insns" of a statistics log, or 0.
func processed(log string) int {
	m := processedRE.FindStringSubmatch(log)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func loadSpec(spec *ebpf.ProgramSpec, level ebpf.LogLevel) (Verdict, string, error) {
	prog, err := ebpf.NewProgramWithOptions(spec, ebpf.ProgramOptions{LogLevel: level, LogSizeStart: 1 << 20})
	if err == nil {
		prog.Close()
		return Accept, "", nil
	}
	return verdictOf(err)
}

// fixAtomic works around cilium/ebpf v0.22's Marshal, which takes an
// atomic's immediate from Constant before it derives it from the opcode,
// so that every atomic would load as BPF_ADD: it gives it the immediate.
func fixAtomic(ins *asm.Instruction) {
	if atomic := ins.OpCode.AtomicOp(); ins.OpCode.Class() == asm.StXClass && atomic != asm.InvalidAtomic {
		ins.Constant = int64(atomic >> 8)
	}
}

// verdictOf sorts a failed load into a rejection, with the kernel's log,
// or an error that is no verdict.
func verdictOf(err error) (Verdict, string, error) {
	var verr *ebpf.VerifierError
	if errors.As(err, &verr) {
		if len(verr.Log) == 0 {
			// Rejected before the verifier ran (E2BIG: more instructions
			// than the loader may load): the error is all there is.
			return Reject, err.Error(), nil
		}
		return Reject, strings.Join(verr.Log, "\n"), nil
	}
	if errors.Is(err, unix.EFAULT) {
		// The kernel gives up on too complex a program ("The sequence of
		// 8193 jumps is too complex") with EFAULT, and cilium/ebpf then
		// drops the log.
		return Reject, "", nil
	}
	// EINVAL without a log: rejected before the verifier ran (bad
	// fields); E2BIG: more instructions than the loader may load
	// (4096 unprivileged). EPERM is not a verdict: the loader may not
	// load this type at all.
	for _, errno := range []error{unix.EINVAL, unix.EACCES, unix.E2BIG} {
		if errors.Is(err, errno) {
			return Reject, err.Error(), nil
		}
	}
	return Reject, "", fmt.Errorf("load: %w", err)
}
