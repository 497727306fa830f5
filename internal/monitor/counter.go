package monitor

import (
	"encoding/binary"
	"fmt"

	"github.com/dropmon/dropmon/dropcount"
	"github.com/dropmon/dropmon/internal/report"
	"github.com/dropmon/dropmon/program"
	"github.com/dropmon/dropmon/tracepoint"
)

// Counter is what a monitor runs and reads: a program for one tracepoint,
// built for the running kernel's format of it, and the map the program
// counts in, with how to read its entries. The monitor knows nothing else
// about the program; DropCounter is dropmon's.
type Counter struct {
	Group, Name string // the tracepoint, such as skb and kfree_skb
	// Build makes the program for the tracepoint's format on this kernel;
	// maxEntries sizes its map.
	Build func(format *tracepoint.Format, maxEntries uint32) (*program.Program, error)
	// Map names the map Counts reads.
	Map string
	// Decode turns one entry of that map into a report key and a count.
	Decode func(key, value []byte) (report.Key, uint64, error)
}

// DropCounter counts skb:kfree_skb records per location and reason with
// dropcount.Program.
var DropCounter = &Counter{
	Group: "skb",
	Name:  "kfree_skb",
	Build: dropcount.Program,
	Map:   dropcount.MapName,
	Decode: func(key, value []byte) (report.Key, uint64, error) {
		k, err := dropcount.DecodeKey(key)
		if err != nil {
			return report.Key{}, 0, err
		}
		if len(value) != 8 {
			return report.Key{}, 0, fmt.Errorf("value of %d bytes, want 8", len(value))
		}
		return report.Key{Location: k.Location, Reason: k.Reason}, binary.NativeEndian.Uint64(value), nil
	},
}

// Tracepoint names the counter's tracepoint as GROUP:NAME.
func (c *Counter) Tracepoint() string { return c.Group + ":" + c.Name }

// build reads the tracepoint's format and builds the program for it.
func (c *Counter) build(maxEntries uint32) (*tracepoint.Format, *program.Program, error) {
	format, err := tracepoint.ReadFormat(c.Group, c.Name)
	if err != nil {
		return nil, nil, err
	}
	prog, err := c.Build(format, maxEntries)
	if err != nil {
		return nil, nil, err
	}
	return format, prog, nil
}

// mapIndex finds the counter's map among the program's.
func (c *Counter) mapIndex(prog *program.Program) (int, error) {
	for i, m := range prog.Maps {
		if m.Name == c.Map {
			return i, nil
		}
	}
	return -1, fmt.Errorf("program %s has no map %s", prog.Name, c.Map)
}
