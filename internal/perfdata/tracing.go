package perfdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TracingData is HEADER_TRACING_DATA: what perf needs from tracefs to print
// tracepoint records (the layout of tools/perf/util/trace-event-info.c,
// version 0.6).
type TracingData struct {
	HeaderPage, HeaderEvent []byte // tracefs events/header_page, events/header_event
	// Events are written grouped by system, systems in order of first
	// appearance, as the format stores them.
	Events []EventFormat
	// Kallsyms is /proc/kallsyms-format text ("ADDR TYPE NAME [MODULE]\n").
	// perf writes none and skips it when reading; dropmon stores the
	// symbols of the addresses it saw.
	Kallsyms []byte
}

// EventFormat is the format file of one tracepoint, events/System/NAME/format.
type EventFormat struct {
	System string
	Format []byte
}

// tracingMagic opens the tracing data: 0x17 0x08 0x44 "tracing".
var tracingMagic = []byte("\x17\x08\x44tracing")

const tracingVersion = "0.6"

// encode writes t in the version 0.6 layout: magic, version, endianness,
// sizeof(long), page size, header_page, header_event, ftrace formats
// (none), event formats grouped by system, kallsyms, printk formats (none)
// and saved cmdlines (none).
func (t *TracingData) encode() []byte {
	b := append([]byte(nil), tracingMagic...)
	b = append(b, tracingVersion...)
	b = append(b, 0)
	b = append(b, 0) // little-endian
	b = append(b, 8) // sizeof(long)
	b = le.AppendUint32(b, uint32(os.Getpagesize()))
	b = append(b, "header_page\x00"...)
	b = le.AppendUint64(b, uint64(len(t.HeaderPage)))
	b = append(b, t.HeaderPage...)
	b = append(b, "header_event\x00"...)
	b = le.AppendUint64(b, uint64(len(t.HeaderEvent)))
	b = append(b, t.HeaderEvent...)
	b = le.AppendUint32(b, 0) // ftrace formats
	var systems []string
	bySystem := map[string][][]byte{}
	for _, e := range t.Events {
		if _, ok := bySystem[e.System]; !ok {
			systems = append(systems, e.System)
		}
		bySystem[e.System] = append(bySystem[e.System], e.Format)
	}
	b = le.AppendUint32(b, uint32(len(systems)))
	for _, sys := range systems {
		b = append(b, sys...)
		b = append(b, 0)
		b = le.AppendUint32(b, uint32(len(bySystem[sys])))
		for _, f := range bySystem[sys] {
			b = le.AppendUint64(b, uint64(len(f)))
			b = append(b, f...)
		}
	}
	b = le.AppendUint32(b, uint32(len(t.Kallsyms)))
	b = append(b, t.Kallsyms...)
	b = le.AppendUint32(b, 0) // printk formats
	b = le.AppendUint64(b, 0) // saved cmdlines
	return b
}

// decodeTracing reads tracing data of version 0.5 or 0.6 written by perf or
// by encode. The slices it returns are copies.
func decodeTracing(b []byte) (*TracingData, error) {
	d := decoder{b: b}
	if m := d.bytes(len(tracingMagic)); d.err == nil && string(m) != string(tracingMagic) {
		return nil, errors.New("tracing data: bad magic")
	}
	version := d.cstr()
	if d.err == nil && version != "0.5" && version != "0.6" {
		return nil, fmt.Errorf("tracing data: version %q, expected 0.5 or 0.6", version)
	}
	if bigEndian := d.u8(); d.err == nil && bigEndian != 0 {
		return nil, errors.New("tracing data: big-endian, not supported")
	}
	d.u8()  // sizeof(long)
	d.u32() // page size
	t := &TracingData{}
	t.HeaderPage = d.named("header_page")
	t.HeaderEvent = d.named("header_event")
	for n := d.count(8); n > 0 && d.err == nil; n-- { // ftrace formats
		d.blob64()
	}
	for n := d.count(5); n > 0 && d.err == nil; n-- {
		sys := d.cstr()
		for m := d.count(8); m > 0 && d.err == nil; m-- {
			t.Events = append(t.Events, EventFormat{System: sys, Format: clone(d.blob64())})
		}
	}
	if n := d.count(1); d.err == nil {
		t.Kallsyms = clone(d.bytes(n))
	}
	if n := d.count(1); d.err == nil { // printk formats
		d.bytes(n)
	}
	if d.err != nil {
		return nil, fmt.Errorf("tracing data: %w", d.err)
	}
	return t, nil
}

// named reads a section name, NUL-terminated, then a u64 size and content.
func (d *decoder) named(want string) []byte {
	if got := d.cstr(); d.err == nil && got != want {
		d.err = fmt.Errorf("section %q where %q was expected", got, want)
	}
	return clone(d.blob64())
}

// blob64 reads a u64 size and that many bytes.
func (d *decoder) blob64() []byte {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.b)-d.off) {
		d.err = fmt.Errorf("size %d at %d overruns the %d bytes left", n, d.off-8, len(d.b)-d.off)
		return nil
	}
	return d.bytes(int(n))
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// ReadTracingFromTracefs reads header_page, header_event and the format of
// each event ("skb/kfree_skb") from tracefs mounted at tracefsDir
// (usually /sys/kernel/tracing).
func ReadTracingFromTracefs(tracefsDir string, events ...string) (*TracingData, error) {
	read := func(rel string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(tracefsDir, "events", rel))
		if err != nil {
			return nil, fmt.Errorf("read tracing data: %w (is tracefs mounted at %s, and are you root?)", err, tracefsDir)
		}
		return b, nil
	}
	t := &TracingData{}
	var err error
	if t.HeaderPage, err = read("header_page"); err != nil {
		return nil, err
	}
	if t.HeaderEvent, err = read("header_event"); err != nil {
		return nil, err
	}
	for _, ev := range events {
		sys, name, ok := strings.Cut(ev, "/")
		if !ok || !validName(sys) || !validName(name) {
			return nil, fmt.Errorf("read tracing data: event %q is not SYSTEM/NAME (e.g. skb/kfree_skb)", ev)
		}
		f, err := read(filepath.Join(sys, name, "format"))
		if err != nil {
			return nil, err
		}
		t.Events = append(t.Events, EventFormat{System: sys, Format: f})
	}
	return t, nil
}

// validName reports whether s can name a tracefs directory entry.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.Contains(s, "/")
}
