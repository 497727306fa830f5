/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow dissector of dropmon's benchmark, written once and compiled
 * twice: to BPF by flowdissect.bpf.c (clang -target bpf), and to the host by
 * scripts/flowdissect-c (gcc -O2), so that the C row of the benchmark runs
 * the very logic the engines run. samples/flowdissect/dissect.go is the same
 * logic in Go; the three must agree byte for byte on every frame.
 *
 * The includer defines __u8, __u16, __u32 and __u64. Packet memory is only
 * read between data and data_end, each read after a bounds check the BPF
 * verifier can follow (a packet pointer compared with data_end), with
 * offsets kept bounded so that no pointer can leave the 64 KiB the verifier
 * allows. (In host C a pointer formed past the end is undefined behaviour
 * in principle; gcc compiles these checks as the offset comparisons they
 * are, and the C test compares its every result with Go's.)
 *
 * What the dissector does, in the vocabulary of include/uapi/linux/bpf.h:
 *  - up to two VLAN tags (802.1Q 0x8100 or 802.1ad 0x88a8, in any order);
 *    a third tag is BPF_DROP;
 *  - IPv4: version 4, IHL >= 5, the whole header (with options) inside the
 *    frame; is_frag when MF or a fragment offset is set, is_first_frag when
 *    the offset is 0; a later fragment has no transport header, so no ports;
 *  - IPv6: version 6, the flow label, then at most FD_MAX_EXTHDRS extension
 *    headers among hop-by-hop (0), routing (43), destination options (60)
 *    and fragment (44); one more is BPF_DROP; a fragment header with a
 *    non-zero offset ends the walk as for IPv4;
 *  - TCP (data offset >= 5, the whole header present) and UDP give sport and
 *    dport; ICMP and ICMPv6 must have their 8-byte header but give no ports
 *    (the kernel's flow keys keep ICMP type and code in another key, which
 *    struct bpf_flow_keys lacks); any other protocol is accepted as is;
 *  - no tunnels: is_encap stays 0; flags is never read (the first fragment's
 *    transport header is always parsed, as with
 *    BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG).
 * Any other network protocol, and any header cut short, is BPF_DROP.
 *
 * Keys are written as the dissector learns them: the addresses (and the
 * IPv6 flow label) as soon as the IP header is known to be whole, all other
 * fields once the frame has been dissected. A dropped frame may therefore
 * leave the addresses behind; the kernel ignores keys after BPF_DROP, but
 * the engines must still agree on them.
 */
#ifndef DROPMON_FLOWDISSECT_H
#define DROPMON_FLOWDISSECT_H

/* enum bpf_ret_code of include/uapi/linux/bpf.h. */
#define BPF_OK 0
#define BPF_DROP 2

/* struct bpf_flow_keys of include/uapi/linux/bpf.h: 56 bytes. */
struct bpf_flow_keys {
	__u16 nhoff;
	__u16 thoff;
	__u16 addr_proto; /* ETH_P_IP or ETH_P_IPV6, host order */
	__u8 is_frag;
	__u8 is_first_frag;
	__u8 is_encap;
	__u8 ip_proto;
	__u16 n_proto; /* network order */
	__u16 sport;   /* network order */
	__u16 dport;   /* network order */
	union {
		struct {
			__u32 ipv4_src;
			__u32 ipv4_dst;
		};
		struct {
			__u32 ipv6_src[4];
			__u32 ipv6_dst[4];
		};
	};
	__u32 flags;
	__u32 flow_label; /* network order */
};

#define FD_ETH_HLEN 14
#define FD_MAX_EXTHDRS 6
/*
 * The network header offset the kernel passes is 14 in BPF_PROG_TEST_RUN and
 * 0 on a receiving device; a larger one is refused, which keeps every packet
 * offset below the verifier's 64 KiB (MAX_PACKET_OFF).
 */
#define FD_MAX_NHOFF 255

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define fd_htons(x) ((__u16)__builtin_bswap16(x))
#define fd_ntohs(x) ((__u16)__builtin_bswap16(x))
#define fd_htonl(x) ((__u32)__builtin_bswap32(x))
#else
#define fd_htons(x) ((__u16)(x))
#define fd_ntohs(x) ((__u16)(x))
#define fd_htonl(x) ((__u32)(x))
#endif

#define FD_ETH_P_IP 0x0800
#define FD_ETH_P_IPV6 0x86DD
#define FD_ETH_P_8021Q 0x8100
#define FD_ETH_P_8021AD 0x88A8

#define FD_IPPROTO_HOPOPTS 0
#define FD_IPPROTO_ICMP 1
#define FD_IPPROTO_TCP 6
#define FD_IPPROTO_UDP 17
#define FD_IPPROTO_ROUTING 43
#define FD_IPPROTO_FRAGMENT 44
#define FD_IPPROTO_ICMPV6 58
#define FD_IPPROTO_DSTOPTS 60

/*
 * Unaligned loads of packet bytes, and stores of several keys at once. BPF's
 * loads may be unaligned on the architectures whose JIT we measure; in host
 * C, memcpy says the same without undefined behaviour (alignment, strict
 * aliasing) and compiles to one load or store.
 */
#ifdef __bpf__
#define fd_ld16(p) (*(const __u16 *)(p))
#define fd_ld32(p) (*(const __u32 *)(p))
#define fd_ld64(p) (*(const __u64 *)(p))
#define fd_st32(p, v) (*(__u32 *)(p) = (v))
#define fd_st64(p, v) (*(__u64 *)(p) = (v))
#else
static inline __u16 fd_ld16(const void *p)
{
	__u16 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}
static inline __u32 fd_ld32(const void *p)
{
	__u32 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}
static inline __u64 fd_ld64(const void *p)
{
	__u64 v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}
static inline void fd_st32(void *p, __u32 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}
static inline void fd_st64(void *p, __u64 v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}
#endif

/* Both compilers unroll the bounded loops, as the BPF build needs no loop. */
#ifdef __clang__
#define FD_UNROLL _Pragma("unroll")
#else
#define FD_UNROLL _Pragma("GCC unroll 8")
#endif

/*
 * fd_dissect dissects the frame between data and data_end into keys, which
 * hold n_proto and nhoff as the kernel set them (bpf_flow_dissect in
 * net/core/flow_dissector.c). It returns BPF_OK or BPF_DROP.
 */
static inline __attribute__((always_inline)) int
fd_dissect(const __u8 *data, const __u8 *data_end, struct bpf_flow_keys *keys)
{
	__u32 nhoff = keys->nhoff;
	__u16 proto = keys->n_proto;
	__u16 addr_proto;
	__u32 thoff, ports = 0;
	__u8 ip_proto, is_frag = 0, is_first_frag = 0, later_frag = 0;
	const __u8 *p;
	int i;

	if (nhoff > FD_MAX_NHOFF)
		return BPF_DROP;

	/* VLAN tags: 802.1ad outside, 802.1Q inside, or any two. */
	FD_UNROLL
	for (i = 0; i < 2; i++) {
		if (proto != fd_htons(FD_ETH_P_8021Q) && proto != fd_htons(FD_ETH_P_8021AD))
			break;
		p = data + nhoff;
		if (p + 4 > data_end)
			return BPF_DROP;
		proto = fd_ld16(p + 2); /* the encapsulated protocol */
		nhoff += 4;
	}

	if (proto == fd_htons(FD_ETH_P_IP)) {
		__u8 vihl;
		__u16 frag;

		p = data + nhoff;
		if (p + 20 > data_end)
			return BPF_DROP;
		vihl = p[0];
		if ((vihl >> 4) != 4 || (vihl & 0xf) < 5)
			return BPF_DROP;
		thoff = nhoff + (__u32)(vihl & 0xf) * 4;
		if (data + thoff > data_end) /* options past the end */
			return BPF_DROP;
		/* saddr and daddr sit side by side, as ipv4_src and ipv4_dst. */
		fd_st64(&keys->ipv4_src, fd_ld64(p + 12));
		ip_proto = p[9];
		addr_proto = FD_ETH_P_IP;
		/* RFC 791: MF (0x2000) or a fragment offset makes a fragment. */
		frag = fd_ntohs(fd_ld16(p + 6));
		if (frag & 0x3fff) {
			is_frag = 1;
			if (frag & 0x1fff)
				later_frag = 1;
			else
				is_first_frag = 1;
		}
	} else if (proto == fd_htons(FD_ETH_P_IPV6)) {
		p = data + nhoff;
		if (p + 40 > data_end)
			return BPF_DROP;
		if ((p[0] >> 4) != 6)
			return BPF_DROP;
		keys->flow_label = fd_ld32(p) & fd_htonl(0x000fffff);
		fd_st64(&keys->ipv6_src[0], fd_ld64(p + 8));
		fd_st64(&keys->ipv6_src[2], fd_ld64(p + 16));
		fd_st64(&keys->ipv6_dst[0], fd_ld64(p + 24));
		fd_st64(&keys->ipv6_dst[2], fd_ld64(p + 32));
		ip_proto = p[6];
		addr_proto = FD_ETH_P_IPV6;
		thoff = nhoff + 40;

		/* RFC 8200 section 4: extension headers, each a multiple of 8 bytes. */
		FD_UNROLL
		for (i = 0; i < FD_MAX_EXTHDRS; i++) {
			if (ip_proto == FD_IPPROTO_HOPOPTS || ip_proto == FD_IPPROTO_ROUTING ||
			    ip_proto == FD_IPPROTO_DSTOPTS) {
				p = data + thoff;
				if (p + 8 > data_end)
					return BPF_DROP;
				ip_proto = p[0];
				thoff += ((__u32)p[1] + 1) * 8;
				if (data + thoff > data_end)
					return BPF_DROP;
			} else if (ip_proto == FD_IPPROTO_FRAGMENT) {
				p = data + thoff;
				if (p + 8 > data_end)
					return BPF_DROP;
				ip_proto = p[0];
				thoff += 8;
				is_frag = 1;
				/* The offset is the upper 13 bits of bytes 2-3. */
				if (fd_ntohs(fd_ld16(p + 2)) & 0xfff8) {
					later_frag = 1;
					break;
				}
				is_first_frag = 1;
			} else {
				break;
			}
		}
		if (!later_frag &&
		    (ip_proto == FD_IPPROTO_HOPOPTS || ip_proto == FD_IPPROTO_ROUTING ||
		     ip_proto == FD_IPPROTO_DSTOPTS || ip_proto == FD_IPPROTO_FRAGMENT))
			return BPF_DROP; /* more than FD_MAX_EXTHDRS */
	} else {
		return BPF_DROP;
	}

	if (!later_frag) {
		p = data + thoff;
		switch (ip_proto) {
		case FD_IPPROTO_TCP:
			if (p + 20 > data_end)
				return BPF_DROP;
			if ((p[12] >> 4) < 5 || p + (p[12] >> 4) * 4 > data_end)
				return BPF_DROP;
			ports = fd_ld32(p); /* source and destination port */
			break;
		case FD_IPPROTO_UDP:
			if (p + 8 > data_end)
				return BPF_DROP;
			ports = fd_ld32(p);
			break;
		case FD_IPPROTO_ICMP:
		case FD_IPPROTO_ICMPV6:
			if (p + 8 > data_end)
				return BPF_DROP;
			break;
		}
	}

	keys->nhoff = nhoff;
	keys->thoff = thoff;
	keys->addr_proto = addr_proto;
	keys->is_frag = is_frag;
	keys->is_first_frag = is_first_frag;
	keys->ip_proto = ip_proto;
	keys->n_proto = proto;
	/* sport and dport sit side by side, as in the TCP and UDP headers. */
	fd_st32(&keys->sport, ports);
	return BPF_OK;
}

#endif
