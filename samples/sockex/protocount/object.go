package protocount

import (
	"fmt"

	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/samples"
)

// ObjectName is the committed object of the C version, built from
// samples/bpf/sockex.bpf.c by scripts/build-samples.sh.
const ObjectName = "sockex.bpf.o"

// FromObject returns the counter written in C: the program of the
// committed object (embedded in package samples). It has the same name,
// map and logic as Program.
func FromObject() (*program.Program, error) {
	obj, err := samples.Object(ObjectName)
	if err != nil {
		return nil, err
	}
	p, err := program.FromELFBytes(obj, ObjectName, "socket", ProgramName, nil)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ObjectName, err)
	}
	return p, nil
}
