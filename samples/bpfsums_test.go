package samples_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBPFObjectsFresh checks that every C sample's object was built from
// the source committed beside it: scripts/build-samples.sh records the
// SHA-256 of each source and header in bpf/bpf.sums when it builds them.
func TestBPFObjectsFresh(t *testing.T) {
	sums := readSums(t, filepath.Join("bpf", "bpf.sums"))
	sources, err := filepath.Glob(filepath.Join("bpf", "*.bpf.c"))
	if err != nil {
		t.Fatal(err)
	}
	headers, err := filepath.Glob(filepath.Join("bpf", "*.h"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatal("no samples/bpf/*.bpf.c")
	}
	var changedHeaders []string
	for _, h := range headers {
		if name := filepath.Base(h); !checkSum(t, h, sums[name]) {
			changedHeaders = append(changedHeaders, name)
		}
	}
	for _, src := range sources {
		obj := strings.TrimSuffix(src, ".c") + ".o"
		if _, err := os.Stat(obj); err != nil {
			t.Errorf("samples/%s is missing: run scripts/build-samples.sh", filepath.ToSlash(obj))
			continue
		}
		changed := changedHeaders
		if name := filepath.Base(src); !checkSum(t, src, sums[name]) {
			changed = append([]string{name}, changed...)
		}
		if len(changed) > 0 {
			t.Errorf("samples/%s is stale (%s changed): run scripts/build-samples.sh",
				filepath.ToSlash(obj), strings.Join(changed, ", "))
		}
	}
}

// readSums reads sha256sum's output: "HASH  name" per line.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v: run scripts/build-samples.sh", err)
	}
	defer f.Close()
	sums := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		hash, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(hash) != 2*sha256.Size {
			t.Fatalf("%s: malformed line %q", path, sc.Text())
		}
		sums[name] = hash
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sums
}

// checkSum reports whether the file hashes to want (false when want is
// empty: the file is not recorded).
func checkSum(t *testing.T, path, want string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return want != "" && hex.EncodeToString(sum[:]) == want
}
