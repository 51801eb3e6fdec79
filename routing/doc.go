// Package routing is the contract every delivery backend implements
// (webhook, SFTP out, broker, file drop), the Registry the composition root
// fills with them, and the vocabulary of a delivery: Delivery, Payload,
// Format, Receipt. The route table that decides which order goes to which
// backend in which format comes later in this package; the rules are in
// routing/rules.
//
// # Model
//
// A Backend takes one Delivery at a time: the order, its rendered Payload
// (bytes, content type, format; the route chooses the format, RenderJSON
// renders JSON, the CSV, X12 and EDIFACT renderers come later) and an
// idempotency Key made of the order id and the order revision
// (DeliveryKey). The Key is the same on every attempt of the same
// delivery, so a destination that can deduplicate (a file name, an
// Idempotency-Key header, a message id) absorbs retries: a redelivery of
// the same Key must not create a second artifact where the backend can
// guarantee it, and carries the same Key where it cannot. Deliver returns
// a Receipt (the destination's reference, when, a detail, and whether the
// destination already had it) once the destination has the payload
// durably. A BatchBackend also takes several deliveries at once
// (DeliverBatch), with one outcome per delivery.
//
// # Errors
//
// An error wrapping ErrPermanent (use Permanent) means "do not retry": a
// 4xx answer, a bad configuration, an invalid delivery. Any other error is
// retried by the caller with backoff. Deliver after Close returns an error
// wrapping ErrClosed. Delivery.Validate returns errors wrapping
// ErrPermanent.
//
// # What it does not do
//
// Backends do not retry on their own, keep no queue and decide nothing
// about orders: retries with backoff, dead letters and the timeline of
// delivery attempts belong to the pipeline. Every backend runs the
// conformance suite in routing/routingtest.
package routing
