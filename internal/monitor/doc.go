// Package monitor wires dropmon's data path together: the skb:kfree_skb
// tracepoint on every CPU, one goroutine that reads every CPU's ring in
// batches and runs the drop-counting program on an engine, and the
// program's map, which the caller reads every interval after Flush has run
// what the rings hold. It is what the dropmon command runs, and what its
// tests drive directly (with a pid filter, for exact counts). A
// dropcount.Filter in the Config becomes the tracepoint's ftrace filter on
// the user-space engines and the program's first instructions on the
// kernel engine. StackDropCounter also reads each count's call chain from
// the program's stack trace map (in user space or in the kernel); on the
// user-space engines its records carry the kernel's callchain
// (PERF_SAMPLE_CALLCHAIN), from which bpf_get_stackid takes the chain.
package monitor
