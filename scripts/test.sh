#!/usr/bin/env bash
# The whole test suite: formatting, vet, unit and integration tests with the
# race detector, then a short run of every fuzz target. Run as root on a
# fresh Debian machine it first installs the Debian packages the
# integration tests start (OpenSSH, Dovecot, PostgreSQL, ...).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files -co --exclude-standard '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

export ORDERGATE_REQUIRE_SERVERS=1 # a missing RabbitMQ, NATS or sshd fails the tests instead of skipping them
# The fax capture packages render, clean and OCR whole pages: their pixel
# loops run about 50 times slower under the race detector (a page's
# clean-up 0.26 s -> 13 s), which made them the suite's longest part. They
# run without it, except their one piece of shared state, the master-data
# cache the capture workers share, whose concurrency test runs with it.
norace='/internal/(capture|ocr)(/|$)'
echo "== go test -race"
go test -race -count=1 -timeout 15m $(go list ./... | grep -Ev "$norace")
echo "== go test (capture and OCR, without -race)"
go test -count=1 -timeout 15m $(go list ./... | grep -E "$norace")
go test -race -count=1 -run '^TestStoreMasterDataConcurrent$' ./internal/capture/

echo "== fuzz (short)"
scripts/fuzz.sh "${FUZZTIME:-8s}"
