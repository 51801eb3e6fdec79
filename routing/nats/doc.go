// Package nats is a routing.Backend that publishes each delivery to a NATS
// JetStream stream and returns only once the stream has acknowledged it.
//
// Every delivery is one message on Subject with the payload as its data,
// the Nats-Msg-Id header set to the delivery key, and the headers
// Content-Type, Ordergate-Key, Ordergate-Order-Id, Ordergate-Revision and
// Ordergate-Format. JetStream drops a message whose Nats-Msg-Id it has
// stored within the stream's duplicate window (default 2 minutes) and
// answers with the first message's sequence, so a retried or concurrent
// redelivery of a key stores one message; the receipt then has Duplicate
// set and the same ExternalRef, "<stream>:<sequence>". A redelivery after
// the window stores a second message with the same Nats-Msg-Id.
//
// With Stream set, New creates that stream (file storage, capturing
// Subject, DuplicateWindow) when it does not exist, or checks that the
// existing one captures Subject, and every publish expects that stream
// (the server refuses it otherwise). With no Stream, the subject must be
// captured by a stream someone else manages; a publish no stream takes
// fails. Core NATS (no JetStream) is not supported: it acknowledges
// nothing, so Deliver could not tell that a message was kept.
//
// Deliver returns nil only after the PubAck. While the server is
// unreachable the connection reconnects in the background and Deliver
// fails at once (publishes are not buffered); a missing ack within
// AckTimeout, an error ack or a lost connection are errors the pipeline
// retries. New fails when the server cannot be reached or the stream
// cannot be created or checked.
//
// It is built on nats.go's jetstream package directly, not on
// watermill-nats: watermill-nats' JetStream publisher publishes with
// context.Background() (Deliver could not honour its context) and
// discards the PubAck, so it cannot report the sequence or whether the
// server deduplicated the message.
package nats
