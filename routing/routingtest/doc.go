// Package routingtest is the conformance suite every routing.Backend must
// pass. A backend's test calls Run with a factory that builds a fresh
// destination (a temp folder, an in-process HTTP or SFTP server, a broker)
// and says how to open a backend on it and what has arrived there.
//
// Run checks: N deliveries arrive once each, byte-exact, carrying their
// idempotency key, with a receipt; a redelivery of the same key (again,
// concurrently, or from a new backend after a restart) creates no second
// artifact when the destination lets the backend guarantee that
// (Destination.Dedupes), and otherwise every artifact carries the same key;
// a new revision of an order is a new delivery; a cancelled ctx is honoured;
// an invalid delivery fails with routing.ErrPermanent; Close is idempotent
// and Deliver after it fails with routing.ErrClosed.
//
// Retry policy, dead letters and timeouts of slow destinations are the
// pipeline's business and not tested here; a backend's own tests cover
// its transport (status codes, TLS, authentication).
package routingtest
