// Package samples holds dropmon's example programs: small commands that show
// how the packages fit together, and (as they arrive) the eBPF programs that
// dropmon runs.
package samples
