package perfdata

import (
	"archive/tar"
	"compress/bzip2"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// KallsymsOptions says where FindKallsyms may look for kernel symbols.
type KallsymsOptions struct {
	// File is a /proc/kallsyms copy given by the user (--kallsyms); it is
	// used as is, without checking that it belongs to the capture.
	File string
	// Archive is a `perf archive` tarball (perf.data.tar.bz2).
	Archive string
	// BuildIDDir is perf's build-id cache; empty means $PERF_BUILDID_DIR,
	// else $HOME/.debug.
	BuildIDDir string
}

// maxKallsyms bounds what FindKallsyms reads: /proc/kallsyms of a large
// distribution kernel is about 20 MB.
const maxKallsyms = 256 << 20

// FindKallsyms finds the kernel symbols of f's capture: opts.File when
// given; else the symbols the file carries in its tracing data (dropmon's
// own files); else, keyed by the kernel build-id the file records, the
// kallsyms in opts.Archive and then in the build-id cache, laid out as perf
// buildid-cache and perf archive do: [kernel.kallsyms]/<build-id>/kallsyms,
// linked from .build-id/<first two hex digits>/<rest>. from says which it
// used. When nothing matches, the error wraps ErrNoKallsyms and names the
// build-id and the places searched.
func FindKallsyms(f *File, opts KallsymsOptions) (text []byte, from string, err error) {
	if opts.File != "" {
		b, err := readLimited(opts.File)
		if err != nil {
			return nil, "", fmt.Errorf("kallsyms: %w", err)
		}
		return b, opts.File, nil
	}
	if t := f.Meta.Tracing; t != nil && len(t.Kallsyms) > 0 {
		return t.Kallsyms, "the capture's tracing data", nil
	}
	if len(f.Meta.KernelBuildID) == 0 {
		return nil, "", fmt.Errorf("%w: the capture records no kernel build-id (HEADER_BUILD_ID), so no cache entry can be matched; give --kallsyms FILE", ErrNoKallsyms)
	}
	id := hex.EncodeToString(f.Meta.KernelBuildID)
	var looked []string
	if opts.Archive != "" {
		b, err := kallsymsFromArchive(opts.Archive, id)
		if err == nil {
			return b, opts.Archive, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("kallsyms: %w", err)
		}
		looked = append(looked, opts.Archive)
	}
	dir := buildIDDir(opts.BuildIDDir)
	if dir != "" {
		for _, p := range cachePaths(dir, id) {
			b, err := readLimited(p)
			if err == nil {
				return b, p, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, "", fmt.Errorf("kallsyms: %w", err)
			}
		}
		looked = append(looked, dir)
	}
	return nil, "", fmt.Errorf("%w: kernel build-id %s found in none of [%s]; on the machine of the capture run `perf archive FILE` and pass the tarball, or copy /proc/kallsyms and give --kallsyms FILE",
		ErrNoKallsyms, id, strings.Join(looked, ", "))
}

// buildIDDir returns perf's build-id cache directory (buildid_dir in perf).
func buildIDDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv("PERF_BUILDID_DIR"); d != "" {
		return d
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".debug")
	}
	return ""
}

// cachePaths lists where the cache may keep the kallsyms of build-id id.
func cachePaths(dir, id string) []string {
	return []string{
		filepath.Join(dir, kernelDSOName, id, "kallsyms"),
		filepath.Join(dir, ".build-id", id[:2], id[2:], "kallsyms"),
	}
}

func readLimited(p string) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxKallsyms+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxKallsyms {
		return nil, fmt.Errorf("%s is over %d MB, too big for kallsyms", p, maxKallsyms>>20)
	}
	return b, nil
}

// kallsymsFromArchive reads a perf archive tarball (bzip2-compressed tar
// with paths relative to the build-id cache) for the kallsyms of id: at
// [kernel.kallsyms]/<id>/kallsyms, or where the .build-id link points. A
// link whose target came earlier in the archive needs a second pass. An
// archive without it gives an error wrapping fs.ErrNotExist.
func kallsymsFromArchive(archive, id string) ([]byte, error) {
	want := path.Join(kernelDSOName, id, "kallsyms")
	b, target, err := scanArchive(archive, want, path.Join(".build-id", id[:2], id[2:]))
	if err == nil || !errors.Is(err, fs.ErrNotExist) || target == "" || target == want {
		return b, err
	}
	b, _, err = scanArchive(archive, target, "")
	return b, err
}

// scanArchive returns the content of the regular file want, or of the
// target of symlink link when that comes first. It also returns where link
// points (its target's kallsyms), for a second pass.
func scanArchive(archive, want, link string) (b []byte, linkTarget string, err error) {
	fh, err := os.Open(archive)
	if err != nil {
		return nil, "", err
	}
	defer fh.Close()
	tr := tar.NewReader(bzip2.NewReader(fh))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, linkTarget, fmt.Errorf("%s holds no %s: %w", archive, want, fs.ErrNotExist)
		}
		if err != nil {
			return nil, "", fmt.Errorf("read %s (is it a perf archive .tar.bz2?): %w", archive, err)
		}
		name := path.Clean(h.Name)
		if link != "" && name == link && h.Typeflag == tar.TypeSymlink {
			linkTarget = path.Join(path.Dir(link), h.Linkname, "kallsyms")
			continue
		}
		if (name != want && name != linkTarget) || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > maxKallsyms {
			return nil, "", fmt.Errorf("%s: %s is %d bytes, too big for kallsyms", archive, name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, "", fmt.Errorf("read %s from %s: %w", name, archive, err)
		}
		return b, linkTarget, nil
	}
}
