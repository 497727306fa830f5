package symbolize

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KallsymsPath is where the kernel lists its symbols.
const KallsymsPath = "/proc/kallsyms"

// ErrRestricted reports that the kernel hides symbol addresses from this
// process (kernel.kptr_restrict), so every address reads as zero.
var ErrRestricted = errors.New("kernel symbol addresses are hidden (run as root, or sysctl kernel.kptr_restrict=0)")

// unknownSize is how far past its start a symbol is taken to reach when the
// next symbol belongs to another module, or there is none: the gap to the
// next module says nothing about the symbol's own size.
const unknownSize = 4096

// reloadInterval limits how often misses reload the table.
var reloadInterval = 5 * time.Second

// Symbol is a kernel symbol. Name and Module point into the table's packed
// names and cost no allocation.
type Symbol struct {
	Name   string
	Module string // "" for the core kernel
	Addr   uint64
	Size   uint64 // distance to the next symbol; 0 when unknown
}

// entry is one symbol in the sorted table: 16 bytes, names elsewhere. Its
// size is the distance to the next entry of the same module.
type entry struct {
	addr    uint64
	nameOff uint32
	nameLen uint16
	module  uint16 // index into modules; 0 is the core kernel
}

// symbols is one loaded, immutable snapshot of kallsyms.
type symbols struct {
	entries    []entry
	names      string
	modules    []string
	restricted bool
}

// Table looks up kernel addresses. It is safe for concurrent use.
type Table struct {
	path string

	cur atomic.Pointer[symbols] // lookups read it without a lock

	mu         sync.Mutex // serialises reloads
	lastReload time.Time
	reloads    int
}

// Load reads /proc/kallsyms. When the kernel hides addresses the table is
// still returned, with Restricted set, and the error is ErrRestricted, so
// callers can warn once and print raw addresses.
func Load() (*Table, error) {
	return LoadFile(KallsymsPath)
}

// LoadFile reads a kallsyms-format file.
func LoadFile(path string) (*Table, error) {
	t := &Table{path: path}
	s, err := readFile(path)
	if err != nil {
		return nil, err
	}
	t.cur.Store(s)
	t.lastReload = time.Now()
	if s.restricted {
		return t, ErrRestricted
	}
	return t, nil
}

func readFile(path string) (*symbols, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load kernel symbols: %w", err)
	}
	defer f.Close()
	s, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("load kernel symbols from %s: %w", path, err)
	}
	return s, nil
}

// Parse makes a table from kallsyms text, for symbols saved from another
// machine or for tests. Such a table never reloads.
func Parse(r io.Reader) (*Table, error) {
	s, err := parse(r)
	if err != nil {
		return nil, fmt.Errorf("parse kernel symbols: %w", err)
	}
	t := &Table{}
	t.cur.Store(s)
	if s.restricted {
		return t, ErrRestricted
	}
	return t, nil
}

// parse reads kallsyms lines ("ffffffff81000000 T _stext", with an optional
// "\t[module]") and keeps the code symbols (types t, T, w, W), sorted by
// address. Of several symbols at one address it keeps a global one over a
// local one, and then the first in the file.
func parse(r io.Reader) (*symbols, error) {
	var (
		s       symbols
		names   strings.Builder
		modIdx  = map[string]uint16{"": 0}
		nonZero bool
		lines   int
		parsed  int
		rank    []uint8 // 0 for global, 1 for local, per entry
	)
	s.modules = []string{""}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines++
		addr, typ, name, mod, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		parsed++
		if addr != 0 {
			nonZero = true
		}
		if !isCode(typ) || len(name) > 0xffff {
			continue
		}
		mi, known := modIdx[mod]
		if !known {
			if len(s.modules) > 0xffff {
				return nil, fmt.Errorf("more than %d modules", 0xffff)
			}
			mi = uint16(len(s.modules))
			modIdx[mod] = mi
			s.modules = append(s.modules, mod)
		}
		s.entries = append(s.entries, entry{addr: addr, nameOff: uint32(names.Len()), nameLen: uint16(len(name)), module: mi})
		rank = append(rank, localRank(typ))
		names.WriteString(name)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if parsed == 0 {
		return nil, fmt.Errorf("no symbols in %d lines (not a kallsyms file?)", lines)
	}
	s.names = names.String()
	s.restricted = !nonZero
	s.sortAndDedup(rank)
	return &s, nil
}

// parseLine splits "ADDR TYPE NAME[\t[MODULE]]".
func parseLine(line string) (addr uint64, typ byte, name, module string, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 3 || len(fields[1]) != 1 {
		return 0, 0, "", "", false
	}
	addr, err := strconv.ParseUint(fields[0], 16, 64)
	if err != nil {
		return 0, 0, "", "", false
	}
	if len(fields) >= 4 {
		m := fields[3]
		if len(m) < 2 || m[0] != '[' || m[len(m)-1] != ']' {
			return 0, 0, "", "", false
		}
		module = m[1 : len(m)-1]
	}
	return addr, fields[1][0], fields[2], module, true
}

func isCode(typ byte) bool {
	return typ == 't' || typ == 'T' || typ == 'w' || typ == 'W'
}

func localRank(typ byte) uint8 {
	if typ == 't' || typ == 'w' {
		return 1
	}
	return 0
}

// sortAndDedup sorts the entries by address and drops duplicate addresses,
// keeping the best-ranked name.
func (s *symbols) sortAndDedup(rank []uint8) {
	idx := make([]int, len(s.entries))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := s.entries[a], s.entries[b]
		if ea.addr != eb.addr {
			if ea.addr < eb.addr {
				return -1
			}
			return 1
		}
		return int(rank[a]) - int(rank[b])
	})
	sorted := make([]entry, 0, len(idx))
	for _, i := range idx {
		e := s.entries[i]
		if n := len(sorted); n > 0 && sorted[n-1].addr == e.addr {
			continue
		}
		sorted = append(sorted, e)
	}
	s.entries = slices.Clip(sorted)
}
