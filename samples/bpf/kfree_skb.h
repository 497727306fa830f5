/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the drop counters in C share: the skb:kfree_skb record, read through
 * CO-RE, and the count per (location, reason) in the hash map drop_counts,
 * whose keys dropcount.Key decodes. Include it once per object.
 */
#ifndef DROPMON_KFREE_SKB_H
#define DROPMON_KFREE_SKB_H

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
 * A local copy of the record. preserve_access_index makes clang record every
 * access as a CO-RE relocation, so members are found by name in the target's
 * BTF: the offsets here are only a default. The record's layout differs
 * between kernels (rx_sk since 6.10 moves the reason from offset 28 to 36;
 * before 5.17 there is no reason): check with bpf_core_field_exists before
 * reading rx_sk or reason.
 */
struct trace_event_raw_kfree_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
	void *rx_sk;
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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct drop_key);
	__type(value, __u64);
} drop_counts SEC(".maps");

/* record_reason is the record's reason, 0 on kernels before 5.17. */
static __attribute__((always_inline)) __u64 record_reason(struct trace_event_raw_kfree_skb *ctx)
{
	if (bpf_core_field_exists(ctx->reason))
		return ctx->reason;
	return 0;
}

/*
 * count_drop adds 1 to the count of (location, word), word being the key's
 * second 8 bytes: the reason, and in its upper half what dropcount.Key
 * keeps there (0, or a stack id). They are written as one 8-byte store, as
 * dropcount.Program does: the map lookup reads the key in 8-byte words, and
 * a load that spans two smaller stores cannot be forwarded from them.
 */
static __attribute__((always_inline)) void count_drop(__u64 location, __u64 word)
{
	struct drop_key key;
	__u64 one = 1;
	__u64 *count;

	key.location = location;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__builtin_memcpy(&key.reason, &word, sizeof(word));
#else
	key.reason = word;
	key.pad = word >> 32;
#endif
	count = bpf_map_lookup_elem(&drop_counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return;
	}
	if (bpf_map_update_elem(&drop_counts, &key, &one, BPF_NOEXIST) == 0)
		return;
	/* Another CPU inserted the key first (EEXIST): add to its count. */
	count = bpf_map_lookup_elem(&drop_counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
}

#endif
