// Package web is the operator UI of the gateway: server-rendered pages
// (html/template, embedded templates, a hand-written style sheet and a small
// progressive-enhancement script; every page works without JavaScript) for
//
//   - the order desk, where staff key phone orders (channel "phone") and
//     submit them through the same intake as every channel;
//   - the review queue, where fax and e-mail drafts are corrected against
//     the page image, low-confidence fields highlighted, and accepted or
//     rejected;
//   - approvals of held orders, with the rule, the reason and the figures;
//   - the sales reps' tasks (notes and special requests of orders): each
//     user sees the open tasks assigned to them (by name or e-mail
//     address), an admin all; marking one done releases an order that
//     waits for it (a Service that implements TaskService);
//   - order search and the order detail with its timeline, holds, acks and
//     raw document;
//   - the dashboard (channels, today's counts, touchless rate, queues);
//   - user administration and the audit log (admins).
//
// Everything the screens read or change beyond users goes through the
// Service interface (the gateway implements it over the store and the
// pipeline; webtest.Service is an in-memory one for tests). Users, sessions,
// the audit log and login throttling go through Users, which *store.Store
// implements.
//
// Security: local users with argon2id password hashes (PHC strings) and the
// roles admin, approver and desk; one policy table maps routes to the roles
// allowed (policy.go); sessions are 32 random bytes in an HttpOnly,
// SameSite=Lax cookie (Secure and __Host- prefixed under TLS), stored only
// as their SHA-256, replaced on every login, ended by idle and absolute
// timeouts and by logout on the server; every state-changing route runs
// behind net/http.CrossOriginProtection; failed logins are throttled per
// user and per remote address with an exponential lockout; logins,
// approvals, edits, desk submissions and admin overrides are written to the
// hash-chained audit log. Logs carry user names and ids, never passwords,
// session ids or order contents.
//
// The package does not implement the intake, the rules or the pipeline: it
// hands decisions to the Service, which owns them.
package web
