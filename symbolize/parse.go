package symbolize

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// readSize is the read buffer. /proc/kallsyms is a seq_file, which returns
// at most a page per read(2) however large the buffer (measured: 1,329 reads
// for 5.4 MB with a 1 MiB buffer, and the same system time for any buffer of
// 4 KiB or more), so a larger one would only help regular files.
const readSize = 64 << 10

// maxLineLen bounds a line, as bufio.Scanner's token limit did when parse
// used one. The kernel's lines are under 600 bytes (KSYM_NAME_LEN is 512),
// so a line of 1 MiB means the input is not kallsyms.
const maxLineLen = 1 << 20

// parser turns kallsyms text into symbols.
type parser struct {
	collector
	modIdx  map[string]uint16
	modules []string
	lastMod string // the previous symbol's module, which the next one likely shares
	lastIdx uint16
	nonZero bool
	lines   int
	parsed  int
}

// parse reads kallsyms lines ("ffffffff81000000 T _stext", with an optional
// "\t[module]") and keeps the code symbols (types t, T, w, W), sorted by
// address. Of several symbols at one address it keeps a global one over a
// local one, and then the first in the file.
//
// Parsing costs no allocation per line: lines are split in the read buffer,
// and symbols are collected in blocks (see collector).
func parse(r io.Reader) (*symbols, error) {
	p := parser{modIdx: map[string]uint16{"": 0}, modules: []string{""}}
	if err := p.read(r); err != nil {
		return nil, err
	}
	if p.parsed == 0 {
		return nil, fmt.Errorf("no symbols in %d lines (not a kallsyms file?)", p.lines)
	}
	entries, names := p.finish()
	return &symbols{entries: entries, names: names, modules: p.modules, restricted: !p.nonZero}, nil
}

// read passes every line of r to p.line.
func (p *parser) read(r io.Reader) error {
	buf := make([]byte, readSize)
	end := 0 // buf[:end] is not parsed yet; it starts at a line
	for empty := 0; ; {
		n, err := r.Read(buf[end:])
		end += n
		done := 0
		for {
			i := bytes.IndexByte(buf[done:end], '\n')
			if i < 0 {
				break
			}
			if err := p.line(buf[done : done+i]); err != nil {
				return err
			}
			done += i + 1
		}
		end = copy(buf, buf[done:end])
		switch {
		case err == io.EOF:
			if end == 0 {
				return nil
			}
			return p.line(buf[:end])
		case err != nil:
			return err
		case n > 0:
			empty = 0
		default:
			if empty++; empty >= 100 { // as bufio.Scanner
				return io.ErrNoProgress
			}
		}
		if end == len(buf) {
			if end >= maxLineLen {
				return p.tooLong()
			}
			bigger := make([]byte, min(2*len(buf), maxLineLen))
			copy(bigger, buf)
			buf = bigger
		}
	}
}

func (p *parser) tooLong() error {
	return fmt.Errorf("line %d is %d bytes or more: %w", p.lines+1, maxLineLen, bufio.ErrTooLong)
}

// line takes one line, without its newline.
func (p *parser) line(b []byte) error {
	if len(b) >= maxLineLen {
		return p.tooLong()
	}
	p.lines++
	addr, typ, name, mod, ok := splitKernelLine(b)
	if !ok {
		if addr, typ, name, mod, ok = splitLine(b); !ok {
			return nil
		}
	}
	p.parsed++
	if addr != 0 {
		p.nonZero = true
	}
	if !isCode(typ) || len(name) > 0xffff {
		return nil
	}
	mi := p.lastIdx
	if string(mod) != p.lastMod {
		var err error
		if mi, err = p.module(mod); err != nil {
			return err
		}
	}
	p.add(addr, name, mi, localRank(typ))
	return nil
}

// module returns the index of a module, adding it when new. Symbols come
// grouped by module, so line tries the previous symbol's module first.
func (p *parser) module(name []byte) (uint16, error) {
	mi, ok := p.modIdx[string(name)]
	if !ok {
		if len(p.modules) > 0xffff {
			return 0, fmt.Errorf("more than %d modules", 0xffff)
		}
		mod := string(name)
		mi = uint16(len(p.modules))
		p.modIdx[mod] = mi
		p.modules = append(p.modules, mod)
	}
	p.lastMod, p.lastIdx = p.modules[mi], mi
	return mi, nil
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
