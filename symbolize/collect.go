package symbolize

import (
	"slices"
	"strings"
)

// blockLen is how many entries a block holds (64 KiB of them).
const blockLen = 4096

// nameChunkBits splits an entry's nameOff into the index of a chunk of
// names (the high bits) and an offset in it. Chunks of 256 KiB hold any
// name (at most 0xffff bytes), and 2^14 of them 4 GiB, as did one string
// indexed by a uint32.
const (
	nameChunkBits = 18
	nameChunkSize = 1 << nameChunkBits
)

// collector gathers symbols in file order in fixed-size blocks, so that a
// table of unknown size (the kernel does not say how long /proc/kallsyms
// is) is built without growing slices by copying, then copied once into
// exact-size storage. On the way it drops a symbol at the same address as
// the one before, and notes where the file stops being sorted.
type collector struct {
	blocks   []*block
	n        int // symbols collected
	unsorted int // the first symbol below the one before it; 0 while sorted

	names []string        // full chunks of names, packed in file order
	chunk strings.Builder // the chunk being filled

	prevAddr uint64 // the last symbol's address and rank
	prevRank uint8
}

type block struct {
	entries [blockLen]entry
	ranks   [blockLen]uint8 // localRank of each entry
}

// rankedEntry is an entry with its rank, to be sorted.
type rankedEntry struct {
	entry
	rank uint8
}

func (c *collector) at(i int) rankedEntry {
	b := c.blocks[i/blockLen]
	return rankedEntry{b.entries[i%blockLen], b.ranks[i%blockLen]}
}

func (c *collector) set(i int, e rankedEntry) {
	b := c.blocks[i/blockLen]
	b.entries[i%blockLen], b.ranks[i%blockLen] = e.entry, e.rank
}

// add collects a symbol. One at the same address as the symbol before
// replaces that symbol only if it has a better rank: of symbols at one
// address, the first global one wins, or the first local one if none is
// global. (kallsyms lists aliases such as _stext and _text together.)
func (c *collector) add(addr uint64, name []byte, module uint16, rank uint8) {
	if c.n > 0 {
		if addr == c.prevAddr {
			if rank < c.prevRank {
				c.set(c.n-1, rankedEntry{c.entry(addr, name, module), rank})
				c.prevRank = rank
			}
			return
		}
		if addr < c.prevAddr && c.unsorted == 0 {
			c.unsorted = c.n
		}
	}
	if c.n%blockLen == 0 {
		c.blocks = append(c.blocks, new(block))
	}
	c.set(c.n, rankedEntry{c.entry(addr, name, module), rank})
	c.n++
	c.prevAddr, c.prevRank = addr, rank
}

// entry packs name with the others and returns an entry for it. As names
// are never empty, nameOff also orders entries as the file does.
func (c *collector) entry(addr uint64, name []byte, module uint16) entry {
	if c.chunk.Len()+len(name) > c.chunk.Cap() {
		c.newChunk()
	}
	off := uint32(len(c.names))<<nameChunkBits | uint32(c.chunk.Len())
	c.chunk.Write(name)
	return entry{addr: addr, nameOff: off, nameLen: uint16(len(name)), module: module}
}

func (c *collector) newChunk() {
	if c.chunk.Cap() > 0 {
		c.names = append(c.names, c.chunk.String())
	}
	c.chunk = strings.Builder{}
	c.chunk.Grow(nameChunkSize)
}

// finish returns the entries sorted by address, one per address, and the
// chunks of names they point into. The chunks are not copied again (that
// would cost more than a tenth of parsing), only the last one when it is
// mostly empty.
func (c *collector) finish() ([]entry, []string) {
	last := c.chunk.String()
	if len(last) < nameChunkSize/2 {
		last = strings.Clone(last)
	}
	names := append(c.names, last)
	entries := c.sorted()
	c.blocks, c.names, c.chunk = nil, nil, strings.Builder{}
	return entries, names
}

// sorted merges the sorted head of the file (the core kernel's symbols)
// with the rest (the modules', in no order), sorted here, keeping the best
// entry of each address. For a file that is all sorted it is a copy.
func (c *collector) sorted() []entry {
	head := c.n
	if c.unsorted > 0 {
		head = c.unsorted
	}
	tail := make([]rankedEntry, 0, c.n-head)
	for i := head; i < c.n; i++ {
		tail = append(tail, c.at(i))
	}
	slices.SortFunc(tail, compareRanked)

	out := make([]entry, 0, c.n)
	i := 0
	for _, t := range tail {
		for ; i < head; i++ {
			h := c.at(i)
			if compareRanked(h, t) > 0 {
				break
			}
			out = appendNewAddr(out, h.entry)
		}
		out = appendNewAddr(out, t.entry)
	}
	for ; i < head; i++ {
		out = appendNewAddr(out, c.at(i).entry)
	}
	return slices.Clip(out)
}

// compareRanked orders entries by address, then global before local, then
// as in the file.
func compareRanked(a, b rankedEntry) int {
	switch {
	case a.addr != b.addr:
		if a.addr < b.addr {
			return -1
		}
		return 1
	case a.rank != b.rank:
		return int(a.rank) - int(b.rank)
	default:
		return int(int64(a.nameOff) - int64(b.nameOff))
	}
}

// appendNewAddr appends e unless the last entry has its address (and so
// is the better one).
func appendNewAddr(out []entry, e entry) []entry {
	if n := len(out); n > 0 && out[n-1].addr == e.addr {
		return out
	}
	return append(out, e)
}
