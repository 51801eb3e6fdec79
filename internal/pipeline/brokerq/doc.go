// Package brokerq is the pipeline's Queue over a message broker, RabbitMQ
// or NATS JetStream, for sites that run one: the stages' messages flow
// through the broker, and the stages of several gateway nodes compete for
// them, while every stage keeps the exactly-once effect of the database
// queue.
//
// # Design: outbox → forwarder → broker → inbox
//
// A Queue is built (New) over an Outbox, a database queue with the
// pipeline's Queue interface (pgq on PostgreSQL in production, the
// SQLite queue in tests), and a broker (Config.Broker, Config.URL).
//
//   - Outbox. NewPublisherInTx publishes into the outbox in the stage's
//     transaction, each message in watermill's forwarder envelope (the
//     destination topic, the message's UUID, payload and metadata) on one
//     outbox topic, ForwarderTopic. A transaction that rolls back publishes
//     nothing.
//   - Forwarder. Run (on every node) is watermill's forwarder: it consumes
//     ForwarderTopic as consumer group ForwarderGroup, unwraps each
//     envelope and publishes the message, UUID and metadata unchanged, to
//     the broker, waiting for the broker's confirm; only then is the
//     outbox message acked. Several nodes' forwarders share the outbox as
//     any consumer group does.
//   - Broker. RabbitMQ: one durable queue per topic, named Prefix+topic,
//     on the default exchange, persistent messages, publisher confirms,
//     manual acks, a prefetch of 10. NATS: one work-queue stream per
//     topic (acked messages are deleted), one durable consumer per topic
//     with explicit acks delivering to a queue group of the same name;
//     names are Prefix+topic with '_' written "__" and '.' written "_d"
//     (JetStream names cannot hold dots). Every subscriber of a topic, on
//     every node, consumes the same queue or consumer: competing
//     consumers. A topic is meant to have one consumer group (each stage
//     consumes its own topic); two groups on one topic would split its
//     messages, not each get all of them.
//   - Inbox. A subscriber (NewSubscriber) delivers each broker message in
//     a transaction of the outbox's database (Outbox.InTx), which
//     TxFromContext returns. The Transactional middleware records
//     (consumer group, message UUID) in the inbox table, InboxTable, with
//     an insert that does nothing on conflict; if the row was there, the
//     message is a redelivery of one whose effect is committed, and it is
//     acked without calling the handler. Otherwise each attempt of the
//     handler runs in a savepoint of the transaction. When the handler
//     acks, the transaction (inbox row, the stage's writes, the next
//     stage's outbox messages) commits and then the broker message is
//     acked; when it nacks, or the commit fails, the transaction rolls
//     back and the broker message is nacked, so the broker delivers it
//     again.
//
// The transaction belongs to the delivery, not to one handler call, as in
// the database queues: middleware outside Transactional (the pipeline's
// quarantine) can still write in it after the handler failed, and ack.
// Messages a handler returns get the message's context.
//
// # Guarantees
//
// A committed stage transaction's messages reach the broker at least once
// (the forwarder re-sends whatever it had not acked to the outbox when it
// crashed or the broker failed), and a rolled back one's never. The broker
// delivers at least once; the inbox makes the effect of each message
// exactly once per consumer group, as long as its inbox row is kept
// (Config.InboxRetention, 7 days by default; Retain deletes older rows).
// On PostgreSQL the inbox insert of a second node delivering the same
// message waits for the first node's transaction, so the two never both
// run the handler's effect. Order is not guaranteed across nodes or
// redeliveries.
//
// # Failures
//
// When the broker is unreachable, the forwarder's publishes fail and the
// outbox redelivers them (the outbox's own retry, which holds SQLite's
// write lock meanwhile: on SQLite a broker outage blocks other writers for
// up to the subscriber's ack deadline at a time; production uses
// PostgreSQL). The RabbitMQ publisher dials again on the next publish;
// every RabbitMQ subscription dials again by itself with backoff from
// 200 ms to 5 s, without being recreated; NATS connections reconnect
// forever (nats.go). A message delivered but not yet acked when the
// connection is lost is delivered again (RabbitMQ at once, NATS after the
// 30 s ack wait), and the inbox recognises it if its transaction had
// committed. New fails when the broker cannot be reached at start-up.
//
// The RabbitMQ client is this package's own on amqp091-go, with
// watermill-amqp's message format (its DefaultMarshaler): watermill-amqp
// v3's reconnecting connection has a data race on reconnect
// (ThreeDotsLabs/watermill#693), which the broker-kill test under -race
// reports. The NATS client is watermill-nats v2.
//
// # Depth and retention
//
// Depth(topic) counts the messages not yet forwarded (the depth of
// ForwarderTopic for ForwarderGroup: all topics together, as they share
// the outbox topic) plus the messages waiting in the broker: for RabbitMQ
// the topic queue's ready messages (not those delivered and unacked), for
// NATS the messages in the topic's work-queue stream (all not yet acked,
// delivered or not). Retain trims the inbox every minute and runs the
// outbox's Retain on ForwarderTopic; the broker drops acked messages
// itself.
//
// # Schema
//
// InitializeSchema creates the outbox's ForwarderTopic, the inbox table
// (SQL for Config.Dialect, SQLite or PostgreSQL) and the topics' queues or
// streams, which also exist before their first subscriber so that nothing
// published early is dropped. Config.URL's password is never logged.
package brokerq
