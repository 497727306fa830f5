// Package netnstest gives privileged tests a network of their own: a fresh
// network namespace holding a veth pair with IPv6 and offloads off, a way
// to run code with the calling thread inside that namespace, and a crafter
// that sends an exact number of TCP and UDP frames from one end to the
// other. Nothing it does touches the host's interfaces, and everything it
// makes is removed when the test ends.
//
// Whether a test may run is decided by trying (creating the namespace), not
// by the uid: a permission error skips the test, or fails it when
// DROPMON_REQUIRE_PRIVILEGED=1 (see internal/testutil).
package netnstest
