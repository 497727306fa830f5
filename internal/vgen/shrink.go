package vgen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/program"
)

// Shrink removes instructions from p for as long as keep holds of what is
// left, and returns the smallest program it found (p itself when nothing
// could go). keep should hold of p, and should say whether the candidate
// still shows the same disagreement; it is called at most budget times.
// A label on a removed instruction moves to the next one; a candidate
// whose jumps lose their target is not tried.
func Shrink(p *program.Program, keep func(*program.Program) bool, budget int) *program.Program {
	best := p
	// Chunks first, halving their size: most of a generated program is
	// set-up that the disagreement does not need. A removal can make
	// another possible, so passes repeat until one removes nothing.
	for progress := true; progress && budget > 0; {
		progress = false
		for chunk := len(best.Insns) / 2; chunk >= 1; chunk /= 2 {
			for start := 0; start+chunk <= len(best.Insns) && budget > 0; {
				cand, ok := without(best, start, chunk)
				if !ok {
					start++
					continue
				}
				budget--
				if keep(cand) {
					best, progress = cand, true
					continue // the same start now holds what followed
				}
				start += chunk
			}
		}
	}
	return best
}

// without returns p minus insns [start, start+n), or false when a label
// would be lost.
func without(p *program.Program, start, n int) (*program.Program, bool) {
	insns := make(asm.Instructions, 0, len(p.Insns)-n)
	insns = append(insns, p.Insns[:start]...)
	var carry string
	for _, ins := range p.Insns[start : start+n] {
		if sym := ins.Symbol(); sym != "" {
			if carry != "" {
				return nil, false
			}
			carry = sym
		}
	}
	rest := p.Insns[start+n:]
	if carry != "" {
		if len(rest) == 0 || rest[0].Symbol() != "" {
			if !referenced(p.Insns, carry) {
				carry = ""
			} else {
				return nil, false
			}
		}
	}
	for i, ins := range rest {
		if i == 0 && carry != "" {
			ins = ins.WithSymbol(carry)
		}
		insns = append(insns, ins)
	}
	if len(insns) == 0 {
		return nil, false
	}
	q := *p
	q.Insns = insns
	return &q, true
}

func referenced(insns asm.Instructions, sym string) bool {
	for _, ins := range insns {
		if ins.Reference() == sym && !ins.IsLoadFromMap() {
			return true
		}
	}
	return false
}
