package symbolize

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// referenceParse is the parser before it was rewritten for speed
// (bufio.Scanner, strings.Fields, a stable sort of every entry). It is slow
// but obviously right, and the tests hold parse to its results.
func referenceParse(r io.Reader) (*reference, error) {
	var (
		s       symbols
		names   strings.Builder
		modIdx  = map[string]uint16{"": 0}
		nonZero bool
		lines   int
		parsed  int
		rank    []uint8
	)
	s.modules = []string{""}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines++
		addr, typ, name, mod, ok := referenceParseLine(sc.Text())
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
	s.restricted = !nonZero
	referenceSortAndDedup(&s, rank)
	flat := names.String()
	ref := &reference{restricted: s.restricted}
	for _, e := range s.entries {
		ref.syms = append(ref.syms, sym{e.addr, flat[e.nameOff : e.nameOff+uint32(e.nameLen)], s.modules[e.module]})
	}
	return ref, nil
}

// reference is what referenceParse found.
type reference struct {
	syms       []sym
	restricted bool
}

func referenceParseLine(line string) (addr uint64, typ byte, name, module string, ok bool) {
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

func referenceSortAndDedup(s *symbols, rank []uint8) {
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
