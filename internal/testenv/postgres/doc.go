// Package postgres runs private PostgreSQL clusters for tests: Debian's
// postgresql package (initdb and postgres from /usr/lib/postgresql/N/bin),
// a new cluster in a temporary directory, listening on 127.0.0.1 on a free
// port with password (SCRAM) authentication, fsync and synchronous_commit
// on, as the postgres user when the tests run as root.
//
// Start gives a test its own cluster (crash tests: StopImmediate is
// pg_ctl stop -m immediate, Start recovers from the WAL). Shared gives
// the tests of one binary one cluster, started on first use and removed
// by RunMain from TestMain; each test takes its own database with
// NewDatabase. Tests skip when PostgreSQL is not installed
// (scripts/install-deps.sh installs it).
package postgres
