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
echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== fuzz (short)"
scripts/fuzz.sh "${FUZZTIME:-8s}"
