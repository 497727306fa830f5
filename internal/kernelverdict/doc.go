// Package kernelverdict loads programs into the running kernel and reports
// what its verifier made of them: the kernel as the oracle for dropmon's
// own verifier. A Loader loads as root in-process (Privileged), or hands
// the program to a long-lived child process that runs as an unprivileged
// user, with CAP_BPF but without CAP_PERFMON (BPFOnly) or without any BPF
// capability (Unprivileged, which needs kernel.unprivileged_bpf_disabled
// lowered to 0 for as long as the Loader is open; it is restored on Close
// and on SIGINT or SIGTERM).
//
// The children are copies of the calling executable: any binary that
// imports this package serves programs on stdin and stdout when started
// with DROPMON_KERNELVERDICT_CHILD set (see init in child.go).
package kernelverdict
