package kernelverdict

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/rlimit"
)

// childEnv marks a process started by a Loader to serve programs.
const childEnv = "DROPMON_KERNELVERDICT_CHILD"

// hello is the child's first message: who it runs as, so that the parent
// can check it holds the capabilities its mode promises and no others.
type hello struct {
	UID    int
	CapEff uint64
	Err    string
}

// The children are copies of the parent's executable; this turns such a
// copy into a server before the program's own main (or a test binary's
// flag parsing) runs.
func init() {
	if os.Getenv(childEnv) == "" {
		return
	}
	if err := serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kernelverdict child: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serve answers requests from r on w until r ends.
func serve(r io.Reader, w io.Writer) error {
	_ = rlimit.RemoveMemlock() // kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK
	bw := bufio.NewWriter(w)
	enc := gob.NewEncoder(bw)
	dec := gob.NewDecoder(bufio.NewReader(r))
	h := hello{UID: os.Getuid()}
	if c, err := effectiveCaps(); err != nil {
		h.Err = err.Error()
	} else {
		h.CapEff = c
	}
	if err := send(enc, bw, &h); err != nil {
		return err
	}
	for {
		var req request
		if err := dec.Decode(&req); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		resp := load(&req)
		if err := send(enc, bw, &resp); err != nil {
			return err
		}
	}
}

func send(enc *gob.Encoder, bw *bufio.Writer, v any) error {
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write answer: %w", err)
	}
	return bw.Flush()
}

// effectiveCaps reads CapEff from /proc/self/status.
func effectiveCaps() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no CapEff in /proc/self/status")
}
