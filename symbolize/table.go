package symbolize

import (
	"errors"
	"fmt"
	"io"
	"os"
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
	names      []string // chunks of names; see nameChunkBits
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
