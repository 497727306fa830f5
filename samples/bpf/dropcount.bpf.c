// SPDX-License-Identifier: GPL-2.0
/*
 * The drop counter in C: for each skb:kfree_skb record it adds 1 to the
 * count of its (location, reason) in the hash map drop_counts. It does what
 * dropcount.Program builds in Go, and makes the same keys, so that the
 * monitor reads either.
 *
 * The record's fields are read through CO-RE (kfree_skb.h): the loader
 * rewrites each access for the target kernel's struct
 * trace_event_raw_kfree_skb, found by name in its BTF, so one object serves
 * kernels with and without the reason and rx_sk. Build with
 * scripts/build-samples.sh.
 */
#include "kfree_skb.h"

SEC("tracepoint/skb/kfree_skb")
int count_drops(struct trace_event_raw_kfree_skb *ctx)
{
	count_drop((__u64)ctx->location, record_reason(ctx));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
