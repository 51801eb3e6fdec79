// Package natsserver starts a private nats-server with JetStream on
// loopback for integration tests.
//
// The server runs /usr/local/bin/nats-server (v2.15, which
// scripts/install-deps.sh installs from the Go module proxy because
// Debian's 2.9 rejects sync_interval), or the nats-server on PATH. It
// listens on a free port on 127.0.0.1 and keeps its JetStream store in a
// temporary directory with `sync_interval: always`, so every message the
// server acknowledged has been fsynced and a kill -9 loses nothing
// acknowledged. Its output goes to a log file.
//
// Kill sends SIGKILL; Start runs the server again on the same store and
// port; Restart does both. Start skips the test when no nats-server is
// installed; Launch returns ErrUnavailable then.
package natsserver
