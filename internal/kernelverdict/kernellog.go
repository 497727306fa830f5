package kernelverdict

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	// insnLine is a simulated instruction of a level-1 log:
	// "12: (bf) r1 = r10 ; R1_w=fp0".
	insnLine = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\)`)
	// stateLine is a register state or a branch the simulation took:
	// "12: R1=ctx() R10=fp0", "from 4 to 6: R0=...".
	stateLine = regexp.MustCompile(`^(\d+: |from \d+ to \d+: )`)
	// insnNamed is an error that names its instruction itself: "back-edge
	// from insn 7 to 3", "unreachable insn 9", "infinite loop detected at
	// insn 4".
	insnNamed = regexp.MustCompile(`\binsn (\d+)\b`)
	// jumpThen is a conditional jump whose line the kernel did not end
	// before what followed: a branch's state or an error ("4: (a5) if r7
	// < 0x2 goto pc-2 infinite loop detected at insn 3").
	jumpThen = regexp.MustCompile(`goto pc[+-]\d+ ([^\s;].*)$`)
)

// FailedInsn returns the instruction (raw slot) a rejection's log blames:
// the one its error line names, else the last instruction the simulation
// printed. ok is false when the log names none.
func FailedInsn(log string) (insn int, ok bool) {
	last, lastOK := -1, false
	raw := strings.Split(log, "\n")
	for i := len(raw) - 1; i >= 0; i-- {
		if m := insnLine.FindStringSubmatch(raw[i]); m != nil {
			n, err := strconv.Atoi(m[1])
			last, lastOK = n, err == nil
			break
		}
	}
	if lines, at := errorAt(log); at >= 0 {
		if m := insnNamed.FindStringSubmatch(lines[at]); m != nil {
			n, err := strconv.Atoi(m[1])
			return n, err == nil
		}
	}
	return last, lastOK
}

// ErrorLine returns the line of a rejection's log that says why: the
// first line after the last simulated instruction that is neither a
// register state nor statistics.
func ErrorLine(log string) string {
	lines, at := errorAt(log)
	if at < 0 {
		return ""
	}
	return lines[at]
}

func errorAt(log string) (lines []string, at int) {
	lines = strings.Split(strings.TrimRight(log, "\n"), "\n")
	start := 0
	for i := len(lines) - 1; i >= 0; i-- {
		if !insnLine.MatchString(lines[i]) {
			continue
		}
		if m := jumpThen.FindStringSubmatch(lines[i]); m != nil && !stateLine.MatchString(m[1]) {
			lines[i] = m[1]
			return lines, i
		}
		start = i + 1
		break
	}
	for i := start; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || stateLine.MatchString(l) || strings.HasPrefix(l, "processed ") ||
			strings.HasPrefix(l, "verification time") || strings.HasPrefix(l, "stack depth") ||
			strings.HasPrefix(l, "Live regs before insn") {
			continue
		}
		lines[i] = l
		return lines, i
	}
	return lines, -1
}
