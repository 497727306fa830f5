// SPDX-License-Identifier: GPL-2.0
/*
 * A flow dissector (BPF_PROG_TYPE_FLOW_DISSECTOR): it reads the frame with
 * direct packet access only (no bpf_skb_load_bytes, no tail calls, no maps)
 * and fills struct bpf_flow_keys, returning BPF_OK or BPF_DROP. The logic
 * lives in flowdissect.h, shared with the gcc build of
 * scripts/flowdissect-c; samples/flowdissect runs this object in the kernel
 * with BPF_PROG_TEST_RUN and compares it with the same logic in Go. Build
 * with scripts/build-samples.sh.
 */
#include "bpf_defs.h"
#include "flowdissect.h"

/*
 * The head of struct __sk_buff (include/uapi/linux/bpf.h) up to flow_keys:
 * a flow dissector may read only data, data_end and flow_keys.
 */
struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	__u32 data;	/* offset 76 */
	__u32 data_end; /* offset 80 */
	__u32 napi_id;
	__u32 family;
	__u32 remote_ip4;
	__u32 local_ip4;
	__u32 remote_ip6[4];
	__u32 local_ip6[4];
	__u32 remote_port;
	__u32 local_port;
	__u32 data_meta;
	union {
		struct bpf_flow_keys *flow_keys; /* offset 144 */
		__u64 flow_keys_pad;
	} __attribute__((aligned(8)));
};

_Static_assert(__builtin_offsetof(struct __sk_buff, data) == 76, "__sk_buff.data");
_Static_assert(__builtin_offsetof(struct __sk_buff, data_end) == 80, "__sk_buff.data_end");
_Static_assert(__builtin_offsetof(struct __sk_buff, flow_keys) == 144, "__sk_buff.flow_keys");
_Static_assert(sizeof(struct bpf_flow_keys) == 56, "struct bpf_flow_keys");

SEC("flow_dissector")
int flowdissect(struct __sk_buff *skb)
{
	const __u8 *data = (const __u8 *)(long)skb->data;
	const __u8 *data_end = (const __u8 *)(long)skb->data_end;

	return fd_dissect(data, data_end, skb->flow_keys);
}

char LICENSE[] SEC("license") = "GPL";
