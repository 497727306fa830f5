package monitor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/dropmon/dropmon/dropcount"
)

// kallsymsPath is where the kernel lists its symbols.
var kallsymsPath = "/proc/kallsyms"

// errHidden says why every address in /proc/kallsyms is 0.
var errHidden = fmt.Errorf("kernel addresses are hidden (kernel.kptr_restrict; run as root): %w", os.ErrPermission)

// FunctionRange finds a kernel function's code in /proc/kallsyms: from its
// address to the next text symbol's. A name that is not a function, or
// names several (static functions of different files), is an error; so are
// hidden addresses (kernel.kptr_restrict, not root).
func FunctionRange(name string) (*dropcount.Range, error) {
	file, err := os.Open(kallsymsPath)
	if err != nil {
		return nil, fmt.Errorf("find function %s: %w", name, err)
	}
	defer file.Close()
	return FunctionRangeIn(file, kallsymsPath, name)
}

// FunctionRangeIn is FunctionRange on symbols in /proc/kallsyms's format
// read from r (a recording's), which where names in errors.
func FunctionRangeIn(r io.Reader, where, name string) (*dropcount.Range, error) {
	var starts, all []uint64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// ADDRESS TYPE NAME [MODULE]
		f := bytes.Fields(sc.Bytes())
		if len(f) < 3 || len(f[1]) != 1 || f[1][0]|0x20 != 't' {
			continue
		}
		addr, err := strconv.ParseUint(string(f[0]), 16, 64)
		if err != nil {
			continue
		}
		all = append(all, addr)
		if string(f[2]) == name {
			starts = append(starts, addr)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("find function %s: read %s: %w", name, where, err)
	}
	switch {
	case len(starts) > 0 && starts[0] == 0:
		return nil, fmt.Errorf("find function %s: %w", name, errHidden)
	case len(starts) == 0:
		return nil, fmt.Errorf("find function %s: not a function in %s", name, where)
	case len(starts) > 1:
		return nil, fmt.Errorf("find function %s: %d functions have that name; dropmon cannot tell which", name, len(starts))
	}
	start, end := starts[0], ^uint64(0)
	for _, a := range all {
		if a > start && a < end {
			end = a
		}
	}
	if end == ^uint64(0) {
		return nil, fmt.Errorf("find function %s: no symbol follows it, so its end is unknown", name)
	}
	return &dropcount.Range{Name: name, Start: start, End: end}, nil
}
