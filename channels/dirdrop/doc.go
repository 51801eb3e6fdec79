// Package dirdrop is a local inbox folder as a channels.Source (Dir), with
// the semantics of the SFTP drops, and a local outbox folder as a
// channels.Outbound (Outbox). It is the embedded default channel.
//
// # Taking files
//
// Dir lists the inbox every Poll. It considers only regular files directly
// in the inbox whose names match one of Patterns; dot-files, names ending
// in .part or .tmp, done-files and subdirectories (done/ and error/
// included) are ignored. A file is taken once its size and mtime have been
// the same on listings at least MinAge apart, judged by the injected Clock,
// so a file still being written under its final name is not taken; it is
// never taken on its first sighting. In done-file mode (DoneFileSuffix, e.g.
// ".ok") a file X is taken at once when X.ok exists, and never without it.
// Ready files are read oldest mtime first, then by name.
//
// A file is read whole into a spooled channels.Body and hashed on the way;
// if its size or mtime changed during the read, or fewer or more bytes came
// than its size said, the read is discarded and the file must be stable
// again. A file larger than MaxFileBytes is handed over unread, with
// Document.Err wrapping channels.ErrTooLarge, so intake records the
// rejection and acks Rejected.
//
// Every file access goes through os.Root: reads through a root opened on
// the inbox, moves through a root opened on the nearest common folder of
// the inbox, DoneDir and ErrorDir. A symbolic link is followed only inside
// the inbox; one that points outside (or is absolute) is refused, logged
// once, and left alone.
//
// # Source key
//
// SourceKey is `size=<bytes> mtime=<unix nanos> sha256=<hex> path=<quoted
// name>`. The exact same file seen again (after a crash between the intake
// commit and the move) gives the same key, so intake dedupes it; the same
// name dropped again with other content gives a new key (the hash differs,
// and so, nearly always, do mtime and size); the same content dropped
// again later gives a new key too (new mtime), and the content-hash layer of
// intake decides about it. A file over the limit has no sha256 in its key.
//
// # Acks
//
// Files leave the inbox only in the AckFunc, after the commit. Committed
// moves the file to DoneDir, Rejected to ErrorDir with a sidecar
// <name>.error.txt holding the reason; in done-file mode the done-file is
// removed. A name taken in done/ or error/ gets a number before its
// extension (po.edi, po.1.edi, po.2.edi): nothing is ever replaced. Moves
// are hard links then removals (a rename where the file system has no hard
// links), so DoneDir and ErrorDir must be on the inbox's file system; the
// folders are fsynced after each move, or, when the AckFunc's context
// carries a channels.SyncGroup, once per folder for all the acks of the
// group when its Sync is called. A move interrupted by a crash
// between link and removal is completed by the next ack of the same file.
// If the file was replaced under the same name between read and ack, the
// new file is left alone and read as a new document. Retry leaves the file
// and offers it again on the next Read. An AckFunc called after Close or a
// reconnect fails with channels.ErrNotConnected; the file stays and is read
// again.
//
// # Outbox
//
// Outbox writes <name>.part, fsyncs it, links it to <name> without
// replacing an existing file, and fsyncs the folder. Sending a name that
// exists with the same bytes creates nothing (the folder is fsynced, in
// case a crash came between link and fsync); with other bytes it fails
// with ErrConflict. SendBatch and WriteBatch (a channels.BatchOutbound) do
// the same for several files with one folder fsync: every .part written
// and fsynced, then linked, then the folder fsynced once, then return; the
// outcome is per file, so one failing file leaves the others written.
//
// # What it does not do
//
// It does not watch the folder with inotify (polling is enough and works on
// network mounts), recurse into subfolders, remember keys across restarts
// (intake does, by SourceKey), or move files across file systems. Several
// processes must not share one inbox.
package dirdrop
