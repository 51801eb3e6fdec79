// Package archive is the content-addressed store of raw document bytes:
// every document the gateway received and every acknowledgement it sent,
// exactly as they were on the wire.
//
// Content is addressed by its SHA-256 (a Hash, written as 64 lower-case hex
// digits) and kept under the archive directory with a two-level fan-out:
// the content with hash abcdef... is the file ab/cd/abcdef.... Put streams
// the content into a temporary file under tmp/ while hashing it, fsyncs the
// file, renames it to its final name and fsyncs the directory, so that when
// Put returns the bytes survive a power loss. Callers therefore Put first
// and only then commit a database row that refers to the hash: a crash in
// between leaves an unreferenced file, never a row without its content.
//
// Put is idempotent: the same content stored twice, concurrently or not, is
// one file. PutExpect additionally checks the size and hash the sender
// announced, so a short read is caught before anything refers to it. Open
// verifies the hash while the caller reads and reports ErrCorrupt at the end
// of a file whose bytes no longer match their name.
//
// Errors: ErrNotFound (no content with that hash), ErrCorrupt (stored bytes
// do not match their hash), ErrMismatch (content differs from what
// PutExpect was told to expect), and *fs.PathError and friends from the
// file system, wrapped with what the archive was doing.
//
// The archive does not delete content (retention is a later job that must
// know which hashes the database still refers to), does not compress or
// encrypt, and is meant to be owned by one process: New removes temporary
// files a crashed Put left behind.
package archive
