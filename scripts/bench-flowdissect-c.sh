#!/usr/bin/env bash
# bench-flowdissect-c.sh: the C row of the flow dissector benchmark. Builds
# scripts/flowdissect-c/flowdissect.c, which compiles the BPF sample's logic
# (samples/bpf/flowdissect.h) for the host, with gcc -O2, and prints ns per
# frame for "same" (one frame again and again) and "different" (distinct
# frames spanning 4x the last-level cache, walked in order):
#
#   scripts/bench-flowdissect-c.sh [SECONDS]
#
# Compare with go test -run '^$' -bench FlowDissector ./samples/flowdissect.
set -euo pipefail

cd "$(dirname "$0")/flowdissect-c"
if ! command -v gcc >/dev/null; then
	echo "bench-flowdissect-c.sh: gcc is missing: install it (apt-get install gcc)" >&2
	exit 1
fi
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$bin/flowdissect-c" flowdissect.c
echo "flowdissect-c: $(gcc --version | head -1), -O2" >&2
"$bin/flowdissect-c" bench "${1:-1}"
