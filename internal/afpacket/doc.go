// Package afpacket reads the packets of one network interface from an
// AF_PACKET socket with a TPACKET_V3 receive ring: the kernel writes
// packets into blocks of a ring shared with this process through mmap, and
// hands over whole blocks. Reader.Read waits for a block with at most one
// poll, gives each packet to a callback as a Frame whose bytes are a view
// into the ring, and returns the block to the kernel: no system call and no
// allocation per packet. Packets the ring had no room for are counted by
// the kernel and reported by Reader.Stats, never lost silently.
//
// The socket is bound to the interface only once the ring (and an optional
// BPF socket filter, Options.Filter) is in place, so that nothing from
// other interfaces, and nothing the filter did not see, ever reaches it.
package afpacket
