// Package tracepoint attaches to Linux kernel tracepoints from Go, without
// cgo or BPF. It finds tracefs (mounting it when it is missing and the caller
// may), parses an event's format file into field offsets and symbol tables,
// and opens the event as one perf event per CPU whose records are read with
// package perfring. Fields are resolved by name once and then read from each
// record's raw bytes at fixed offsets.
package tracepoint
