#!/usr/bin/env bash
# build-samples.sh: rebuilds the C samples, samples/bpf/*.bpf.c, into the
# BPF objects committed beside them (samples/bpf/*.bpf.o), and records the
# SHA-256 of every source in samples/bpf/bpf.sums, which a test of package
# samples checks so that an edited source with a stale object fails:
#
#   scripts/build-samples.sh
#
# Uses Debian's clang (installed with apt-get when missing; run as root, or
# install clang first). Objects are built in samples/bpf with relative file
# names, so that no path of the building machine ends up in them.
set -euo pipefail

cd "$(dirname "$0")/../samples/bpf"

if ! command -v clang >/dev/null; then
	if ! command -v apt-get >/dev/null; then
		echo "build-samples.sh: clang is missing and there is no apt-get: install clang" >&2
		exit 1
	fi
	echo "build-samples.sh: installing clang with apt-get" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
fi

shopt -s nullglob
sources=(*.bpf.c)
if [[ ${#sources[@]} -eq 0 ]]; then
	echo "build-samples.sh: no *.bpf.c in samples/bpf" >&2
	exit 1
fi

for src in "${sources[@]}"; do
	obj=${src%.c}.o
	echo "clang $src -> samples/bpf/$obj" >&2
	# -fdebug-prefix-map keeps this directory's absolute path out of the
	# DWARF (the compilation directory) that -g writes.
	clang -O2 -g -target bpf -fdebug-prefix-map="$PWD"=. -c "$src" -o "$obj"
done

# The sums cover the headers too: a changed header changes the objects.
sha256sum -- "${sources[@]}" *.h >bpf.sums
echo "build-samples.sh: wrote samples/bpf/bpf.sums ($(clang --version | head -1))" >&2
