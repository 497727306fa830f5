// Package dropcount is dropmon's drop counter, the seed's second sample: a
// tracepoint program for skb:kfree_skb that counts drops per location and
// reason in a hash map. Program builds it with cilium/ebpf's asm package for
// the field offsets of the running kernel's format; the same counter in C,
// which reads the record through CO-RE, is samples/bpf/dropcount.bpf.c. Key
// and DecodeKey read the map both write. StackProgram is the same counter
// with each drop's kernel call chain (bpf_get_stackid) in the key, for
// --stacks; Program stays as it was, so counting without stacks costs
// nothing more. The monitor runs it as one Counter
// among any others (internal/monitor.DropCounter). Filter says which drops
// to count, as an ftrace filter expression or as instructions to put before
// the program; ParseReasons names reasons from the kernel's own table.
package dropcount
