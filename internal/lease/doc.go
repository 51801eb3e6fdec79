// Package lease runs work under named leases, so that a polling channel
// (a partner's SFTP directory, an IMAP mailbox) is polled by exactly one
// gateway node at a time when several nodes share one PostgreSQL, with
// fail-over when the holder dies and fencing tokens against a holder that
// lost its lease without noticing. The hosted SFTP server and the HTTP API
// run on every node and take no lease.
//
// Elector.Lead campaigns for a name and runs a function while this node
// holds the lease; the function's context is cancelled as soon as the
// lease is lost or may be lost. NewPostgres builds the elector of a
// multi-node deployment; Local the one of the single-node SQLite setup,
// where every name is led at once by the only node (tokens still increase,
// Check always succeeds).
//
// # Design: a lease table, not advisory locks
//
// Session advisory locks (pg_try_advisory_lock) were rejected. A session
// lock lives as long as the server keeps the holder's connection: a
// partitioned or hung holder keeps it until TCP keepalive notices, minutes
// with default settings, so fail-over has no bound the gateway controls;
// the holder cannot tell how long it still holds the lock, so it cannot
// stop its work in time; the lock pins one connection of the pool per
// lease, breaks behind a transaction-pooling proxy (PgBouncer), carries no
// fencing token and leaves no trace to inspect.
//
// The lease table ordergate_leases (name, token, node, acquired_at,
// renewed_at, expires_at) has one row per name, never deleted. Every time
// is the database server's (clock_timestamp()), so the nodes' clocks do
// not matter:
//
//   - Acquisition is one statement (INSERT … ON CONFLICT DO UPDATE … WHERE
//     expires_at <= clock_timestamp()) that takes the row only when it is
//     free or expired, increments the token (1 for a new row) and sets
//     expires_at to now + TTL. Two nodes racing for a row serialize on its
//     row lock; the loser's WHERE sees the winner's fresh expiry. The same
//     statement opens a row in ordergate_lease_history (name, token, node,
//     acquired_at, released_at, reason) and closes the previous holder's
//     open one with reason "expired". A node that does not get the lease
//     tries again after Retry, or just after the holder's expiry when that
//     is sooner (the statement returns the remaining time).
//   - Renewal, every Renew, is UPDATE … SET expires_at = now + TTL WHERE
//     name = $1 AND token = $2 AND node = $3 AND expires_at > now: it
//     never revives a lease that expired or was taken over.
//   - Release, when the function returned or Lead's context ended, sets
//     expires_at to now (if this node still holds that token) and closes
//     the history row with reason "released", "stopped" or "lost: …", so
//     another node takes over at its next attempt without waiting for the
//     expiry. It is bounded by TTL/2 even after Lead's context ended. An
//     acquisition in flight when Lead's context ends is awaited for up to
//     min(TTL/4, 1 s), and released if the server granted it. After the
//     function returned on its own, Lead campaigns again after Retry, so
//     other nodes get the first chance and a failing function does not
//     spin.
//   - The elector itself never prunes the history (one row per
//     acquisition); PruneHistory deletes released rows older than a window
//     (the gateway keeps 30 days, pruned hourly by one node).
//   - Init creates both tables with CREATE TABLE IF NOT EXISTS inside a
//     transaction holding an advisory transaction lock, so nodes starting
//     at once do not trip over each other.
//
// # Stopping before the expiry
//
// The holder measures on its local monotonic clock. With margin = TTL/4,
// its deadline is S + TTL − margin, where S is the time at which the last
// confirmed renewal (or the acquisition) was sent. The server set that
// renewal's expiry to at least S + TTL, since it executed the statement
// after S. When the deadline passes without a later renewal confirmed (a
// hung database, a partition, a slow pool), the function's context is
// cancelled with a cause wrapping ErrLost, at least margin before any
// other node can acquire the lease. A renewal that the server refuses
// (the lease expired or was taken over) cancels it at once. A failed
// renewal is retried every Renew/4 until the deadline. Renew is at most
// TTL/2, so one lost renewal does not stop the holder. The function must
// return promptly, within the margin, once its context is cancelled.
//
// Each renewal takes a connection of the pool for one short statement:
// keep enough idle connections (sql.DB.SetMaxIdleConns at least the number
// of names a node leads at once; database/sql keeps only 2 by default), so
// that renewals do not wait for new connections (SCRAM, a backend fork) on
// a loaded machine. A late renewal is safe, only it may stop the holder.
//
// Connection loss and database restarts are survived: the elector keeps
// campaigning and renewing through the pool, database errors are logged at
// most once per 30 s per elector (with the count left out), and
// leadership resumes when the database answers again. A holder whose
// renewals fail past its deadline stops its work in the meantime.
//
// # Fail-over bound
//
// With TTL, Renew and Retry of the configuration, a new holder's function
// starts, counted from:
//
//   - a crash of the holder (kill -9, network loss): within TTL + Retry,
//     plus one statement's round trip. The lease expires TTL after the
//     server ran the last renewal, so between TTL − Renew and TTL after
//     the crash; campaigners return just after that expiry (the remaining
//     time they read), so fail-over typically takes TTL − Renew to TTL,
//     and Retry more only when the campaigners could not read it.
//   - a clean stop (Lead's context ended, or the function returned): within
//     Retry, the next campaign attempt after the release.
//   - a hung holder: the holder stops its function within TTL − margin
//     after its last confirmed renewal was sent; another node starts
//     within TTL + Retry.
//
// With the defaults (TTL 15 s, Renew 5 s, Retry 5 s) that is at most 20 s
// after a crash, typically 10–15 s, and at most 5 s after a clean stop.
// Measured by TestFailover (TTL 2 s, Renew 0.67 s, Retry 0.25 s, loopback,
// race detector on a loaded machine): 1.5–2.0 s from the kill to the new
// holder's start, the killed holder's function cancelled 0.52–0.59 s
// (at least the margin) before that; a clean stop hands over in 0.1–0.2 s.
//
// # Fencing rules
//
//   - Lease.Token is strictly increasing per name across all acquisitions
//     and nodes (the row keeps the counter; it is never deleted). Pass it
//     to anything that can compare it, and make such resources reject a
//     token lower than the highest they have seen.
//   - Call Lease.Check right before an irreversible side effect (deleting
//     or moving a source file, expunging a mail). It fails with ErrLost
//     when the local deadline passed, the lease ended, or the database
//     does not confirm this node, token and an unexpired lease; a database
//     error also fails it (wrapping ErrLost and the cause): without
//     confirmation, do not act. When the database denies the lease, the
//     lease ends as lost and the function's context is cancelled at once.
//     When Check returns nil, the lease is valid on the server for at
//     least the margin (TTL/4) after Check returned.
//   - Stop on ctx.Done: the context of the function ends before the lease
//     can pass to another node. context.Cause tells why.
//   - Local timers cannot protect a process that is paused (SIGSTOP, swap
//     storm, a VM frozen) between a successful Check and its side effect:
//     only the token, checked by the resource itself, covers that case.
//   - The server's clock must not step forward by more than the margin
//     while leases are held; the nodes' clocks do not matter.
//
// # Logs
//
// "lease acquired", "lease lost" (with the reason) and "lease released"
// (with the history reason) carry name, node and token, on the injected
// slog.Logger; an error of the leased function is logged as "lease work
// failed".
package lease
