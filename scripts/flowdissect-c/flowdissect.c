// SPDX-License-Identifier: GPL-2.0
/*
 * flowdissect-c: the C row of dropmon's flow dissector benchmark. It compiles
 * samples/bpf/flowdissect.h, the logic of the BPF flow dissector, with the
 * host's compiler, and wraps it as the kernel's bpf_flow_dissect does
 * (keys zeroed, n_proto from the Ethernet header, nhoff = thoff = 14, then
 * nhoff and thoff clamped), as samples/flowdissect's Dissect does.
 *
 *   flowdissect-c bench [SECONDS]   time "same" and "different", in ns/frame
 *   flowdissect-c keys FILE         dissect the frames of FILE, print keys
 *
 * "same" dissects one IPv4 TCP frame again and again; "different" walks, in
 * order, distinct frames (a mix like samples/flowdissect.Distinct's, made
 * here with another generator) whose bytes span 4 times the last-level
 * cache. FILE holds frames as a 4-byte little-endian length and the bytes;
 * keys prints a line per frame: "short" for frames under 14 bytes, else
 * the verdict and the 56 bytes of struct bpf_flow_keys in hex.
 * scripts/bench-flowdissect-c.sh builds it with gcc -O2 and runs bench.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;

#include "../../samples/bpf/flowdissect.h"

/* bpf_flow_dissect (net/core/flow_dissector.c) as BPF_PROG_TEST_RUN calls it. */
static __attribute__((noinline)) int run(const __u8 *frame, __u32 len, struct bpf_flow_keys *keys)
{
	int ret;

	memset(keys, 0, sizeof(*keys));
	keys->n_proto = fd_ld16(frame + 12);
	keys->nhoff = FD_ETH_HLEN;
	keys->thoff = FD_ETH_HLEN;
	ret = fd_dissect(frame, frame + len, keys);
	if (keys->nhoff < FD_ETH_HLEN)
		keys->nhoff = FD_ETH_HLEN;
	if (keys->nhoff > len)
		keys->nhoff = len;
	if (keys->thoff < keys->nhoff)
		keys->thoff = keys->nhoff;
	if (keys->thoff > len)
		keys->thoff = len;
	return ret;
}

/* Frame building, in network byte order. */
static __u8 *put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
	return p + 2;
}

static __u8 *put32(__u8 *p, __u32 v)
{
	return put16(put16(p, v >> 16), v);
}

static __u8 *ether(__u8 *p, __u16 proto, int tags)
{
	static const __u8 macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	static const __u16 tpids[2][2] = {{FD_ETH_P_8021Q}, {FD_ETH_P_8021AD, FD_ETH_P_8021Q}};
	int i;

	memcpy(p, macs, sizeof(macs));
	p += sizeof(macs);
	for (i = 0; i < tags; i++) {
		p = put16(p, tpids[tags - 1][i]);
		p = put16(p, 100 + i);
	}
	return put16(p, proto);
}

static __u8 *ipv4(__u8 *p, __u8 proto, __u32 src, __u32 dst, __u16 frag, int opts, int payload)
{
	int hlen = 20 + 4 * opts, i;

	*p++ = 0x40 | hlen / 4;
	*p++ = 0;
	p = put16(p, hlen + payload);
	p = put16(p, 0x1234);
	p = put16(p, frag);
	*p++ = 64;
	*p++ = proto;
	p = put16(p, 0); /* checksum: the dissector does not read it */
	p = put32(put32(p, src), dst);
	for (i = 0; i < 4 * opts; i++)
		*p++ = i % 4 == 3 ? 0 : 1; /* NOPs, then the end of options */
	return p;
}

static __u8 *ipv6(__u8 *p, __u8 next, __u32 label, __u64 s, __u64 d, int payload)
{
	p = put32(p, 6u << 28 | (label & 0xfffff));
	p = put16(p, payload);
	*p++ = next;
	*p++ = 64;
	p = put32(put32(p, 0x20010db8), 0);
	p = put32(put32(p, s >> 32), s);
	p = put32(put32(p, 0x20010db8), 0xffff0000);
	return put32(put32(p, d >> 32), d);
}

static __u8 *ports(__u8 *p, __u16 sport, __u16 dport)
{
	return put16(put16(p, sport), dport);
}

static __u8 *tcp(__u8 *p, __u16 sport, __u16 dport)
{
	p = ports(p, sport, dport);
	memset(p, 0, 16);
	p[8] = 5 << 4;
	p[9] = 0x18;
	return p + 16;
}

static __u8 *udp(__u8 *p, __u16 sport, __u16 dport, int payload)
{
	p = put16(ports(p, sport, dport), 8 + payload);
	return put16(p, 0);
}

static __u8 *icmp(__u8 *p, __u8 type)
{
	memset(p, 0, 8);
	p[0] = type;
	return p + 8;
}

/* xorshift64*: a fixed sequence, good enough to vary headers. */
static __u64 rng_state = 0x666c6f7764697373ull;

static __u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* distinct writes the i-th distinct frame at p and returns its end. */
static __u8 *distinct(__u8 *p, __u32 i)
{
	int payload = rnd() % 97, roll = rnd() % 100;
	__u16 sport = 1024 + rnd() % 64512, dport = rnd();
	__u32 s4 = 10u << 24 | (i & 0xffffff), d4 = rnd();
	__u64 s6 = (__u64)i << 32 | (__u32)rnd(), d6 = rnd();

	if (roll < 45)
		p = tcp(ipv4(ether(p, FD_ETH_P_IP, 0), FD_IPPROTO_TCP, s4, d4, 0x4000, 0, 20 + payload), sport, dport);
	else if (roll < 65)
		p = udp(ipv4(ether(p, FD_ETH_P_IP, 0), FD_IPPROTO_UDP, s4, d4, 0, 0, 8 + payload), sport, dport, payload);
	else if (roll < 80)
		p = tcp(ipv6(ether(p, FD_ETH_P_IPV6, 0), FD_IPPROTO_TCP, i, s6, d6, 20 + payload), sport, dport);
	else if (roll < 88)
		p = udp(ipv6(ether(p, FD_ETH_P_IPV6, 0), FD_IPPROTO_UDP, i, s6, d6, 8 + payload), sport, dport, payload);
	else if (roll < 92)
		p = tcp(ipv4(ether(p, FD_ETH_P_IP, 1), FD_IPPROTO_TCP, s4, d4, 0, 0, 20 + payload), sport, dport);
	else if (roll < 94)
		p = udp(ipv6(ether(p, FD_ETH_P_IPV6, 2), FD_IPPROTO_UDP, i, s6, d6, 8 + payload), sport, dport, payload);
	else if (roll < 96)
		p = icmp(ipv4(ether(p, FD_ETH_P_IP, 0), FD_IPPROTO_ICMP, s4, d4, 0, 0, 8 + payload), 8);
	else if (roll < 97)
		p = icmp(ipv6(ether(p, FD_ETH_P_IPV6, 0), FD_IPPROTO_ICMPV6, i, s6, d6, 8 + payload), 128);
	else if (roll < 98) {
		p = ipv6(ether(p, FD_ETH_P_IPV6, 0), FD_IPPROTO_HOPOPTS, i, s6, d6, 16 + payload);
		memset(p, 0, 8);
		p[0] = FD_IPPROTO_UDP;
		p[2] = 1; /* PadN over the rest */
		p[3] = 4;
		p = udp(p + 8, sport, dport, payload);
	} else if (roll < 99)
		p = udp(ipv4(ether(p, FD_ETH_P_IP, 0), FD_IPPROTO_UDP, s4, d4, 0x2000, 0, 8 + payload), sport, dport, payload);
	else
		p = tcp(ipv4(ether(p, FD_ETH_P_IP, 0), FD_IPPROTO_TCP, s4, d4, 0, 1, 20 + payload), sport, dport);
	memset(p, 0, payload);
	return p + payload;
}

/* llc_size returns the size of CPU 0's last-level cache from sysfs, or 0. */
static long llc_size(void)
{
	long best = 0;
	int level = 0, i;

	for (i = 0; i < 16; i++) {
		char path[96], unit = 0;
		long size;
		int l;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
		if (!(f = fopen(path, "r")))
			continue;
		if (fscanf(f, "%d", &l) != 1)
			l = 0;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		if (!(f = fopen(path, "r")))
			continue;
		if (fscanf(f, "%ld%c", &size, &unit) < 1)
			size = 0;
		fclose(f);
		size *= unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : 1;
		if (l > level || (l == level && size > best)) {
			level = l;
			best = size;
		}
	}
	return best;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct frame {
	const __u8 *p;
	__u32 len;
};

/* walk dissects n frames, frames[i % count] in order, and returns ns/frame. */
static double walk(const struct frame *frames, long count, long n)
{
	struct bpf_flow_keys keys;
	long i, j = 0, bad = 0;
	double t = now();

	for (i = 0; i < n; i++) {
		const __u8 *p = frames[j].p;

		/* The frame may have changed, as far as the compiler knows. */
		__asm__ volatile("" : "+r"(p) : : "memory");
		bad += run(p, frames[j].len, &keys) != BPF_OK;
		if (++j == count)
			j = 0;
	}
	t = now() - t;
	if (bad) {
		fprintf(stderr, "flowdissect-c: %ld of %ld frames dropped\n", bad, n);
		exit(1);
	}
	return t * 1e9 / n;
}

static int bench(double seconds)
{
	long llc = llc_size(), span, count = 0, cap, n;
	struct frame *frames, same;
	__u8 *buf, *p, one[128];
	double ns;

	if (llc <= 0) {
		llc = 32l << 20;
		fprintf(stderr, "flowdissect-c: no last-level cache size in sysfs, assuming 32 MiB\n");
	}
	span = 4 * llc;
	cap = span / 64 + 1;
	buf = malloc(span + 256);
	frames = malloc(cap * sizeof(*frames));
	if (!buf || !frames) {
		perror("flowdissect-c");
		return 1;
	}
	for (p = buf; p < buf + span && count < cap; count++) {
		__u8 *end = distinct(p, count);

		frames[count].p = p;
		frames[count].len = end - p;
		p = end;
	}

	same.p = one;
	same.len = tcp(ipv4(ether(one, FD_ETH_P_IP, 0), FD_IPPROTO_TCP, 0x0a000001, 0x0a000002, 0, 0, 30),
		       40000, 80) + 10 - one;
	memset(one + same.len - 10, 0, 10);

	n = 1000000;
	ns = walk(&same, 1, n); /* warm up, and size the run */
	n = seconds * 1e9 / (ns > 0.1 ? ns : 0.1);
	printf("same: %.2f ns/frame (%ld runs)\n", walk(&same, 1, n), n);
	walk(frames, count, count); /* one pass to fault the pages in */
	n = seconds * 1e9 / (ns > 0.1 ? ns : 0.1);
	if (n < count)
		n = count;
	printf("different: %.2f ns/frame (%ld runs over %ld frames, %.0f MiB, 4x the %ld MiB last-level cache)\n",
	       walk(frames, count, n), n, count, (double)(p - buf) / (1 << 20), llc >> 20);
	return 0;
}

static int keys_of(const char *path)
{
	FILE *f = fopen(path, "rb");
	static __u8 frame[1 << 17];
	__u8 hdr[4];

	if (!f) {
		perror(path);
		return 1;
	}
	while (fread(hdr, 1, 4, f) == 4) {
		__u32 len = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (__u32)hdr[3] << 24, i;
		struct bpf_flow_keys keys;
		const __u8 *k = (const __u8 *)&keys;
		int ret;

		if (len > sizeof(frame) || fread(frame, 1, len, f) != len) {
			fprintf(stderr, "%s: truncated or oversized frame\n", path);
			return 1;
		}
		if (len < FD_ETH_HLEN) {
			printf("short\n");
			continue;
		}
		ret = run(frame, len, &keys);
		printf("%d ", ret);
		for (i = 0; i < sizeof(keys); i++)
			printf("%02x", k[i]);
		printf("\n");
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "bench") == 0)
		return bench(argc >= 3 ? atof(argv[2]) : 1.0);
	if (argc == 3 && strcmp(argv[1], "keys") == 0)
		return keys_of(argv[2]);
	fprintf(stderr, "usage: flowdissect-c bench [SECONDS] | flowdissect-c keys FILE\n");
	return 2;
}
