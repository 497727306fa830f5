// Package samples holds dropmon's example programs: countdrops, the
// smallest user of the tracepoint and perfring packages, and, in bpf/, the
// eBPF programs written in C. bpf/dropcount.bpf.c is the drop counter of
// package dropcount in C: it reads the record through CO-RE, so that its one
// object, bpf/dropcount.bpf.o, runs on every kernel once
// program.FromELFWithOptions has relocated it against that kernel's BTF.
// scripts/build-samples.sh rebuilds the objects with clang and records the
// sources' hashes in bpf/bpf.sums; a test fails when an object is stale.
// (The C sources sit in bpf/ because the go tool refuses .c files in a
// package that does not use cgo.) Object returns a committed object's bytes,
// embedded in this package.
//
// The seed's two other samples live beside it: sockex, the socket program
// counting TCP and UDP packets on an interface (asm and bpf/sockex.bpf.c),
// and flowdissect, the flow dissector benchmark (bpf/flowdissect.bpf.c,
// the same logic in Go and, in scripts/flowdissect-c, in C).
package samples
