#!/usr/bin/env bash
# make-replay-testdata.sh: records a short run of real drops with dropmon
# record (as root) into cmd/dropmon/testdata/drops.data, with the live JSON
# lines it printed beside it (drops.live.json). cmd/dropmon's
# TestReplayRecordingFile replays the file without root and expects those
# lines exactly: the live reports of a run, given back by its recording.
#
#   sudo scripts/make-replay-testdata.sh
#
# The drops: 30 UDP datagrams to a closed port on 127.0.0.1 and 10 on ::1,
# with call chains (--stacks), filtered to NO_SOCKET so that the file holds
# no other drop of the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
out=cmd/dropmon/testdata
bin=$(mktemp -d)/dropmon
trap 'rm -rf "$(dirname "$bin")"' EXIT
CGO_ENABLED=0 go build -o "$bin" ./cmd/dropmon
"$bin" record -o "$out/drops.data" --report json --stacks --reason NO_SOCKET -i 500ms -d 2s \
	>"$out/drops.live.json" 2>"$bin.err" &
pid=$!
for _ in $(seq 100); do grep -q '^watching' "$bin.err" && break; sleep 0.05; done
sleep 0.6
python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(30):
    s.sendto(b"dropmon replay testdata", ("127.0.0.1", 9))
t = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for _ in range(10):
    t.sendto(b"dropmon replay testdata", ("::1", 9))
PY
wait "$pid"
cat "$bin.err" >&2
ls -l "$out/drops.data" "$out/drops.live.json"
