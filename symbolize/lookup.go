package symbolize

import (
	"sort"
	"strconv"
	"time"
)

// Restricted reports whether the kernel hid symbol addresses when the table
// was loaded (every address read as zero).
func (t *Table) Restricted() bool { return t.snapshot().restricted }

// Len returns the number of symbols in the table.
func (t *Table) Len() int { return len(t.snapshot().entries) }

func (t *Table) snapshot() *symbols { return t.cur.Load() }

// Lookup returns the symbol that covers addr and the offset of addr in it.
// An address beyond every symbol reloads the table once (at most every few
// seconds) before Lookup gives up. It does not allocate.
func (t *Table) Lookup(addr uint64) (Symbol, uint64, bool) {
	if sym, off, ok := t.snapshot().lookup(addr); ok {
		return sym, off, true
	}
	if !t.reload() {
		return Symbol{}, 0, false
	}
	return t.snapshot().lookup(addr)
}

// reload reads the symbols again unless that happened recently, and reports
// whether it did.
func (t *Table) reload() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.path == "" || time.Since(t.lastReload) < reloadInterval {
		return false
	}
	t.lastReload = time.Now()
	s, err := readFile(t.path)
	if err != nil {
		return false
	}
	t.cur.Store(s)
	t.reloads++
	return true
}

func (s *symbols) lookup(addr uint64) (Symbol, uint64, bool) {
	if s.restricted || len(s.entries) == 0 {
		return Symbol{}, 0, false
	}
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].addr > addr }) - 1
	if i < 0 {
		return Symbol{}, 0, false
	}
	e := &s.entries[i]
	off := addr - e.addr
	size := s.size(i)
	reach := size
	if reach == 0 {
		reach = unknownSize
	}
	if off >= reach {
		return Symbol{}, 0, false
	}
	return Symbol{
		Name:   s.name(e),
		Module: s.modules[e.module],
		Addr:   e.addr,
		Size:   size,
	}, off, true
}

func (s *symbols) name(e *entry) string {
	off := e.nameOff & (nameChunkSize - 1)
	return s.names[e.nameOff>>nameChunkBits][off : off+uint32(e.nameLen)]
}

// size is the distance from entry i to the next symbol of the same module,
// or 0 when unknown.
func (s *symbols) size(i int) uint64 {
	if i+1 < len(s.entries) && s.entries[i+1].module == s.entries[i].module {
		return s.entries[i+1].addr - s.entries[i].addr
	}
	return 0
}

// Format returns addr as "symbol+0xoff [module]" (no module part for the
// core kernel), or as "0x..." when no symbol covers it.
func (t *Table) Format(addr uint64) string {
	return string(t.AppendFormat(nil, addr, false))
}

// AppendFormat appends addr in the %pS form to b; with size it adds the
// symbol's size ("symbol+0xoff/0xsize [module]") where it is known.
func (t *Table) AppendFormat(b []byte, addr uint64, size bool) []byte {
	sym, off, ok := t.Lookup(addr)
	if !ok {
		b = append(b, "0x"...)
		return strconv.AppendUint(b, addr, 16)
	}
	b = append(b, sym.Name...)
	b = append(b, "+0x"...)
	b = strconv.AppendUint(b, off, 16)
	if size && sym.Size != 0 {
		b = append(b, "/0x"...)
		b = strconv.AppendUint(b, sym.Size, 16)
	}
	if sym.Module != "" {
		b = append(b, " ["...)
		b = append(b, sym.Module...)
		b = append(b, ']')
	}
	return b
}
