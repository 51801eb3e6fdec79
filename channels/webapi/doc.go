// Package webapi is the HTTP channel for web shops and B2B platforms:
// POST /api/v1/orders (Route) takes one order as JSON from a customer's
// API key and hands it to intake, answering only after intake's durable
// commit.
//
// # Model
//
// The body is the documented input subset of the canonical order JSON
// (ARCHITECTURE.md section 3): purpose, order_type, po_number, po_date,
// currency, requested_delivery, notes, references, parties, lines and
// totals, with decimals as JSON strings and dates as YYYY-MM-DD. The
// members the gateway sets (id, channel, source, customer_id, status,
// holds, provenance, ...) and unknown members are refused, each with its
// JSON pointer, so a misspelt field is never silently lost. The handler
// adds "id" (an "ord_" ULID it assigns), "channel": "web", "source"
// ({"standard": "JSON", "request_id"}) and "customer_id" from the key, and
// passes the result through Options.Validate, the contract check every
// channel shares (the composition root builds it on the canonical order's
// Validate, turning its field paths into pointers with Pointer).
//
// A request is authenticated by "Authorization: Bearer <key>", a customer
// API key looked up through Keys; the key must carry ScopeOrdersWrite. The
// order is stored for the key's customer whatever the body says.
//
// Idempotency: the Idempotency-Key header (1 to 255 visible ASCII
// characters) names the submission; intake stores the document under the
// source key "web:<customer>:<idempotency key>". A repeat with the same
// key and the same order (compared by the hash of the client's order in
// canonical form, Submission.RequestSHA256, not of the stored body, which
// differs by the assigned id) gets the first answer again: 202 with the
// first order's id and "Idempotent-Replayed: true". The same key with
// another order is 409. Without the header every request is a new order.
//
// # Answers
//
//	202 {"order_id", "status": "received", "links": {"self"}} and Location, after the commit
//	400 malformed JSON, unknown or gateway-set members, wrong types, bad decimals or dates,
//	    an invalid Idempotency-Key header (problem+json with pointers)
//	401 no key, or a malformed, unknown or revoked key
//	403 the key lacks ScopeOrdersWrite
//	409 the Idempotency-Key was used with another order
//	413 the body exceeds Options.MaxBodyBytes
//	415 the Content-Type is not application/json (UTF-8)
//	422 the order fails the contract check (problem+json with pointers)
//	503 intake or the key lookup failed; nothing is promised stored, retry with the same key
//
// Problems are RFC 9457 application/problem+json with a type URI
// (ProblemInvalidJSON, ...) and an "errors" list whose entries carry a
// JSON pointer (RFC 6901) into the body or the header's name.
//
// # What it does not do
//
// No storage and no validation of business rules: Keys (API keys, hashed
// at rest, in internal/store) and Intake (the pipeline's intake) are
// implemented by the composition root, which mounts the Handler on the
// API server. The package imports only the channels layer's allowances:
// the standard library, govalues/decimal (to check decimals) and
// oklog/ulid. Reads of orders (GET /api/v1/orders) are served by the API
// server with the same keys, scoped to the key's customer.
package webapi
