#!/usr/bin/env bash
# bench-e2e.sh: the end-to-end drop-storm benchmark (docs/benchmarks.md).
#
# Builds dropmon, dropgen and the benche2e harness into a temporary
# directory, then runs the harness with this script's arguments:
#
#   sudo scripts/bench-e2e.sh                       # 6 rounds x 3 s, all cases
#   sudo scripts/bench-e2e.sh -rounds 1 -seconds 2  # a quick check
#   sudo scripts/bench-e2e.sh -cases none,dropmon-jit -extra 'dropmon-percpu=--readers per-cpu'
#   sudo scripts/bench-e2e.sh -o bench.md           # also write the markdown report
#
# Traffic goes to a closed UDP port on 127.0.0.1 only, for -seconds per case.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
	echo "bench-e2e.sh: must run as root (the tracers open perf events on every CPU); try: sudo $0 $*" >&2
	exit 1
fi

# sudo may reset PATH; Go's usual install directory is a fallback.
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi

# perf and bpftrace are compared against; install them when missing and
# apt-get is there. When that fails, the harness skips their cases.
missing=()
command -v perf >/dev/null || missing+=(linux-perf)
command -v bpftrace >/dev/null || missing+=(bpftrace)
if ((${#missing[@]} > 0)); then
	if command -v apt-get >/dev/null; then
		echo "bench-e2e.sh: installing ${missing[*]}" >&2
		apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
			echo "bench-e2e.sh: could not install ${missing[*]}; their cases will be skipped" >&2
	else
		echo "bench-e2e.sh: no apt-get; cases needing ${missing[*]} will be skipped" >&2
	fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version=$(git describe --always --dirty 2>/dev/null || echo unknown)
echo "bench-e2e.sh: building dropmon $version, dropgen and benche2e" >&2
CGO_ENABLED=0 go build -ldflags "-X main.version=$version" -o "$tmp/dropmon" ./cmd/dropmon
go build -o "$tmp/dropgen" ./scripts/dropgen
go build -o "$tmp/benche2e" ./scripts/benche2e

cmdline="scripts/bench-e2e.sh"
for arg in "$@"; do
	cmdline+=" $(printf '%q' "$arg")"
done
"$tmp/benche2e" -dropmon "$tmp/dropmon" -dropgen "$tmp/dropgen" -cmdline "$cmdline" "$@"
