#!/usr/bin/env bash
# Runs every fuzz target of the module for a while each (default 8s; pass a
# go duration such as 5m to hunt). New crashers land in the package's
# testdata/fuzz and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-8s}
status=0
while read -r dir; do
	pkg="./${dir#./}"
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //' | sort -u); do
		echo "-- $pkg $target ($fuzztime)"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"; then
			status=1
		fi
	done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)
exit $status
