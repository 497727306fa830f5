// SPDX-License-Identifier: GPL-2.0
/*
 * The 2014 eBPF RFC's first sample, as samples/sockex runs it: a socket
 * filter that counts, per IP protocol, the packets an AF_PACKET socket
 * sees and their bytes, skipping the ones the interface sends. It reads
 * the protocol byte with LD_ABS: the IPv4 header's protocol, or the IPv6
 * header's first next header (extension headers are not followed).
 * Packets that are neither count under key 255 ("Reserved" in IANA's
 * protocol numbers). It returns 0, so the socket itself queues nothing.
 * The same logic as protocount.Program, built with cilium/ebpf's asm
 * package. Build with scripts/build-samples.sh.
 */
#include "bpf_defs.h"

/* The head of struct __sk_buff (include/uapi/linux/bpf.h) up to protocol. */
struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol; /* the EtherType, network order */
};

_Static_assert(__builtin_offsetof(struct __sk_buff, pkt_type) == 4, "__sk_buff.pkt_type");
_Static_assert(__builtin_offsetof(struct __sk_buff, protocol) == 16, "__sk_buff.protocol");

/*
 * LD_ABS: clang emits it for this LLVM intrinsic, the byte at off in the
 * packet of the skb in R6 (the kernel ends the program with 0 when off is
 * past the packet's end).
 */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

#define BPF_MAP_TYPE_ARRAY 2 /* enum bpf_map_type */
#define PACKET_OUTGOING 4    /* linux/if_packet.h */
#define ETH_HLEN 14
#define KEY_NOT_IP 255

/* htons for the constants compared with skb->protocol (a little-endian BPF target). */
#define ETH_P_IP_BE 0x0008   /* htons(0x0800) */
#define ETH_P_IPV6_BE 0xDD86 /* htons(0x86DD) */

struct proto_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct proto_count);
} proto_counts SEC(".maps");

SEC("socket")
int count_protos(struct __sk_buff *skb)
{
	struct proto_count *count;
	__u32 key;

	if (skb->pkt_type == PACKET_OUTGOING)
		return 0;
	if (skb->protocol == ETH_P_IP_BE)
		key = load_byte(skb, ETH_HLEN + 9);
	else if (skb->protocol == ETH_P_IPV6_BE)
		key = load_byte(skb, ETH_HLEN + 6);
	else
		key = KEY_NOT_IP;

	count = bpf_map_lookup_elem(&proto_counts, &key);
	if (count) {
		__sync_fetch_and_add(&count->packets, 1);
		__sync_fetch_and_add(&count->bytes, skb->len);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
