// Package perfring reads the per-CPU perf ring buffers that the kernel maps
// with mmap (perf_event_open(2)), one Ring per CPU and a Reader over one or
// many of them. It handles records that wrap around the end of the ring,
// counts and returns PERF_RECORD_LOST notifications, decodes samples once at
// the edge into a Record whose slices are views into the ring, and allocates
// nothing per record. It is Linux only.
package perfring

// The ring protocol, from include/uapi/linux/perf_event.h and
// kernel/events/ring_buffer.c: the kernel writes records at data_head
// (modulo data_size), then publishes data_head; we load it with acquire
// semantics, read the records below it, and publish data_tail with release
// semantics when we no longer need their bytes. A Reader publishes a
// record's tail at the start of the next read, which is what keeps the
// record's views valid until then. The kernel never overwrites unread
// records in this (read-write) mapping; it drops them and reports how many in
// the next PERF_RECORD_LOST. RATIONALE.md records the choices argued over.
