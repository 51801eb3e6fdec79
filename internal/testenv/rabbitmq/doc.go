// Package rabbitmq starts a private RabbitMQ broker (Debian's
// rabbitmq-server) on loopback for integration tests.
//
// Each Server has its own node name, its own data, log and config files in
// a temporary directory owned by the rabbitmq user, a free AMQP port and a
// free Erlang distribution port, both bound to 127.0.0.1. It runs as the
// rabbitmq user with stdout and stderr in a log file, so no pipe outlives
// it. The broker is configured with a classic Erlang-terms config file,
// which skips the cuttlefish schema compilation of rabbitmq.conf and saves
// a few seconds of start-up.
//
// Start-up costs about 9 to 14 seconds on a 2-core machine (most of it is
// RabbitMQ loading its modules and checking its schema), so a package
// should start one Server and share it (Launch in TestMain or a sync.Once,
// Start in a single test) rather than one per test.
//
// Kill sends SIGKILL to the broker's process group (the start script and
// the beam VM): nothing is flushed or closed cleanly. Start runs the broker
// again on the same data directory and ports. epmd, which the first broker
// on the machine starts as a daemon bound to 127.0.0.1, is left running: it
// is shared by every Erlang node and forgets a node when the node's
// process dies.
//
// Start skips the test when not running as root, when the rabbitmq user
// or rabbitmq-server is missing (scripts/install-deps.sh installs it);
// Launch returns ErrUnavailable in those cases.
package rabbitmq
