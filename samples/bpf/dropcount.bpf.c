// SPDX-License-Identifier: GPL-2.0
/*
 * The drop counter in C: for each skb:kfree_skb record it adds 1 to the
 * count of its (location, reason) in the hash map drop_counts. It does what
 * dropcount.Program builds in Go, and makes the same keys, so that the
 * monitor reads either.
 *
 * The record's layout differs between kernels (rx_sk since 6.10 moves the
 * reason from offset 28 to 36; before 5.17 there is no reason). The fields
 * are read through CO-RE: the loader rewrites each access for the target
 * kernel's struct trace_event_raw_kfree_skb, found by name in its BTF, so
 * one object serves them all. Build with scripts/build-samples.sh.
 */
#include "bpf_defs.h"
#include "tracepoint.h"

/*
 * Only the type of the reason matters: CO-RE matches an enum field with an
 * enum of the same name. The kernel's values differ between versions.
 */
enum skb_drop_reason {
	SKB_DROP_REASON_NOT_SPECIFIED = 1,
};

/*
 * A local copy of the record, as 5.17 to 6.9 lay it out. preserve_access_index
 * makes clang record every access as a CO-RE relocation, so members are
 * found by name in the target's BTF: the offsets here are only a default.
 */
struct trace_event_raw_kfree_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
	__u16 protocol;
	enum skb_drop_reason reason;
} __attribute__((preserve_access_index));

/*
 * The key, as dropcount.Key decodes it: the padding is zeroed so that
 * equal drops make equal keys.
 */
struct drop_key {
	__u64 location;
	__u32 reason;
	__u32 pad;
};

/*
 * set_reason writes the reason and the zero padding as one 8-byte store, as
 * dropcount.Program does: the map lookup reads the key in 8-byte words,
 * and a load that spans two smaller stores cannot be forwarded from them.
 */
static __attribute__((always_inline)) void set_reason(struct drop_key *key, __u64 reason)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__builtin_memcpy(&key->reason, &reason, sizeof(reason));
#else
	key->reason = reason;
	key->pad = 0;
#endif
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct drop_key);
	__type(value, __u64);
} drop_counts SEC(".maps");

SEC("tracepoint/skb/kfree_skb")
int count_drops(struct trace_event_raw_kfree_skb *ctx)
{
	struct drop_key key;
	__u64 reason = 0;
	__u64 one = 1;
	__u64 *count;

	/* Kernels before 5.17 give no reason: count those drops under 0. */
	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	key.location = (__u64)ctx->location;
	set_reason(&key, reason);

	count = bpf_map_lookup_elem(&drop_counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	if (bpf_map_update_elem(&drop_counts, &key, &one, BPF_NOEXIST) == 0)
		return 0;
	/* Another CPU inserted the key first (EEXIST): add to its count. */
	count = bpf_map_lookup_elem(&drop_counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
