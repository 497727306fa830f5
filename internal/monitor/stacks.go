package monitor

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/userspacevm/maps"
)

// stacks reads call chains by id from a counter's stack trace map, in the
// kernel or in user space, and keeps each: nothing deletes from the map
// and bpf_get_stackid is called without BPF_F_REUSE_STACKID, so an id
// names one chain for the whole run.
type stacks struct {
	user   *maps.Map // the user-space engines' map
	kernel *ebpf.Map // the kernel engine's
	known  map[int32]report.Stack
	value  []byte // the kernel map's value, reused
}

func newStacks(user *maps.Map, kernel *ebpf.Map) *stacks {
	return &stacks{user: user, kernel: kernel, known: map[int32]report.Stack{}}
}

// stack returns the chain of a bpf_get_stackid result: LostStack for a
// negative errno (the id's bucket held another chain, or no frames).
func (s *stacks) stack(id int32) (report.Stack, error) {
	if id < 0 {
		return report.LostStack, nil
	}
	if st, ok := s.known[id]; ok {
		return st, nil
	}
	var key [4]byte
	binary.NativeEndian.PutUint32(key[:], uint32(id))
	value, err := s.lookup(key[:])
	if errors.Is(err, ebpf.ErrKeyNotExist) || errors.Is(err, maps.ErrKeyNotExist) {
		return report.LostStack, nil
	}
	if err != nil {
		return "", fmt.Errorf("read stack %d: %w", id, err)
	}
	st := report.StackOf(dropcount.DecodeStack(value))
	s.known[id] = st
	return st, nil
}

// lookup reads one id's value: StackDepth addresses, 0-terminated.
func (s *stacks) lookup(key []byte) ([]byte, error) {
	if s.kernel == nil {
		return s.user.Lookup(key)
	}
	if s.value == nil {
		s.value = make([]byte, s.kernel.ValueSize())
	}
	return s.value, s.kernel.Lookup(key, s.value)
}
