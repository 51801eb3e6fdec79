// Package pipeline is the gateway's durable flow from intake to delivery.
//
// Intake (TakeBatch) writes a channel's documents to the archive and
// their rows to the store in one transaction. Small EDI documents are
// parsed at intake, outside the write lock, and committed with their
// orders and acks; the others get a doc.received message. Then watermill
// handlers, each committing its state and its next message in the
// transaction the SQLite subscriber delivered the message in (package
// sqliteq), take it on:
//
//	doc.received     -> parse:     decode, map orders, build acks          -> order.parsed
//	order.parsed     -> normalize: partner's customer, business duplicates, then
//	                    decide and route in the same transaction while no rule
//	                    needs a human
//	order.normalized -> decide:    rules (until they land: accept), route
//	order.accepted   -> route:     route table -> deliveries (outbox rows)
//
// The decide and route topics serve orders that reach them another way
// (an approval, a reprocess).
//
// Background workers do what must not run under the write lock: the ack
// sender hands acknowledgements to the partner's outbound channel, the
// delivery worker calls backends, and the source runner acknowledges each
// document at its source once the parse stage has decided on it.
//
// Delivery: the worker leases due deliveries a batch at a time on the
// clock of Deps.Now (tests compress it), calls the backends outside any
// transaction, and records each outcome with a timeline event. A failed
// attempt waits backoffDelay (the backend's initial_backoff doubling to
// max_backoff, jittered over [c/2, c]; the event's data has wait_ms); a
// permanent error or max_attempts makes a dead letter. Each backend has a
// circuit breaker: while it is open its deliveries are not leased, and a
// delivery it turns away in a batch it opened during is deferred without
// counting an attempt (Tx.DeferAttempt). With Deps.BackendSet the
// backends are taken per batch, so a config reload can swap them.
//
// Errors: a handler error is retried a few times (the attempt's writes are
// rolled back to a savepoint each time); an error wrapping ErrPermanent, or
// one that outlives the retries, puts the message in quarantine (visible in
// the API) and marks its document or order quarantined. Handlers never
// call slow or external services: they hold SQLite's single write lock.
package pipeline
