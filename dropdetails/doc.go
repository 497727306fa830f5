// Package dropdetails is the drop counter with packet details: a C program
// (samples/bpf/dropdetails.bpf.c) that runs inside the kernel on
// skb:kfree_skb and, besides counting each drop per location and reason as
// package dropcount's programs do, reads the dropped struct sk_buff through
// the kernel's BTF (CO-RE, no kernel headers) and counts it per flow: the
// network namespace, the interface, the 5-tuple, the mark.
//
// The flows live in a bounded LRU hash map. The kernel evicts the least
// recently used flow when it is full and says nothing; the program counts
// the flows it inserts, so that evictions are inserted flows minus those
// present, and never pass unseen (Stats).
//
// The filters (Filter) are applied by the program before it counts: a drop
// they reject is in neither map. Reading kernel memory is something only
// the kernel can do, so the program runs on the kernel engine only.
package dropdetails
