// SPDX-License-Identifier: GPL-2.0
/*
 * Received packets per length: for each net:netif_receive_skb record it
 * adds 1 to the count of the packet's length in the hash map rx_lengths.
 * It is the example of `dropmon --program` on a tracepoint other than
 * skb:kfree_skb; the report names the key's fields from its BTF (LEN, PAD).
 * The record is read through CO-RE against the kernel's
 * struct trace_event_raw_net_dev_template. Build with
 * scripts/build-samples.sh.
 */
#include "bpf_defs.h"
#include "tracepoint.h"

/* The class of net_dev_queue, net_dev_xmit's siblings and netif_receive_skb. */
struct trace_event_raw_net_dev_template {
	struct trace_entry ent;
	void *skbaddr;
	unsigned int len;
} __attribute__((preserve_access_index));

/* One 8-byte key: the padding is zeroed so that equal lengths make equal keys. */
struct len_key {
	__u32 len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct len_key);
	__type(value, __u64);
} rx_lengths SEC(".maps");

SEC("tracepoint/net/netif_receive_skb")
int count_lengths(struct trace_event_raw_net_dev_template *ctx)
{
	struct len_key key = {};
	__u64 one = 1;
	__u64 *count;

	key.len = ctx->len;
	count = bpf_map_lookup_elem(&rx_lengths, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	if (bpf_map_update_elem(&rx_lengths, &key, &one, BPF_NOEXIST) == 0)
		return 0;
	/* Another CPU inserted the key first (EEXIST): add to its count. */
	count = bpf_map_lookup_elem(&rx_lengths, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
