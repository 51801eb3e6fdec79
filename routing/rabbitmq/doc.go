// Package rabbitmq is a routing.Backend that publishes each delivery as one
// persistent AMQP 0-9-1 message to RabbitMQ and returns only once the broker
// has confirmed it (publisher confirms).
//
// Topology: with Queue alone the message goes through the default exchange
// to that queue; with Exchange it goes to that exchange with RoutingKey
// (default: Queue), and a Queue given too is bound to it with that key. A
// queue or exchange that exists is used as it is (a quorum queue, say);
// one that is missing is declared durable (the exchange of ExchangeType,
// default "direct"). Every message is published persistent (delivery mode
// 2) and mandatory, so a message no queue takes is returned by the broker
// and the delivery fails instead of vanishing.
//
// Message: the body is the payload, ContentType the payload's, MessageId
// the delivery key (consumers dedupe on it: RabbitMQ itself does not, so a
// retried delivery may arrive twice, with the same MessageId), plus the
// headers ordergate-key, ordergate-order-id, ordergate-revision and
// ordergate-format. The receipt's ExternalRef is the message id.
//
// Deliver returns nil only after the broker's ack for that message, and,
// while the topology the backend declared itself is new, only once that
// topology is stored for good: a confirm covers the message, not the
// definition of a queue declared a moment ago, which RabbitMQ (3.x,
// Mnesia) keeps in disk_log's write cache for up to 2 s. A broker killed
// in that window forgets the queue and every message in it. So after a
// session declared a queue, exchange or binding, Deliver waits until
// DefinitionFlush (default 3 s) after the declare, then checks that the
// connection stayed up throughout and that a passive declare finds the
// queue; a connection lost in the window is an error the pipeline
// retries (the next session declares the queue again if it is gone). This
// costs the first deliveries after a declare up to 3 s, once; a topology
// that exists is not declared and costs nothing.
//
// A nack, a return (unroutable), a confirm that does not come within
// ConfirmTimeout, a closed connection or an unreachable broker are errors
// the pipeline retries. The backend keeps one connection with one channel
// in confirm mode, shared by concurrent Delivers (each waits for its own
// confirm). When the connection or channel dies (broker restart, channel
// error) the next Deliver dials again, declares the topology and goes on;
// while the broker stays down, dial attempts are spaced with a capped
// backoff and Deliver fails fast in between. New fails when the broker
// cannot be reached or the topology cannot be declared.
//
// It is built on github.com/rabbitmq/amqp091-go directly, not on
// watermill-amqp: watermill-amqp's publisher waits for a confirm with no
// context or timeout (Delivered blocks on the confirm channel), its channel
// pool drops a channel for good when reopening it fails after a broker
// restart (Publish then blocks forever once the pool is empty), and its
// reconnect swaps fields without synchronisation (a data race under -race).
//
// The URL carries the password: it is never logged nor put in errors.
package rabbitmq
