package samples

import (
	"embed"
	"fmt"
)

// objects holds the committed BPF objects, so that a Go package can load one
// without knowing where the checkout is (bpf/ cannot hold a Go package: the
// go tool refuses .c files in a package that does not use cgo).
//
//go:embed bpf/*.bpf.o
var objects embed.FS

// Object returns the bytes of the committed BPF object bpf/name, for example
// Object("flowdissect.bpf.o"). The slice is a fresh copy the caller may keep.
// For a name that is not committed the error matches fs.ErrNotExist.
func Object(name string) ([]byte, error) {
	b, err := objects.ReadFile("bpf/" + name)
	if err != nil {
		return nil, fmt.Errorf("sample object %s: %w", name, err)
	}
	return b, nil
}
