package recording

import (
	"fmt"
	"os"
	"strings"

	"github.com/dropmon/dropmon/internal/perfdata"
	"github.com/dropmon/dropmon/perfring"
	"github.com/dropmon/dropmon/tracepoint"
)

// Capture is an opened recording: dropmon's, or a capture of perf record
// (perf record -e skb:kfree_skb -a), which has no markers.
type Capture struct {
	File    *perfdata.File
	Path    string
	Formats map[string]*tracepoint.Format // by GROUP:NAME, from the capture's tracing data
	// Dropmon reports whether the capture has report boundaries: a
	// recording of dropmon record.
	Dropmon bool

	file   *os.File
	events map[int]string // attr index -> GROUP:NAME of tracepoint attrs
	marker int            // attr index of the markers, -1 without
}

// Open opens a recording and reads its formats.
func Open(path string) (_ *Capture, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer func() {
		if err != nil {
			file.Close()
		}
	}()
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	f, err := perfdata.Open(file, info.Size())
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", path, err)
	}
	c := &Capture{File: f, Path: path, file: file, Formats: map[string]*tracepoint.Format{}, events: map[int]string{}, marker: -1}
	if f.Meta.Tracing == nil && f.Meta.OSRelease == "" && f.Meta.Version == "" {
		return nil, fmt.Errorf("replay %s: the file has no feature sections: the recording was not finished (dropmon record or perf record killed before it ended; Ctrl-C or SIGTERM end a recording properly)", path)
	}
	if f.Meta.Tracing == nil {
		return nil, fmt.Errorf("replay %s: the file has no tracepoint formats (HEADER_TRACING_DATA): record tracepoints, as perf record -e skb:kfree_skb -a or dropmon record do", path)
	}
	byID := map[uint64]*tracepoint.Format{}
	for _, ev := range f.Meta.Tracing.Events {
		name := formatName(ev.Format)
		format, err := tracepoint.ParseFormat(ev.System, name, ev.Format)
		if err != nil {
			return nil, fmt.Errorf("replay %s: format of %s:%s: %w", path, ev.System, name, err)
		}
		c.Formats[ev.System+":"+format.Name] = format
		byID[uint64(format.ID)] = format
	}
	for i, a := range f.Attrs {
		switch {
		case a.Name == MarkerEvent:
			c.marker, c.Dropmon = i, true
		case a.Attr.Type == 2: // PERF_TYPE_TRACEPOINT
			if format := byID[a.Attr.Config]; format != nil {
				c.events[i] = format.Group + ":" + format.Name
			}
		}
	}
	if len(c.events) == 0 {
		return nil, fmt.Errorf("replay %s: no tracepoint event of the file has its format in the file", path)
	}
	return c, nil
}

// formatName reads the "name: NAME" line of a format file.
func formatName(text []byte) string {
	for _, line := range strings.Split(string(text), "\n") {
		if name, ok := strings.CutPrefix(line, "name: "); ok {
			return strings.TrimSpace(name)
		}
	}
	return ""
}

// Close closes the file.
func (c *Capture) Close() error { return c.file.Close() }

// Events names the capture's tracepoints, as GROUP:NAME.
func (c *Capture) Events() []string {
	var out []string
	for _, name := range c.events {
		out = append(out, name)
	}
	return out
}

// Format returns the format of GROUP:NAME in the capture: the
// formatOf of monitor.StartOffline.
func (c *Capture) Format(group, name string) (*tracepoint.Format, error) {
	if f := c.Formats[group+":"+name]; f != nil {
		return f, nil
	}
	return nil, fmt.Errorf("%s has no tracepoint %s:%s (it has %s)", c.Path, group, name, strings.Join(c.Events(), ", "))
}

// Event is one step of a replay, in time order: a sample of a tracepoint,
// records lost on a CPU, or a report boundary.
type Event struct {
	Tracepoint string           // GROUP:NAME of a sample
	Record     *perfring.Record // the sample, as a ring gives it (for a lost-records event: CPU and Lost)
	Marker     *Marker          // a boundary
}

// Walk calls fn with each sample, lost-records record and marker in time
// order. The Event and what it points to are valid until fn returns.
func (c *Capture) Walk(fn func(*Event) error) error {
	var ev Event
	var rec perfring.Record
	return c.File.SortedRecords(func(r *perfdata.Record) error {
		ev = Event{}
		switch r.Type {
		case perfdata.RecordSample:
			if r.Attr == c.marker && c.marker >= 0 {
				m, err := decodeMarker(r.Sample.Raw, r.Sample.Time)
				if err != nil {
					return fmt.Errorf("%s at offset %d: %w", c.Path, r.Offset, err)
				}
				ev.Marker = m
				return fn(&ev)
			}
			tp, ok := c.events[r.Attr]
			if !ok {
				return nil // perf's own events (a dummy tracking event, ...)
			}
			rec = perfring.Record{Type: perfring.RecordSample, CPU: int(r.Sample.CPU), Pid: r.Sample.Pid, Tid: r.Sample.Tid,
				Time: r.Sample.Time, ID: r.Sample.ID, Callchain: r.Sample.Callchain, Raw: r.Sample.Raw}
			ev.Tracepoint, ev.Record = tp, &rec
			return fn(&ev)
		case perfdata.RecordLost:
			if _, ok := c.events[r.Attr]; !ok && r.Attr >= 0 {
				return nil
			}
			rec = perfring.Record{Type: perfring.RecordLost, CPU: int(r.Sample.CPU), Lost: r.Lost, Time: r.Sample.Time}
			ev.Record = &rec
			return fn(&ev)
		}
		return nil
	})
}
