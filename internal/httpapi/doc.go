// Package httpapi is the gateway's HTTP API: orders with their timeline
// and provenance, documents and their raw bytes, the quarantine of poison
// messages, health, readiness and Prometheus metrics.
//
// Routes use net/http's ServeMux patterns. Every /api route needs
// "Authorization: Bearer <token>": the admin token the gateway reads from
// ORDERGATE_ADMIN_TOKEN (or generates into the data directory), or on the
// order routes a customer's API key. The approval routes also take a
// gateway user's name and password (HTTP Basic, Options.Approvers): the
// user decides in their own approval roles, an admin user may override;
// the admin token decides as admin, an override. Failed sign-ins are
// throttled per user name and remote address like the web UI's (429 with
// Retry-After while locked). Errors are RFC 9457 problem details
// (application/problem+json). The package reads through the Store
// interface it declares and writes nothing.
package httpapi
