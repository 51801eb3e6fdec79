// Package pgq is the pipeline's message queue on PostgreSQL, for several
// gateway processes ("nodes") sharing one database: the PostgreSQL
// counterpart of sqliteq. A stage writes its state, publishes the next
// stage's message and acks the one it handled in one transaction
// (transactional outbox, exactly-once effect), and the nodes share each
// stage's work as competing consumers.
//
// It is built on watermill-sql v4's PostgreSQL queue adapter
// (PostgreSQLQueueSchema and PostgreSQLQueueOffsetsAdapter: its table,
// insert, select, unmarshalling and ack statements) and watermill-sql's
// Publisher, on a *sql.DB opened with github.com/jackc/pgx/v5/stdlib
// (driver "pgx"). The consuming loop is this package's own (Subscriber):
// watermill-sql v4.1.2's Subscriber commits a batch while a handler may
// still be writing in it, acks (with DeleteOnAck: deletes) every row of a
// batch that ended early, including the ones never handled, and resends a
// nacked message into a transaction that may be dead until AckDeadline.
//
// # Storage and table names
//
// Each topic has one table, "ordergate_q_<topic>" (MessagesTable; quoted,
// so case-sensitive, and the store's tables never start with the prefix):
// "offset" BIGSERIAL primary key (watermill-sql's SERIAL would run out
// after 2^31 messages), uuid, payload BYTEA, metadata JSON, acked, and
// created_at. Topics follow watermill-sql's rule (letters, digits and
// - $ : . _) and may be at most 51 bytes long, so that the table name fits
// PostgreSQL's 63-byte identifiers; anything else fails with
// watermill-sql's ErrInvalidTopicName. The pipeline's topics
// ("doc.received", "order.parsed", "order.normalized", "order.accepted")
// are valid. InitializeSchema creates the tables under a transaction-level
// advisory lock, so nodes starting at once do not race on CREATE TABLE IF
// NOT EXISTS.
//
// A queue table holds one "acked" state per message, so a topic serves
// exactly one consumer group (the pipeline has one stage per topic). The
// table "ordergate_qgroups" records each topic's group: the first
// Subscribe claims the topic, and a Subscribe or Depth for a different
// group, on any node, fails with ErrGroupConflict instead of silently
// stealing the other group's messages.
//
// By default a message is deleted by its ack (Config.DeleteOnAck nil or
// true) and Retain returns at once. With DeleteOnAck false, acked rows
// stay (acked = true) and Retain deletes them after Config.RetainGrace.
// Queue tables churn: autovacuum must keep up with them.
//
// # Competing consumers
//
// A subscription runs batches. A batch is one READ COMMITTED transaction
// on one connection of the pool:
//
//	SELECT ... WHERE acked = false ORDER BY "offset" LIMIT BatchSize FOR UPDATE SKIP LOCKED
//
// locks up to BatchSize messages that no other transaction has locked, so
// every subscription of the group, in this process or another node, gets
// different messages and nobody waits for anybody. The messages are
// handed to the handler one at a time, each in a savepoint; the handled
// ones are deleted (or marked acked) and everything commits at once: the
// handler's writes, the messages it published and the acks. A message is
// delivered in offset order within a batch; across batches and nodes
// there is no order.
//
// Each subscription holds a connection for the length of its batch; the
// pool must allow more connections than there are subscriptions, plus
// what publishers and the store need.
//
// # Transactions and savepoints
//
// TxFromContext(msg.Context()) is the batch's transaction: the handler
// writes through it (the store's WrapTx) and publishes through
// NewPublisherInTx(tx), or returns messages that Transactional gives the
// message's context and a publisher from Queue.NewPublisher inserts in the
// same transaction. The handler must never Commit or Rollback it.
//
// In PostgreSQL a failed statement aborts the whole transaction until it
// is rolled back to a savepoint, so:
//
//   - Each delivery runs in a savepoint (pgq_d<offset>). An ack releases
//     it. A nack rolls it back: the attempt's writes are gone and the
//     transaction is usable again. A nack, or a message not acked within
//     AckDeadline plus HandlerGrace, ends the batch: the messages acked
//     before it commit, its lock is released, and a later batch delivers it
//     again (after ResendInterval), on this node or another.
//   - Transactional, the handler middleware, runs each attempt (each call
//     by a retry middleware inside the same delivery) in a savepoint of its
//     own (pgq_a<n>), rolled back when the attempt fails, so a retry starts
//     on a clean, usable transaction and an outer middleware (the
//     pipeline's quarantine) can still write in it. Put it inside (after)
//     the retry middleware.
//
// A message that always fails is delivered again and again, each time in
// a new batch; bounded redelivery is the router's business (retry
// middleware, then the quarantine).
//
// # Stopping
//
// Close, or the end of the Subscribe context, stops a subscription. A
// handler that has a message is given HandlerGrace (default 1s) to
// answer: an ack still counts, a nack is rolled back. A handler that does
// not answer in time is abandoned: its message's context is cancelled and
// the whole batch is rolled back, because its writes could not be told
// apart from the others'. Either way what commits is exactly the acked
// messages and their effects.
//
// # Crashes and lost connections
//
// Acks and effects commit in the same transaction, so whatever happens
// they agree: a message's effect and the messages it published exist
// once, and a message is delivered at least once.
//
//   - A node that crashes loses its connections; PostgreSQL rolls back
//     their transactions, which releases the locks, and the other nodes
//     take the messages (a node cut off without its TCP connections
//     closing holds them until PostgreSQL notices the dead peer: set
//     tcp_keepalives_* on the server).
//   - When the database goes away (crash, restart, failover), a batch
//     fails at its next statement and is given up (PostgreSQL has rolled
//     it back); the subscription retries every RetryInterval on new
//     connections until the database is back. Subscribers and publishers
//     need not be recreated.
//   - A connection lost while the batch's COMMIT was in flight leaves the
//     outcome unknown to the subscriber, but not to the data: either the
//     acks and the effects committed, or neither did and the messages are
//     delivered again.
//   - InTx, the transactions outside handlers (intake, review, retention),
//     runs fn again from the start after a serialization failure (40001),
//     a deadlock (40P01) or a connection lost or refused before COMMIT
//     (class 08, 57P01 to 57P03, network errors), for up to
//     TxRetryTimeout. A connection lost while COMMIT was in flight is not
//     retried, since the transaction may have committed: the error wraps
//     ErrCommitUnknown, and a caller retrying it should make its
//     transaction idempotent (a unique source key, as the intake's).
//
// # Errors
//
// ErrGroupConflict, ErrCommitUnknown, ErrNoTx (Transactional on a message
// that is not from a Subscriber of this package), ErrSubscriberClosed and
// watermill-sql's ErrInvalidTopicName. Errors are wrapped with %w.
package pgq
