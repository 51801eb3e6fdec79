// Package webhook is a routing.Backend that POSTs each delivery to an
// HTTP(S) endpoint: an ERP's or WMS's order intake, a shop system, an
// integration platform.
//
// # Model
//
// One request per Deliver: the body is Delivery.Payload.Body as it is (the
// canonical order JSON or the rendered X12/EDIFACT/CSV), Content-Type the
// payload's, and the headers
//
//	Idempotency-Key:        Delivery.Key ("<order id>.r<revision>"), the same on every attempt
//	X-Ordergate-Timestamp:  unix seconds when the request was signed
//	X-Ordergate-Signature:  sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>, when a secret is configured
//	X-Ordergate-Attempt:    Delivery.Attempt, informational
//
// A receiver verifies the signature with Verify (or its own HMAC over the
// same bytes) and rejects old timestamps to stop replays; it deduplicates
// on Idempotency-Key. The answer decides:
//
//	2xx                       delivered; Receipt.ExternalRef from the configured response header, else
//	                          the JSON field RefField ("id" by default), else the Idempotency-Key
//	409                       the receiver already has this key: delivered, Receipt.Duplicate
//	408, 429, 5xx             transient: *HTTPError, with Retry-After (seconds or HTTP date) as RetryAfter()
//	other 4xx, 1xx, 3xx       permanent (routing.ErrPermanent): retrying the same request cannot help;
//	                          redirects are not followed (a POST must not turn into a GET, nor the
//	                          signature travel to another host)
//	timeout, network, TLS     transient
//
// TLS certificates are always verified, against the system roots plus
// the CAFile's certificates when one is configured for a private CA.
// Plain http is accepted for loopback hosts only. The response body is
// read up to MaxResponseBytes.
//
// # Errors
//
// Deliver returns errors wrapping routing.ErrPermanent for invalid
// deliveries and final answers, *HTTPError (use errors.As; its RetryAfter
// method is what routing.RetryAfter reads) for status codes, the
// context's error when ctx ends, and routing.ErrClosed after Close.
//
// # What it does not do
//
// No retries, no queue, no backoff (the pipeline's business); no
// authentication schemes besides the signature; the secret is passed in
// resolved and never logged, nor are bodies.
package webhook
