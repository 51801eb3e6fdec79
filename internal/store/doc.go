// Package store is the gateway's database: the schema, its migrations and
// the repositories of documents, orders, their timeline, duplicate keys,
// acknowledgements, control numbers, deliveries and quarantined messages.
// It is the only package that knows SQL. Raw bytes live beside it in the
// content-addressed archive (package archive, or a table of the database
// on PostgreSQL), which Store.Archive returns.
//
// # Drivers
//
// Options.Driver chooses the database: "sqlite" (the default; Path) for
// one node, or "postgres" (DSN, through pgx's database/sql driver) for
// several gateway nodes sharing one database. Both speak database/sql, so
// *sql.Tx stays the interface for Write, WrapTx and Tx.SQL. The
// repositories write their SQL once, with ? placeholders; a querier
// wrapping every pool, connection and transaction rebinds them to $1..$n
// for PostgreSQL (cached per query text; ? inside quoted strings,
// identifiers and comments is left alone), so no call site can forget.
// The few statements that differ (the PRAGMA checks, the audit log's
// lock, FOR UPDATE) branch on Store.Driver, as does the compression of
// large values on SQLite (PostgreSQL's TOAST compresses them itself).
//
// # Model: SQLite
//
// Open opens an SQLite database (mattn/go-sqlite3) with two pools. The
// write pool begins every transaction IMMEDIATE, runs in WAL mode with
// synchronous=FULL (an intake commit survives power loss) and foreign keys
// on; Open reads these settings back and refuses to run with unsafe ones
// (ErrUnsafeSettings). The read pool is deferred and query-only, for API
// reads that must never take the write lock. The log's checkpoints run
// in the background, outside the write lock (walcheckpoint.go): a writer
// checkpoints in its own commit only when the log passes 16 MB.
//
// Store.Write runs a function in one write transaction. Write transactions
// are serialized by the store (a context-aware gate serving writers in
// order of arrival, except that urgent ones, marked with UrgentWrite, go
// first while no other writer has waited longer than 100 ms) and retried as
// a whole, with backoff, when SQLite reports the database busy or locked,
// so no SQLITE_BUSY reaches a caller; the function may therefore run more
// than once. The function gets a *Tx carrying the repository methods and
// the underlying *sql.Tx (Tx.SQL), so the pub/sub adapter can publish the
// next pipeline message in the same transaction (transactional outbox).
// Store.WrapTx gives the same methods over a transaction someone else owns,
// such as a watermill handler's. Store.DB is the write pool for that
// adapter; Store.LockWrites lets it queue in the same gate.
//
// # Model: PostgreSQL
//
// One pool (Options.MaxConns, 20 by default) serves writes and reads;
// Store.DB is that pool. There is no write gate: write transactions run
// concurrently, of this process and of other nodes, at READ COMMITTED,
// and LockWrites returns at once with a release that does nothing.
// Write retries fn as a whole, with the same backoff, when PostgreSQL
// reports a serialization failure (40001) or a deadlock (40P01) before
// the commit or rejects the COMMIT with one of them; a COMMIT that failed
// otherwise has an unknown outcome and is returned, never retried.
// View runs READ ONLY at REPEATABLE READ (one snapshot).
//
// What SQLite's single writer made safe is atomic by construction: the
// idempotent inserts are INSERT ... ON CONFLICT DO NOTHING followed by a
// read of the winner (READ COMMITTED waits for a concurrent insert of the
// same key and then sees it, so the loser gets created=false); control
// numbers, login counters, checkpoints, approvals and duplicate-key claims
// are single upsert statements (... DO UPDATE ... RETURNING); revision
// and status checks are in the UPDATE's WHERE, which PostgreSQL
// re-evaluates on the row a concurrent writer left; SetOrderStatus locks
// the order (FOR UPDATE) and patches its JSON in Go (jsonb would reorder
// the keys of the canonical JSON); the master-data upserts insert first
// and lock the row they compare; AppendAudit locks audit_log (SHARE ROW
// EXCLUSIVE, readers go on) because its hash chain reads the last row. A
// foreign transaction given to WrapTx must be READ COMMITTED too: at
// REPEATABLE READ the idempotent inserts fail with 40001 instead of
// returning the winner.
//
// # Migrations
//
// Migrations are embedded, one set per dialect with the same versions
// and names (migrations/sqlite/NNNN_name.sql, migrations/postgres/
// NNNN_name.sql), each applied in its own transaction and recorded in
// schema_migrations as (version, name), so the SQLite databases migrated
// before PostgreSQL existed are not migrated again. PostgreSQL's schema is
// SQLite's with BIGINT for integers and unix-nanosecond times, BYTEA for
// blobs, text compared bytewise (COLLATE "C", like SQLite's BINARY; user
// names with an ICU case-insensitive collation, like NOCASE), flags kept
// as 0/1 integers, and the append-only triggers as PL/pgSQL (TRUNCATE
// included). On PostgreSQL each migration transaction first takes an
// advisory lock (pg_advisory_xact_lock), so nodes starting at once apply
// each migration once. Open migrates unless Options.SkipMigrate is set,
// in which case it refuses a database that is behind (ErrSchemaTooOld,
// naming "ordergate migrate"); Migrate applies the pending migrations
// alone and returns their names. A database migrated by a newer binary
// is refused either way (ErrSchemaTooNew).
//
// # Archive
//
// Store.Archive returns an Archive: by default the file archive
// (package archive) in Options.ArchiveDir, which several PostgreSQL nodes
// must share; with Options.ArchiveInDB (either driver) the database's
// tables archive_blobs (sha256, size, body: the first BlobChunk bytes)
// and archive_chunks (sha256, seq, data: the following chunks, for
// larger content). Content is streamed through one chunk of memory
// when stored and when read, whatever its size. On SQLite content of one
// chunk is stored as a zstd frame when that is smaller (a body shorter
// than the content's size says so). Put commits the bytes in
// a transaction of its own, is idempotent, checks PutExpect's size and
// hash, and Open's reader reports archive.ErrCorrupt at the end of bytes
// that no longer match their hash (a chunk changed, missing or extra).
// With ArchiveInDB an ArchiveDir that exists is read too, never written:
// content the database lacks (archived as files before the switch) is
// opened there, so a deployment switches without migrating anything.
//
// The write path of intake is: Archive().Put the bytes (durable when it
// returns), then Write { InsertDocument, AddEvent, publish }. On SQLite
// with ArchiveInDB (Store.ArchiveInTx) the bytes are instead written by
// Tx.PutContent inside that transaction, before InsertDocument: the
// commit (one WAL fsync for a batch) is the archive's only fsync, and a
// rolled-back intake leaves no content behind. InsertDocument and
// InsertAck refuse a hash the archive lacks, so no row refers to missing
// content; a failed transaction may leave unreferenced content in the
// file archive or in a Put of its own, never a dangling row.
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
// business, message: a mail's sender and Message-ID) with an expiry.
//
// IDs are prefixed ULIDs (doc_, ord_, evt_, ack_, dlv_, qua_) that sort by
// creation time. Times are stored as 64-bit unix nanoseconds UTC and
// returned in UTC; calendar dates as TEXT YYYY-MM-DD; decimals as the
// sender wrote them; the canonical order as JSON text, on SQLite as a
// zstd frame of it when over 2 KB (canonical.go). Lists are paginated
// with opaque cursors over (time, id), newest first unless asked
// otherwise.
//
// # Errors
//
// ErrNotFound, ErrConflict (optimistic revision check), ErrTransition (a
// state change the row's status does not allow), ErrInvalid (a missing or
// unknown argument), ErrInvalidCursor, ErrMissingContent, ErrSchemaTooNew,
// ErrSchemaTooOld, ErrUnsafeSettings and ErrClosed, wrapped with what the store was doing;
// test with errors.Is. Database errors are wrapped likewise.
//
// # What it does not do
//
// No sharding or replicas: PostgreSQL nodes share one primary. No
// distributed lock beyond the database's own: work that must run on one
// node at a time (pollers, schedulers) is the callers' to elect.
// No retention of what is referred to: nothing deletes documents, events,
// consumed queue messages or archive content a row refers to
// (PruneArchive deletes only the database archive's unreferenced
// content, older than the caller's cutoff). No business decisions: which layer's duplicate
// wins, when an ack or delivery is retried and how often, are the callers'
// policy; the store records them. Never call Write from inside a write
// transaction (Write's function, a handler's transaction, LockWrites): on
// SQLite it would wait for itself, on PostgreSQL it would commit
// separately and could wait on its own row locks.
package store
