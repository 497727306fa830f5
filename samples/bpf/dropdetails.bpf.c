// SPDX-License-Identifier: GPL-2.0
/*
 * The drop counter with packet details, for the kernel engine (dropmon
 * --details). For each skb:kfree_skb record it counts the drop per
 * (location, reason) in drop_counts, exactly as dropcount.bpf.c does, and
 * per flow in the LRU hash map flows: the packet's network namespace,
 * interface, 5-tuple and mark, with the packets and bytes dropped.
 *
 * The details are read from the struct sk_buff the record points to, with
 * bpf_probe_read_kernel, which user space cannot do: this program runs in
 * the kernel only. Every kernel structure below is a local copy with only
 * the members read, marked preserve_access_index: the loader (cilium/ebpf)
 * finds each member by name in the running kernel's BTF
 * (/sys/kernel/btf/vmlinux) and rewrites the offsets, so no kernel headers
 * are needed and one object serves kernels whose layouts differ.
 *
 * The filters of details_config (set by user space before the program is
 * attached) are applied before anything is counted: a drop they reject is
 * in neither map. Build with scripts/build-samples.sh.
 */
#include "kfree_skb.h"

#define PAI __attribute__((preserve_access_index))

#define BPF_MAP_TYPE_ARRAY 2
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_MAP_TYPE_STACK_TRACE 7
#define BPF_MAP_TYPE_LRU_HASH 9

/* Kernel-only helper: reads kernel memory, 0 or a negative errno. */
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)113;

/* The drop's kernel call chain, as an id in the stack map (or -errno). */
static long (*bpf_get_stackid)(void *ctx, void *map, __u64 flags) = (void *)27;

/* probe reads src, a member reached through a preserve_access_index type. */
#define probe(dst, src) bpf_probe_read_kernel(&(dst), sizeof(dst), &(src))

struct ns_common {
	unsigned int inum;
} PAI;

struct net {
	struct ns_common ns;
} PAI;

typedef struct {
	struct net *net;
} PAI possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
	char name[16];
} PAI;

struct sock_common {
	possible_net_t skc_net;
} PAI;

struct sock {
	struct sock_common __sk_common;
} PAI;

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	__u32 mark;
	__u16 protocol; /* network order */
	__u16 transport_header;
	__u16 network_header;
	unsigned char *head;
} PAI;

/* Where the namespace inode came from: flow_key.netns_from. */
#define NETNS_UNKNOWN 0
#define NETNS_DEVICE 1
#define NETNS_SOCKET 2
#define NETNS_RX_SOCKET 3

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58

/* skb->network_header and transport_header when not set: (u16)~0. */
#define HEADER_UNSET 0xffff

/*
 * A flow, as dropdetails.FlowKey decodes it (64 bytes, no holes).
 * Addresses are 16 bytes; IPv4 ones are IPv4-mapped (::ffff:a.b.c.d).
 * Ports are in host order; for ICMP and ICMPv6, sport is the type and
 * dport the code.
 */
struct flow_key {
	__u64 location;
	__u32 reason;
	__u32 netns; /* inode of the network namespace, 0 when unknown */
	__u32 ifindex;
	__u32 mark;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 l3proto; /* EtherType, host order (skb->protocol) */
	__u8 l4proto;  /* IP protocol; 0 when not IP or not read */
	__u8 netns_from;
};

struct flow_value {
	__u64 packets;
	__u64 bytes;
	__u32 len; /* the last packet's skb->len */
	__u32 pad;
	char ifname[16]; /* the device's name at the last drop */
};

/* details_config.flags: which filters are on. */
#define FILTER_NETNS 1
#define FILTER_IFNAME 2
#define FILTER_SRC 4
#define FILTER_DST 8
#define FILTER_PORT 16
/* Not a filter: key each count by the drop's call chain too (--stacks). */
#define CONFIG_STACKS 256

/* As dropdetails.Config encodes it (96 bytes). */
struct details_config {
	__u32 flags;
	__u32 netns;
	char ifname[16];
	__u8 src[16];
	__u8 src_mask[16];
	__u8 dst[16];
	__u8 dst_mask[16];
	__u16 port;
	__u16 pad[3];
};

/* flow_stats indexes: counted per CPU. */
#define STAT_INSERTED 0 /* flows added to flows (evictions: inserted - present) */
#define STAT_FAILED 1	/* drops whose flow could not be stored */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} flow_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct details_config);
} details_config SEC(".maps");

/*
 * Call chains by id, as dropcount.StackProgram keeps them: 127 frames
 * (PERF_MAX_STACK_DEPTH). User space sizes it to one entry when --stacks is
 * off, since the kernel allocates every bucket up front.
 */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));
} drop_stacks SEC(".maps");

static __attribute__((always_inline)) __u16 swab16(__u16 x)
{
	return (__u16)((x >> 8) | (x << 8));
}

/* netns_of reads a namespace's inode: 0 when net is NULL or unreadable. */
static __attribute__((always_inline)) __u32 netns_of(struct net *net)
{
	__u32 inum = 0;

	if (net)
		probe(inum, net->ns.inum);
	return inum;
}

static __attribute__((always_inline)) __u32 sock_netns(struct sock *sk)
{
	struct net *net = 0;

	if (!sk)
		return 0;
	probe(net, sk->__sk_common.skc_net.net);
	return netns_of(net);
}

/* in_prefix reports whether addr & mask == net, over 16 bytes. */
static __attribute__((always_inline)) int in_prefix(const __u8 *addr, const __u8 *net, const __u8 *mask)
{
	__u64 a0, a1, n0, n1, m0, m1;

	__builtin_memcpy(&a0, addr, 8);
	__builtin_memcpy(&a1, addr + 8, 8);
	__builtin_memcpy(&n0, net, 8);
	__builtin_memcpy(&n1, net + 8, 8);
	__builtin_memcpy(&m0, mask, 8);
	__builtin_memcpy(&m1, mask + 8, 8);
	return (a0 & m0) == n0 && (a1 & m1) == n1;
}

static __attribute__((always_inline)) int same_name(const char *a, const char *b)
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return a0 == b0 && a1 == b1;
}

/*
 * read_headers fills the key's addresses, protocols and ports; it returns 1
 * when it read an IP header.
 */
static __attribute__((always_inline)) int read_headers(struct sk_buff *skb, struct flow_key *key)
{
	unsigned char *head = 0;
	__u16 proto = 0, nh = HEADER_UNSET, th = HEADER_UNSET;
	__u32 l4 = 0;
	__u8 ports[4] = {};

	probe(proto, skb->protocol);
	probe(nh, skb->network_header);
	probe(th, skb->transport_header);
	probe(head, skb->head);
	key->l3proto = swab16(proto);
	if (!head || nh == HEADER_UNSET)
		return 0;
	if (key->l3proto == ETH_P_IP) {
		__u8 ip[20];

		if (bpf_probe_read_kernel(ip, sizeof(ip), head + nh) || (ip[0] >> 4) != 4)
			return 0;
		key->l4proto = ip[9];
		key->saddr[10] = key->saddr[11] = 0xff;
		key->daddr[10] = key->daddr[11] = 0xff;
		__builtin_memcpy(&key->saddr[12], &ip[12], 4);
		__builtin_memcpy(&key->daddr[12], &ip[16], 4);
		/* A fragment after the first has no ports. */
		if (((ip[6] & 0x1f) | ip[7]) != 0)
			return 1;
		l4 = nh + (ip[0] & 0xf) * 4;
	} else if (key->l3proto == ETH_P_IPV6) {
		__u8 ip6[40];

		if (bpf_probe_read_kernel(ip6, sizeof(ip6), head + nh) || (ip6[0] >> 4) != 6)
			return 0;
		key->l4proto = ip6[6];
		__builtin_memcpy(key->saddr, &ip6[8], 16);
		__builtin_memcpy(key->daddr, &ip6[24], 16);
		l4 = nh + 40;
	} else {
		return 0;
	}
	/* The kernel's transport header, when set past the network header,
	 * skips IPv6 extension headers the fixed offset does not. */
	if (th != HEADER_UNSET && th > nh)
		l4 = th;
	switch (key->l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (bpf_probe_read_kernel(ports, 4, head + l4) == 0) {
			key->sport = (__u16)ports[0] << 8 | ports[1];
			key->dport = (__u16)ports[2] << 8 | ports[3];
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (bpf_probe_read_kernel(ports, 2, head + l4) == 0) {
			key->sport = ports[0];
			key->dport = ports[1];
		}
		break;
	}
	return 1;
}

/* passes applies details_config's filters. */
static __attribute__((always_inline)) int passes(const struct details_config *cfg, const struct flow_key *key,
						 const char *ifname, int ip)
{
	__u32 flags = cfg->flags;

	if ((flags & FILTER_NETNS) && key->netns != cfg->netns)
		return 0;
	if ((flags & FILTER_IFNAME) && !same_name(ifname, cfg->ifname))
		return 0;
	if ((flags & (FILTER_SRC | FILTER_DST)) && !ip)
		return 0;
	if ((flags & FILTER_SRC) && !in_prefix(key->saddr, cfg->src, cfg->src_mask))
		return 0;
	if ((flags & FILTER_DST) && !in_prefix(key->daddr, cfg->dst, cfg->dst_mask))
		return 0;
	if ((flags & FILTER_PORT) && !((key->l4proto == IPPROTO_TCP || key->l4proto == IPPROTO_UDP) &&
				      (key->sport == cfg->port || key->dport == cfg->port)))
		return 0;
	return 1;
}

static __attribute__((always_inline)) void add_stat(__u32 index)
{
	__u64 *n = bpf_map_lookup_elem(&flow_stats, &index);

	if (n)
		*n += 1;
}

SEC("tracepoint/skb/kfree_skb")
int count_drop_details(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	struct details_config *cfg;
	struct net_device *dev = 0;
	struct net *net = 0;
	struct flow_value value, *v;
	struct flow_key key;
	__u32 zero = 0;
	__u64 reason = 0;
	int ip;

	cfg = bpf_map_lookup_elem(&details_config, &zero);
	if (!cfg)
		return 0;
	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memset(&value, 0, sizeof(value));
	reason = record_reason(ctx);
	key.location = (__u64)ctx->location;
	key.reason = reason;

	probe(dev, skb->dev);
	if (dev) {
		probe(key.ifindex, dev->ifindex);
		probe(value.ifname, dev->name);
		probe(net, dev->nd_net.net);
		key.netns = netns_of(net);
		if (key.netns)
			key.netns_from = NETNS_DEVICE;
	}
	if (!key.netns) {
		struct sock *sk = 0;

		probe(sk, skb->sk);
		key.netns = sock_netns(sk);
		if (key.netns)
			key.netns_from = NETNS_SOCKET;
	}
	if (!key.netns && bpf_core_field_exists(ctx->rx_sk)) {
		key.netns = sock_netns(ctx->rx_sk);
		if (key.netns)
			key.netns_from = NETNS_RX_SOCKET;
	}
	probe(value.len, skb->len);
	probe(key.mark, skb->mark);
	ip = read_headers(skb, &key);

	if (!passes(cfg, &key, value.ifname, ip))
		return 0;
	if (cfg->flags & CONFIG_STACKS) {
		/* Flags 0: frames compared when hashes match, one chain an id. */
		long id = bpf_get_stackid(ctx, &drop_stacks, 0);

		count_drop(key.location, reason | (__u64)(__u32)id << 32);
	} else {
		count_drop(key.location, reason);
	}

	v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		value.packets = 1;
		value.bytes = value.len;
		if (bpf_map_update_elem(&flows, &key, &value, BPF_NOEXIST) == 0) {
			add_stat(STAT_INSERTED);
			return 0;
		}
		/* Another CPU inserted it first: add to that one. */
		v = bpf_map_lookup_elem(&flows, &key);
		if (!v) {
			add_stat(STAT_FAILED);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, value.len);
	v->len = value.len;
	__builtin_memcpy(v->ifname, value.ifname, sizeof(value.ifname));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
