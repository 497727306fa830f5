// Package flowdissect is dropmon's flow dissector benchmark, the seed's
// headline number: the 2014 eBPF RFC measured an eBPF flow dissector at
// 51 ns per packet JIT-compiled against 42 ns for the same logic in C.
//
// One dissector exists three times: samples/bpf/flowdissect.h compiled to
// BPF (samples/bpf/flowdissect.bpf.o, a flow_dissector program) and with gcc
// (scripts/flowdissect-c), and Dissect, the same logic in allocation-free
// Go. Kernel runs the object through BPF_PROG_TEST_RUN. Corpus is a packet
// corpus covering every path, malformed frames included, on which all of
// them must give the same verdict and the same 56 bytes of
// struct bpf_flow_keys; Distinct generates the many different packets of the
// benchmark's "different" case.
//
// The benchmark, BenchmarkFlowDissector/{engine}/{same,different}, and the C
// row beside it:
//
//	go test -run '^$' -bench FlowDissector ./samples/flowdissect
//	scripts/bench-flowdissect-c.sh
//
// Each row is ns per frame, memset, dissection and clamping included, as
// the kernel's bpf_flow_dissect does them; the kernel row is the kernel's own
// timing, and reports beside it (empty-ns/op) the same for a program that
// returns at once, which is the test run's cost around the program.
package flowdissect
