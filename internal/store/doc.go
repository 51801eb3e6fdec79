// Package store is the gateway's database: the schema, its migrations and
// the repositories of documents, orders, their timeline, duplicate keys,
// acknowledgements, control numbers, deliveries and quarantined messages.
// It is the only package that knows SQL. Raw bytes live beside it in the
// content-addressed archive (package archive), which Store.Archive returns.
//
// # Model
//
// Open opens an SQLite database (mattn/go-sqlite3) with two pools. The
// write pool begins every transaction IMMEDIATE, runs in WAL mode with
// synchronous=FULL (an intake commit survives power loss) and foreign keys
// on; Open reads these settings back and refuses to run with unsafe ones
// (ErrUnsafeSettings). The read pool is deferred and query-only, for API
// reads that must never take the write lock. Migrations are embedded
// (migrations/NNNN_name.sql), each applied in its own transaction and
// recorded in schema_migrations; a database migrated by a newer binary is
// refused (ErrSchemaTooNew).
//
// Store.Write runs a function in one write transaction. Write transactions
// are serialized by the store (a fair, context-aware gate) and retried as
// a whole, with backoff, when SQLite reports the database busy or locked,
// so no SQLITE_BUSY reaches a caller; the function may therefore run more
// than once. The function gets a *Tx carrying the repository methods and
// the underlying *sql.Tx (Tx.SQL), so the pub/sub adapter can publish the
// next pipeline message in the same transaction (transactional outbox).
// Store.WrapTx gives the same methods over a transaction someone else owns,
// such as a watermill handler's. Store.DB is the write pool for that
// adapter; Store.LockWrites lets it queue in the same gate.
//
// The write path of intake is: Archive().Put the bytes (fsynced, renamed,
// directory fsynced), then Write { InsertDocument, AddEvent, publish }.
// InsertDocument and InsertAck refuse a hash the archive lacks, so no row
// refers to missing content; a failed transaction may leave an
// unreferenced archive file, never a dangling row.
//
// Read methods exist twice: on *Tx, inside the transaction, and on *Store,
// over committed data on the read pool. Store.View runs several reads in
// one read transaction (one consistent snapshot).
//
// Idempotency: InsertDocument on (channel, source key), InsertOrder on
// (document, message index), InsertAck on (document, kind), InsertDelivery
// on (order, backend, order revision) and InsertQuarantine on (topic,
// message uuid) return the stored row and created=false on a repeat.
// ClaimKey records duplicate keys per layer (transport, envelope,
// business) with an expiry.
//
// IDs are prefixed ULIDs (doc_, ord_, evt_, ack_, dlv_, qua_) that sort by
// creation time. Times are stored as INTEGER unix nanoseconds UTC and
// returned in UTC; calendar dates as TEXT YYYY-MM-DD; decimals as the
// sender wrote them; the canonical order as JSON text. Lists are paginated
// with opaque cursors over (time, id), newest first unless asked
// otherwise.
//
// # Errors
//
// ErrNotFound, ErrConflict (optimistic revision check), ErrTransition (a
// state change the row's status does not allow), ErrInvalid (a missing or
// unknown argument), ErrInvalidCursor, ErrMissingContent, ErrSchemaTooNew,
// ErrUnsafeSettings and ErrClosed, wrapped with what the store was doing;
// test with errors.Is. Database errors are wrapped likewise.
//
// # What it does not do
//
// No PostgreSQL driver yet (the SQL sticks to what both dialects accept,
// apart from the append-only triggers and the migration files themselves).
// No retention: nothing deletes documents, archive content, events or
// consumed queue messages. No business decisions: which layer's duplicate
// wins, when an ack or delivery is retried and how often, are the callers'
// policy; the store records them. Never call Write from inside a write
// transaction (Write's function, a handler's transaction, LockWrites): it
// would wait for itself.
package store
