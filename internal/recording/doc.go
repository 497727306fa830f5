// Package recording is dropmon's file of drops: the skb:kfree_skb samples a
// run read from its rings, written as a perf.data file (internal/perfdata)
// so that perf script and perf report read it too, with what another
// machine needs to replay them (the tracepoint's format, the kallsyms
// entries of the addresses seen, the kernel release, the clock) and the
// report boundaries: samples of a second event, "dropmon:report", whose
// time is the boundary on the samples' clock and whose raw data says when
// the live report was made, the CPUs watched and the records each had
// lost. Replaying a recording therefore gives the live run's reports.
package recording
