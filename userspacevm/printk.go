package userspacevm

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxPrintkArgs is bpf_trace_printk's limit: three arguments after the format.
const maxPrintkArgs = 3

// helperTracePrintk implements bpf_trace_printk(fmt, fmt_size, a1, a2, a3).
// Like the kernel (bpf_bprintf_prepare) it accepts %d %i %u %x %X with l and
// ll, %c, %s, %p, %%, and the flags "0+- " with a width; anything else is
// -EINVAL. It writes to the run context's Trace writer and returns the
// number of bytes written.
func helperTracePrintk(c *Call, r1, r2, r3, r4, r5 uint64) uint64 {
	const name = "bpf_trace_printk"
	raw, ok := memArg(c, name, r1, r2, false)
	if !ok {
		return 0
	}
	end := strings.IndexByte(string(raw), 0)
	if end < 0 {
		return errno(unix.EINVAL) // the kernel wants the format NUL-terminated within fmt_size
	}
	out, err := formatPrintk(c, string(raw[:end]), [maxPrintkArgs]uint64{r3, r4, r5})
	if err != nil {
		return errno(unix.EINVAL)
	}
	if c.RunContext == nil || c.Trace == nil {
		return uint64(len(out))
	}
	n, _ := c.Trace.Write([]byte(out))
	return uint64(n)
}

// formatPrintk formats a trace_printk format with its arguments.
func formatPrintk(c *Call, format string, args [maxPrintkArgs]uint64) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			b.WriteByte(format[i])
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if next == maxPrintkArgs {
			return "", fmt.Errorf("more than %d arguments", maxPrintkArgs)
		}
		verb, n, err := parseVerb(format[i+1:])
		if err != nil {
			return "", err
		}
		b.WriteString(verb.format(c, args[next]))
		next++
		i += n
	}
	return b.String(), nil
}

// printkVerb is one parsed conversion: flags and width, its size and kind.
type printkVerb struct {
	flags string
	width int
	long  bool // l or ll: 64-bit argument
	kind  byte // d i u x X c s p
}

// parseVerb parses a conversion after its '%' and returns how many bytes it
// took.
func parseVerb(s string) (printkVerb, int, error) {
	var v printkVerb
	i := 0
	for i < len(s) && strings.IndexByte("0+- ", s[i]) >= 0 {
		i++
	}
	v.flags = s[:i]
	w := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > w {
		v.width, _ = strconv.Atoi(s[w:i])
	}
	if i < len(s) && (s[i] == 'p' || s[i] == 's' || s[i] == 'c') {
		v.kind = s[i]
		return v, i + 1, nil
	}
	if i < len(s) && s[i] == 'l' {
		v.long = true
		i++
		if i < len(s) && s[i] == 'l' {
			i++
		}
	}
	if i >= len(s) || strings.IndexByte("diuxX", s[i]) < 0 {
		return v, 0, fmt.Errorf("unsupported conversion %%%s", s[:min(i+1, len(s))])
	}
	v.kind = s[i]
	return v, i + 1, nil
}

// maxPrintkString bounds a %s argument, as the kernel's bprintf buffer does.
const maxPrintkString = 512

func (v printkVerb) format(c *Call, arg uint64) string {
	spec := "%" + v.flags
	if v.width > 0 {
		spec += strconv.Itoa(v.width)
	}
	switch v.kind {
	case 'd', 'i':
		if v.long {
			return fmt.Sprintf(spec+"d", int64(arg))
		}
		return fmt.Sprintf(spec+"d", int32(arg))
	case 'u':
		if v.long {
			return fmt.Sprintf(spec+"d", arg)
		}
		return fmt.Sprintf(spec+"d", uint32(arg))
	case 'x', 'X':
		if !v.long {
			arg = uint64(uint32(arg))
		}
		return fmt.Sprintf(spec+string(v.kind), arg)
	case 'c':
		return fmt.Sprintf(spec+"c", rune(byte(arg)))
	case 'p':
		return fmt.Sprintf(spec+"s", "0x"+strconv.FormatUint(arg, 16))
	case 's':
		s, ok := c.Mem.CString(arg, maxPrintkString)
		if !ok {
			s = "(efault)"
		}
		return fmt.Sprintf(spec+"s", s)
	}
	return ""
}
