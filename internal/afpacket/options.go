package afpacket

import (
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
)

// Defaults of Options.
const (
	DefaultBlockSize     = 256 << 10
	DefaultBlocks        = 16
	DefaultFrameSize     = 2048
	DefaultRetireTimeout = 10 * time.Millisecond
)

// tpacketAlignment is TPACKET_ALIGNMENT: frame sizes are multiples of it.
const tpacketAlignment = 16

// Options configure a Reader's ring. The zero value (or nil) gives the
// defaults: 16 blocks of 256 KiB.
type Options struct {
	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size. With TPACKET_V3 a packet of up to about a block is kept
	// whole.
	BlockSize int
	// Blocks is the number of blocks in the ring.
	Blocks int
	// FrameSize is tp_frame_size, a multiple of 16. TPACKET_V3 packs
	// packets of any size into a block; the kernel only checks that the
	// block is a whole number of frames.
	FrameSize int
	// RetireTimeout is how long the kernel keeps a block that is not full
	// before it hands it over anyway (tp_retire_blk_tov), in whole
	// milliseconds: the longest a packet waits in a quiet ring.
	RetireTimeout time.Duration
	// Filter, when not nil, is a socket filter program attached with
	// SO_ATTACH_BPF before the socket is bound: it sees every packet of
	// the interface, and only the packets it passes reach the ring.
	Filter *ebpf.Program
}

// withDefaults returns a copy of o with zero fields set to the defaults,
// or an error naming the field the kernel would refuse.
func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.Blocks == 0 {
		c.Blocks = DefaultBlocks
	}
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if c.RetireTimeout == 0 {
		c.RetireTimeout = DefaultRetireTimeout
	}
	page := os.Getpagesize()
	switch {
	case c.BlockSize <= 0 || c.BlockSize%page != 0:
		return c, fmt.Errorf("block size %d: want a positive multiple of the page size (%d)", c.BlockSize, page)
	case c.Blocks <= 0:
		return c, fmt.Errorf("%d blocks: want at least 1", c.Blocks)
	case c.FrameSize < tpacketAlignment || c.FrameSize%tpacketAlignment != 0 || c.FrameSize > c.BlockSize:
		return c, fmt.Errorf("frame size %d: want a multiple of %d no larger than the block (%d)", c.FrameSize, tpacketAlignment, c.BlockSize)
	case int64(c.BlockSize)*int64(c.Blocks) > 1<<32-1:
		return c, fmt.Errorf("ring of %d blocks of %d bytes: larger than 4 GiB", c.Blocks, c.BlockSize)
	case c.RetireTimeout < time.Millisecond || c.RetireTimeout > time.Hour:
		return c, fmt.Errorf("retire timeout %s: want 1ms to 1h", c.RetireTimeout)
	}
	return c, nil
}
