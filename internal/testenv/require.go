// Package testenv holds what the real-server harnesses below it share.
// Each subpackage starts one kind of server (RabbitMQ, NATS, OpenSSH,
// Dovecot, PostgreSQL) on loopback for the tests.
package testenv

import (
	"os"
	"testing"
)

// RequireServersEnv names the variable that makes a missing server fail
// the tests instead of skipping them: scripts/test.sh sets it to 1, so a
// broken install cannot pass CI silently.
const RequireServersEnv = "ORDERGATE_REQUIRE_SERVERS"

// Unavailable is what a harness calls when its server cannot run here
// (not installed, not root): it skips tb, or, with
// ORDERGATE_REQUIRE_SERVERS=1, fails it with why.
func Unavailable(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv(RequireServersEnv) == "1" {
		tb.Fatalf("%s (%s=1: the real servers are required here)", why, RequireServersEnv)
		return
	}
	tb.Skip(why)
}
