#!/bin/bash
# Regenerates internal/perfdata/testdata: small real captures made by
# `perf record -e skb:kfree_skb -a`, read by the package's unprivileged
# tests. Needs root and perf (linux-perf). Each capture must hold exactly
# the drops the script makes (other drops on the machine spoil it), so
# the script retries a few times and checks with perf script.
#
#   kfree_skb.data       3 datagrams to a closed UDP port on 127.0.0.1:
#                        3 samples, reason NO_SOCKET, at __udp4_lib_rcv
#   kfree_skb.pipe.data  the same event recorded to a pipe (perf record -o -)
#   kfree_skb.z.data     the same event with compressed records (-z)
set -euo pipefail

cd "$(dirname "$0")/../internal/perfdata/testdata"
drops=3
send='for i in $(seq '$drops'); do echo x > /dev/udp/127.0.0.1/9; done; sleep 0.1'

for try in 1 2 3 4 5; do
	perf record -q --synth=no -e skb:kfree_skb -a -o kfree_skb.data -- bash -c "$send"
	n=$(perf script -i kfree_skb.data -F trace 2>/dev/null | grep -c 'location=__udp4_lib_rcv.*reason: NO_SOCKET' || true)
	all=$(perf script -i kfree_skb.data -F trace 2>/dev/null | wc -l)
	if [ "$n" = "$drops" ] && [ "$all" = "$drops" ]; then
		break
	fi
	echo "try $try: $all samples, $n of them ours; recording again" >&2
	[ "$try" = 5 ] && { echo "the machine drops too many packets of its own; try later" >&2; exit 1; }
done
chmod 644 kfree_skb.data

perf record -q --synth=no -e skb:kfree_skb -a -o - -- sleep 0.05 >kfree_skb.pipe.data
perf record -q --synth=no -z -e skb:kfree_skb -a -o kfree_skb.z.data -- bash -c "$send"
chmod 644 kfree_skb.z.data
rm -f kfree_skb*.data.old
ls -l kfree_skb*.data
