#!/usr/bin/env bash
# Runs every fuzz target of the module for a while each (default 8s; pass a
# go duration such as 5m to hunt). New crashers land in the package's
# testdata/fuzz and fail the run.
#
# Go 1.26's fuzz coordinator can report "context deadline exceeded" when
# -fuzztime runs out while a worker is busy (golang/go#75804, fixed in Go
# 1.27), with no failing input. Such a run writes no reproducer: it is
# reported as a flake and does not fail the run. Any run that writes a
# reproducer fails it.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-8s}
status=0
# count prints how many files the corpus folder holds (0 when it does not
# exist yet).
count() {
	if [ -d "$1" ]; then
		find "$1" -maxdepth 1 -type f | wc -l
	else
		echo 0
	fi
}
while read -r dir; do
	pkg="./${dir#./}"
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
		echo "-- $pkg $target ($fuzztime)"
		corpus="$dir/testdata/fuzz/$target"
		before=$(count "$corpus")
		log=$(mktemp)
		if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg" 2>&1 | tee "$log"; then
			rm -f "$log"
			continue
		fi
		after=$(count "$corpus")
		if [ "$after" -eq "$before" ] && grep -q 'context deadline exceeded' "$log"; then
			echo "-- $pkg $target: deadline race of the fuzz coordinator (golang/go#75804), no failing input: not a failure"
		else
			status=1
		fi
		rm -f "$log"
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)
exit $status
