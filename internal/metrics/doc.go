// Package metrics exports dropmon's counts to Prometheus: drops by location
// and reason, lost and seen records, build and engine info, and the Go
// runtime's and the process's own metrics, on a registry of its own. The
// drop series are bounded: the first MaxSeries (location, reason) pairs keep
// their own series for the life of the process, later ones are counted under
// location "other" with their reason, so every series only ever grows, as a
// Prometheus counter must, and a host with many drop sites cannot flood the
// server that scrapes it. The reason is kept because it still says why, and
// the kernel's reasons are a fixed table (112 on Linux 6.18): at most
// MaxSeries series plus one per reason.
package metrics
