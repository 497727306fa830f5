#!/usr/bin/env bash
# fuzz.sh: runs every fuzz target in the module, one at a time, for the
# same time each, and says per target how many inputs it tried and whether
# it found anything.
#
#   scripts/fuzz.sh 5s     # CI: every target for five seconds
#   scripts/fuzz.sh 10m    # a longer hunt
#
# The targets are discovered with `go test -list`, so new ones are included
# without editing this script. A target that fails leaves its input in the
# package's testdata/fuzz/FuzzX/ (go test -run=FuzzX/NAME reruns it); commit
# such a file only with the fix for the bug it reproduces. Exit status 1 when
# any target found something or could not run, 2 on bad usage.
set -uo pipefail

cd "$(dirname "$0")/.."

if [[ $# -ne 1 || ! $1 =~ ^[0-9]+(ns|us|ms|s|m|h|x)$ ]]; then
	echo "usage: $0 DURATION (as go test -fuzztime takes it: 5s, 10m, 1000x)" >&2
	exit 2
fi
duration=$1

if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then
	PATH=$PATH:/usr/local/go/bin
fi

# go test -list prints a package's matching names, then "ok  PKG TIME".
listing=$(go test -list '^Fuzz' ./... 2>&1) || {
	echo "fuzz.sh: go test -list failed:" >&2
	echo "$listing" >&2
	exit 1
}
targets=()
names=()
while read -r first second _; do
	case $first in
	Fuzz*) names+=("$first") ;;
	ok)
		for n in ${names[@]+"${names[@]}"}; do targets+=("$second $n"); done
		names=()
		;;
	esac
done <<<"$listing"
if [[ ${#targets[@]} -eq 0 ]]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, $duration each" >&2

# deadline_race LOG: true when the run's only failure is the coordinator's
# "context deadline exceeded" with no failing input written.
deadline_race() {
	grep -q '^    context deadline exceeded$' "$1" &&
		! grep -q 'Failing input written to' "$1" &&
		[[ $(grep -c -e '^--- FAIL' -e '^panic:' -e 'fuzzing process hung' "$1") -eq 1 ]]
}

module=$(go list -m)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0
results=()
for t in "${targets[@]}"; do
	pkg=${t% *}
	name=${t#* }
	dir=${pkg#"$module"}
	dir=.${dir:-/}
	echo "== $pkg $name" >&2
	# Minimizing each new interesting input (up to 60s by default) would eat
	# a short run; a failing input is written whole either way.
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" -fuzzminimizetime 1s "$pkg" >"$log" 2>&1
	status=$?
	execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	execs=${execs:-0}
	if [[ $status -eq 0 ]]; then
		verdict="nothing found"
	elif deadline_race "$log"; then
		# Go's fuzz coordinator (go1.26 and before) can report its own
		# -fuzztime deadline as a failure when a worker is mid-call as the
		# time runs out: golang/go#75804, fixed in go1.27. No input was
		# found or written, so this is the end of the run, not a bug.
		verdict="nothing found (deadline race golang/go#75804 ignored)"
	else
		failed=1
		input=$(sed -n 's/.*Failing input written to \(.*\)$/\1/p' "$log" | tail -n 1)
		if [[ -n $input ]]; then
			verdict="FOUND: ${dir%/}/$input"
		else
			verdict="FAILED (exit $status)"
		fi
		# Show what went wrong, without the progress lines.
		grep -v '^fuzz: elapsed' "$log" | head -n 40 >&2
	fi
	results+=("$(printf '%-16s %-18s %12s execs  %s' "$dir" "$name" "$execs" "$verdict")")
done

echo
printf '%s\n' "${results[@]}"
exit $failed
