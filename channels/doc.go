// Package channels is the contract every inbound channel of the gateway
// implements (SFTP drops, mailboxes, the web API, local folders) and the
// Registry the composition root fills with them.
//
// # Model
//
// A Source is Redpanda Connect's input shape: Connect, then Read in a loop,
// then Close. Read blocks until a Document is ready and returns it with an
// AckFunc. The receiver (intake) stores the document's bytes and its
// SourceKey in one transaction and only then calls the AckFunc with the
// Result of that commit:
//
//   - Committed: the store has the document; the source disposes of it
//     (moves the file to done/, flags the mail, answers the HTTP caller).
//   - Rejected(reason): the store has recorded a rejection; the source moves
//     the document aside with the reason (error/ folder, a mail flag).
//   - Retry(): nothing was stored; the source offers the document again.
//
// An AckFunc may be called more than once: after the first call that
// succeeds, further calls do nothing and return nil. A document whose
// AckFunc is never called is read again after the source reconnects or the
// process restarts, with the same SourceKey, so the store's dedupe absorbs
// the repeat. Delivery is at least once; the SourceKey makes it idempotent.
//
// A Document's bytes are a *Body: in memory when small, otherwise in a
// spooled, already unlinked temporary file (documents may be up to 256 MiB,
// so they are never required to fit in memory). The channel hashes the
// bytes while spooling them (Document.SHA256), so the body the receiver
// stores is exactly the body that was hashed, even if the source changes
// afterwards. The receiver owns the Body and closes it when it is done; the
// AckFunc does not depend on it.
//
// An Outbound is where a channel delivers files to a partner (functional
// acknowledgements, order responses). Send is idempotent by name. A
// BatchOutbound also writes several files at once (SendBatch, one outcome
// per file). A SyncGroup in the context of AckFuncs lets a source fsync
// each folder once for a batch of acks instead of once per ack.
//
// # Errors
//
// Read returns an error wrapping ErrNotConnected before Connect and after
// Close (a Read blocked when Close is called returns it too), ctx.Err()
// when its ctx ends, and ErrEndOfInput when a source has a logical end and
// reached it. SanitizeName makes a sender's name safe to use as Document
// Name; CheckName tells whether a name is already safe. A document the channel could not take
// whole (larger than the limit) is still returned, with Document.Err set to
// an error wrapping ErrTooLarge and an empty Body, so that intake records
// the rejection and acks Rejected. Spool returns ErrTooLarge when a body
// exceeds its limit. Outbound implementations return an error wrapping
// ErrInvalidName for a name that is not one safe path element.
//
// # What it does not do
//
// The package has no I/O of its own besides spooling bodies; it knows
// nothing about EDI, orders, storage or routing. Deduplication is intake's
// business, keyed by (channel, SourceKey) and the content hash. The
// conformance suite every Source must pass is in channels/channeltest.
package channels
