package perfdata

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kernelNotesPath holds the running kernel's ELF notes.
const kernelNotesPath = "/sys/kernel/notes"

// ntGNUBuildID is NT_GNU_BUILD_ID, the type of the note holding a build-id.
const ntGNUBuildID = 3

// KernelBuildID returns the running kernel's build-id, the
// NT_GNU_BUILD_ID note of /sys/kernel/notes: the id perf stores for
// "[kernel.kallsyms]" and uses as the key of its build-id cache.
func KernelBuildID() ([]byte, error) {
	b, err := os.ReadFile(kernelNotesPath)
	if err != nil {
		return nil, fmt.Errorf("kernel build-id: %w", err)
	}
	id, err := parseBuildIDNote(b)
	if err != nil {
		return nil, fmt.Errorf("kernel build-id: %s: %w", kernelNotesPath, err)
	}
	return id, nil
}

// parseBuildIDNote walks ELF notes (Elf_Nhdr: namesz, descsz, type, then
// name and desc each padded to 4 bytes) for the GNU build-id note.
func parseBuildIDNote(b []byte) ([]byte, error) {
	align := func(n uint32) int { return int((uint64(n) + 3) &^ 3) }
	for len(b) >= 12 {
		namesz, descsz, typ := le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:])
		b = b[12:]
		nlen, dlen := align(namesz), align(descsz)
		if nlen > len(b) || dlen > len(b)-nlen {
			return nil, errors.New("truncated ELF note")
		}
		name, desc := b[:namesz], b[nlen:nlen+int(descsz)]
		if typ == ntGNUBuildID && cString(name) == "GNU" && len(desc) > 0 {
			return append([]byte(nil), desc...), nil
		}
		b = b[nlen+dlen:]
	}
	return nil, errors.New("no NT_GNU_BUILD_ID note (was the kernel built without a build-id?)")
}

// KernelText returns the address of the kernel's _text symbol from
// /proc/kallsyms, for Meta.KernelText. It needs root (or kptr_restrict 0):
// otherwise the kernel shows zeros, and KernelText returns an error.
func KernelText() (uint64, error) {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return 0, fmt.Errorf("kernel _text address: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		addr, rest, _ := strings.Cut(sc.Text(), " ")
		if rest != "T _text" && rest != "t _text" {
			continue
		}
		v, err := strconv.ParseUint(addr, 16, 64)
		if err != nil || v == 0 {
			return 0, errors.New("kernel _text address: /proc/kallsyms hides addresses (run as root, or set kernel.kptr_restrict to 0)")
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("kernel _text address: read /proc/kallsyms: %w", err)
	}
	return 0, errors.New("kernel _text address: no _text symbol in /proc/kallsyms")
}
