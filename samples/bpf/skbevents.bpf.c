// SPDX-License-Identifier: GPL-2.0
/*
 * The seed's picture: two programs of one object, on two tracepoints,
 * counting into one map. count_kfree runs on skb:kfree_skb (packets
 * dropped), count_consume on skb:consume_skb (packets freed after use); both
 * add 1 to the count of (event, location) in skb_events, event being 0 for
 * a drop and 1 for a consumed packet. `dropmon --program` attaches each to
 * the tracepoint its section names and reports the one map (columns EVENT,
 * PAD, LOCATION from the key's BTF). Records are read through CO-RE. Build
 * with scripts/build-samples.sh.
 */
#include "bpf_defs.h"
#include "tracepoint.h"

struct trace_event_raw_kfree_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
} __attribute__((preserve_access_index));

struct trace_event_raw_consume_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
} __attribute__((preserve_access_index));

struct event_key {
	__u32 event;
	__u32 pad;
	__u64 location;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct event_key);
	__type(value, __u64);
} skb_events SEC(".maps");

static __attribute__((always_inline)) int count(__u32 event, __u64 location)
{
	struct event_key key = {};
	__u64 one = 1;
	__u64 *n;

	key.event = event;
	key.location = location;
	n = bpf_map_lookup_elem(&skb_events, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return 0;
	}
	if (bpf_map_update_elem(&skb_events, &key, &one, BPF_NOEXIST) == 0)
		return 0;
	/* Another CPU inserted the key first (EEXIST): add to its count. */
	n = bpf_map_lookup_elem(&skb_events, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int count_kfree(struct trace_event_raw_kfree_skb *ctx)
{
	return count(0, (__u64)ctx->location);
}

SEC("tracepoint/skb/consume_skb")
int count_consume(struct trace_event_raw_consume_skb *ctx)
{
	return count(1, (__u64)ctx->location);
}

char LICENSE[] SEC("license") = "GPL";
