// Package channeltest is the conformance suite every channels.Source (and
// every channels.Outbound) must pass. An adapter's test calls Run with a
// factory that builds a fresh inbox (a temp folder, an in-process SFTP or
// IMAP server) and says how to drop a document into it the way a partner
// would, how to open a source on it, and which documents are still waiting
// in it.
//
// Run checks the promises of the channels contract: every document put is
// read exactly once, byte-exact, with the right SHA-256 and a stable
// SourceKey; a document read and not acked is not handed out twice while in
// flight and is read again after a reconnect or a restart with the same
// key; Committed and Rejected documents leave the inbox and are never read
// again; Retry offers the document again; an AckFunc called twice is
// harmless and one called after Close fails with ErrNotConnected; Close is
// idempotent and unblocks Read; Read honours ctx; empty and large (20 MiB)
// documents and names with spaces and Unicode come through unchanged.
//
// To prove that a document is not read again without waiting a fixed time,
// the suite drops a sentinel document afterwards, whose name sorts last and
// which is put last, and reads until the sentinel arrives: anything else
// read first is a failure. A source must therefore return documents that
// are ready together in name or arrival order (files by mtime then name,
// mail by UID), which every adapter does.
//
// The factory must make documents ready promptly: an adapter that waits for
// a file to be stable (MinAge) gets a clock from its factory that moves on
// quickly. Every blocking call of the suite runs under a deadline
// (Inbox.Timeout, default 30 s), so a broken adapter fails instead of
// hanging. The suite does not test adapter-specific behaviour (stability
// of half-written files, done-files, path confinement): the adapter's own
// tests do.
package channeltest
