// Package protocount builds the program of samples/sockex, the first sample
// of the 2014 eBPF RFC: a socket filter that counts the packets, and their
// bytes, of each IP protocol in an array map, reading the protocol byte
// with LD_ABS. Program builds it with cilium/ebpf's asm package;
// FromObject loads the same logic written in C (samples/bpf/sockex.bpf.c).
// Both are checked by dropmon's verifier and load in the kernel; Read
// turns the map's entries into TCP, UDP and other totals.
package protocount
