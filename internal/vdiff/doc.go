// Package vdiff compares dropmon's verifier with the running kernel's on
// the programs of package vgen, in each kernelverdict.Mode: the verdicts,
// and for programs both reject, the instruction each blames. It backs
// verifier's TestDifferential and scripts/verifier-diff, which also
// shrinks every disagreement and writes it to a report.
package vdiff
