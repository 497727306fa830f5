package program

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/dropmon/dropmon/internal/bounded"
)

// Limits on what the loaders read, so that a device (/dev/zero), a FIFO
// or a huge file cannot make them read without end. The largest program the
// kernel takes (1M instructions) is 8 MiB of bytecode, and a description of
// it in JSON fits well within the limit too.
const (
	MaxELFSize  = 64 << 20 // bytes of an ELF object
	MaxJSONSize = 64 << 20 // bytes of a JSON program description
)

// ErrTooLarge is matched by the errors of input past its limit.
var ErrTooLarge = errors.New("input too large")

// TooLarge is the error of input past limit bytes: "larger than the 64 MiB
// limit for JSON input". kind names the input.
func TooLarge(limit int64, kind string) error {
	return &reason{msg: fmt.Sprintf("larger than the %s limit for %s input", sizeText(limit), kind), kind: ErrTooLarge}
}

func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// readLimited reads path whole, but no more than limit bytes: a regular
// file larger than that is refused before reading, and anything else (a
// pipe, a device) is read until one byte past the limit. Errors name path.
func readLimited(path string, limit int64, kind string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var hint int64
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("%s: is a directory, not a file", path)
	case st.Mode().IsRegular() && st.Size() > limit:
		return nil, fmt.Errorf("%s: %w", path, TooLarge(limit, kind))
	case st.Mode().IsRegular():
		hint = st.Size()
	}
	data, over, err := bounded.ReadAll(f, limit, hint)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	case over:
		return nil, fmt.Errorf("%s: %w", path, TooLarge(limit, kind))
	}
	return data, nil
}

// ReadELF is cilium/ebpf's LoadCollectionSpec with the input bounded
// (MaxELFSize) and errors that say what is wrong with the file: "not an ELF
// object: file is empty", "truncated ELF header". An lddw that the kernel
// would refuse (its second slot not zero but for the immediate, or cut off
// by the end of its function) is an *InsnError in the kernel's words, since
// the program is wrong rather than the file unreadable.
func ReadELF(path string) (*ebpf.CollectionSpec, error) {
	data, err := readLimited(path, MaxELFSize, "ELF")
	if err != nil {
		return nil, err
	}
	return parseELF(path, data)
}

// parseELF is ReadELF on the object's bytes; path names it in errors.
func parseELF(path string, data []byte) (*ebpf.CollectionSpec, error) {
	if err := checkELFHeader(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cs, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(data))
	if err == nil {
		return cs, nil
	}
	if lerr := findBadLDDW(data); lerr != nil {
		return nil, fmt.Errorf("%s: %w", path, lerr)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: truncated ELF object: its headers point past the end of its %d bytes (%w)", path, len(data), err)
	}
	return nil, fmt.Errorf("%s: %w", path, err)
}

// checkELFHeader catches what the ELF reader would report only as "EOF" or
// "bad magic number".
func checkELFHeader(data []byte) error {
	magic := []byte(elf.ELFMAG)
	switch {
	case len(data) == 0:
		return invalidf("not an ELF object: file is empty")
	case !bytes.HasPrefix(data, magic[:min(len(data), len(magic))]):
		return invalidf("not an ELF object: it starts with %q, not %q", data[:min(len(data), 8)], elf.ELFMAG)
	case len(data) <= int(elf.EI_CLASS):
		return invalidf("truncated ELF header: %d bytes", len(data))
	}
	want := 64 // sizeof(Elf64_Ehdr)
	if elf.Class(data[elf.EI_CLASS]) == elf.ELFCLASS32 {
		want = 52 // sizeof(Elf32_Ehdr)
	}
	if len(data) < want {
		return invalidf("truncated ELF header: %d bytes, the header alone has %d", len(data), want)
	}
	return nil
}

// findBadLDDW looks through the functions of the object's executable
// sections for an lddw the kernel refuses with "invalid bpf_ld_imm64 insn",
// which cilium/ebpf's decoder reports without saying where. It returns nil
// when there is none, or when the object cannot be read this far.
func findBadLDDW(data []byte) (err error) {
	defer func() {
		// debug/elf panics on some corrupt objects; then there is nothing
		// more to say than the loader's own error.
		if recover() != nil {
			err = nil
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil
	}
	for _, sym := range syms {
		typ := elf.ST_TYPE(sym.Info)
		if (typ != elf.STT_FUNC && typ != elf.STT_NOTYPE) || sym.Size == 0 ||
			int(sym.Section) <= 0 || int(sym.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[sym.Section]
		if sec.Flags&elf.SHF_EXECINSTR == 0 || sym.Value > sec.Size || sym.Size > sec.Size-sym.Value ||
			sym.Size > uint64(len(data)) {
			continue
		}
		code := make([]byte, sym.Size-sym.Size%asm.InstructionSize)
		if _, err := sec.ReadAt(code, int64(sym.Value)); err != nil {
			continue
		}
		if ie := checkLDDW(code); ie != nil {
			return fmt.Errorf("program %s: %w", sym.Name, ie)
		}
	}
	return nil
}
