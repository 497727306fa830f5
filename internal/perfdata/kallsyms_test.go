package perfdata

import (
	"archive/tar"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var testBuildID = []byte{0x7d, 0xd4, 0xff, 0x07, 0x89, 0xe0, 0x5e, 0x14, 0x28, 0x53, 0x20, 0x12, 0x91, 0x49, 0xda, 0x25, 0x55, 0xca, 0x0b, 0xfc}

const testKallsyms = "ffffffff81000000 T _text\nffffffff820a8770 t __udp4_lib_rcv\n"

// cacheDir makes a perf build-id cache holding testKallsyms for id, with
// the layout perf buildid-cache makes, or only its .build-id link.
func cacheDir(t *testing.T, id string, linkOnly bool) string {
	t.Helper()
	dir := t.TempDir()
	entry := filepath.Join(dir, "[kernel.kallsyms]", id)
	if linkOnly {
		entry = filepath.Join(dir, "elsewhere", id)
	}
	if err := os.MkdirAll(entry, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(entry, "kallsyms"), []byte(testKallsyms), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".build-id", id[:2], id[2:])
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(filepath.Dir(link), entry)
	if err := os.Symlink(rel, link); err != nil {
		t.Fatal(err)
	}
	return dir
}

// archiveOf makes a perf archive-like tarball (tar, bzip2) of cache dir,
// with the bzip2 command: Go's compress/bzip2 only decompresses.
func archiveOf(t *testing.T, dir string) string {
	t.Helper()
	bz, err := exec.LookPath("bzip2")
	if err != nil {
		t.Skipf("skipping: no bzip2 command to make a perf archive: %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name, _ = filepath.Rel(dir, p)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil || tw.Close() != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bz, "-c")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "perf.data.tar.bz2")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindKallsyms(t *testing.T) {
	id := hex.EncodeToString(testBuildID)
	other := strings.Repeat("ab", 20)
	given := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(given, []byte(testKallsyms), 0o644); err != nil {
		t.Fatal(err)
	}
	full, linkOnly, wrong := cacheDir(t, id, false), cacheDir(t, id, true), cacheDir(t, other, false)
	// The archive lists files in name order: "+dir" sorts before ".build-id".
	lateLink := cacheDir(t, id, true)
	if err := os.Rename(filepath.Join(lateLink, "elsewhere"), filepath.Join(lateLink, "+dir")); err != nil {
		t.Fatal(err)
	}
	lnk := filepath.Join(lateLink, ".build-id", id[:2], id[2:])
	if err := os.Remove(lnk); err != nil || os.Symlink(filepath.Join("..", "..", "+dir", id), lnk) != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		meta     Meta
		opts     KallsymsOptions
		env      string // PERF_BUILDID_DIR
		wantFrom string // substring
		wantErr  string // substring; the error must wrap ErrNoKallsyms
	}{
		{name: "--kallsyms file", opts: KallsymsOptions{File: given, BuildIDDir: wrong}, wantFrom: given},
		{name: "own tracing data", meta: Meta{Tracing: &TracingData{Kallsyms: []byte(testKallsyms)}}, wantFrom: "tracing data"},
		{name: "cache entry", opts: KallsymsOptions{BuildIDDir: full}, wantFrom: filepath.Join(full, "[kernel.kallsyms]", id)},
		{name: "cache link", opts: KallsymsOptions{BuildIDDir: linkOnly}, wantFrom: filepath.Join(linkOnly, ".build-id")},
		{name: "PERF_BUILDID_DIR", env: full, wantFrom: full},
		{name: "archive", opts: KallsymsOptions{Archive: "archive:full", BuildIDDir: wrong}, wantFrom: ".tar.bz2"},
		{name: "archive with the link only", opts: KallsymsOptions{Archive: "archive:link", BuildIDDir: wrong}, wantFrom: ".tar.bz2"},
		{name: "archive with the link after its target", opts: KallsymsOptions{Archive: "archive:late-link", BuildIDDir: wrong}, wantFrom: ".tar.bz2"},
		{name: "archive of another kernel", opts: KallsymsOptions{Archive: "archive:wrong", BuildIDDir: wrong},
			wantErr: "build-id " + id + " found in none of"},
		{name: "cache of another kernel", opts: KallsymsOptions{BuildIDDir: wrong}, wantErr: wrong},
		{name: "no build-id", meta: Meta{KernelBuildID: []byte{}}, opts: KallsymsOptions{BuildIDDir: full}, wantErr: "no kernel build-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PERF_BUILDID_DIR", tt.env)
			switch tt.opts.Archive {
			case "archive:full":
				tt.opts.Archive = archiveOf(t, full)
			case "archive:link":
				tt.opts.Archive = archiveOf(t, linkOnly)
			case "archive:late-link":
				tt.opts.Archive = archiveOf(t, lateLink)
			case "archive:wrong":
				tt.opts.Archive = archiveOf(t, wrong)
			}
			f := &File{Meta: tt.meta}
			if f.Meta.KernelBuildID == nil {
				f.Meta.KernelBuildID = testBuildID
			}
			text, from, err := FindKallsyms(f, tt.opts)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoKallsyms) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrNoKallsyms with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != testKallsyms || !strings.Contains(from, tt.wantFrom) {
				t.Errorf("got %q from %s, want testKallsyms from %s", text, from, tt.wantFrom)
			}
		})
	}
}
