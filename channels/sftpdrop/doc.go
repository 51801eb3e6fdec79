// Package sftpdrop pulls documents from a partner's SFTP server as a
// channels.Source (Channel) and writes files to it as a channels.Outbound
// (Channel.Send); Remote is the same upload for other writers (the
// routing/sftp backend). It has the semantics of channels/dirdrop over SFTP.
//
// # Connecting
//
// New refuses to start without a pinned host key (Endpoint.KnownHostsFile
// or HostKeyFingerprint, see channels/sshkeys) and without credentials (a
// private key file and/or a password, resolved by the caller). Connect
// dials once and returns its error (a *sshkeys.MismatchError for a wrong
// host key); after that a background poller owns the connection: when it
// drops, the poller redials with exponential backoff from ReconnectMin to
// ReconnectMax, and Read returns the latest failure (wrapped) while it
// lasts, so the caller logs it and backs off; Read never returns
// channels.ErrNotConnected for a dropped connection, only before Connect
// and after Close. Keepalive requests detect a dead peer.
//
// # Taking files
//
// The poller lists Inbox every Poll while nothing is ready. The listing is
// read page by page over an SFTP session of its own (pkg/sftp's ReadDir
// collects a whole folder first) and stops once MaxFilesPerPoll files are
// ready or 4 x MaxFilesPerPoll files are tracked, checking at every
// PageSize entries: a folder of 100,000 files costs bounded memory and
// time per listing, and later listings see the rest as files leave (the
// listing order of a folder that does not change is stable). Only regular
// files directly in Inbox whose names match Patterns are considered;
// dot-files, names ending in .part or .tmp, done-files, folders and
// symbolic links (never followed: SFTP has no race-free way to check where
// a link points when the file is opened) are ignored. A listed name that is
// not one plain path element (empty, ".", "..", or with '/', '\\' or NUL;
// a server may send anything) is refused and logged once; remote paths are
// only ever built from plain names, and local paths never from remote
// names. Document.Name is channels.SanitizeName of the remote name.
//
// A file is taken when its size and mtime (whole seconds, what SFTP v3
// carries) are unchanged on listings at least MinAge apart by Clock, so a
// file still being written under its final name is not taken; it is never
// taken on its first sighting. In done-file mode (DoneFileSuffix) X is
// taken at once when X+suffix is in the same listing, and never without.
// Ready files of a listing are taken oldest mtime first, then by name, at
// most MaxConcurrent at once, and handed to Read in that order.
//
// A transfer reads exactly the listed size into a spooled channels.Body,
// hashing it (Document.SHA256): a short reply is asked for again from
// where it ended, an end of file before the size is an error (pkg/sftp
// may return short reads without one), a byte after it or a size or mtime
// change during the read means the file changed. Any such failure is
// logged and the file must be stable again; it never becomes a Document.
// A file larger than MaxFileBytes is handed over unread with Document.Err
// wrapping channels.ErrTooLarge, so intake records the rejection and acks
// Rejected.
//
// # Source key
//
// SourceKey is `sftp://host:port path="<remote path>" size=<bytes>
// mtime=<unix seconds> sha256=<hex>`: the same file seen again after a
// restart or a crash between intake's commit and the ack gives the same
// key (intake dedupes it); a file re-dropped under the same name with
// other content gives a new one. A file over the limit has no sha256 in
// its key.
//
// # Acks
//
// Files leave the inbox only in the AckFunc, after the commit, and only if
// they still have the size and mtime they were read with (a file replaced
// since is left for the next listing; one already gone counts as done).
// Committed renames the file into Archive (created when missing) or, with
// DeleteAfterIngest, removes it. Rejected renames it into ErrorDir
// (default Archive/../error, or Inbox/error without an archive: next to
// the archive, so the error folder is found where operators look, and
// outside the inbox listing) with a <name>.error.txt sidecar holding the
// reason, and is never fetched again. Retry leaves the file and lists
// again at once. A name taken in the target folder gets the file's mtime
// before its extension (po.20260101T120000.edi), then a number: nothing is
// replaced (renames check the target first, since some servers replace on
// rename although SFTP v3 says they must not). In done-file mode the
// done-file goes with its file. An AckFunc called after Close or a
// reconnect by the caller fails with channels.ErrNotConnected; one that
// fails for another reason (the connection dropped) releases the file, so
// it is read again later even if the caller does not retry the ack.
//
// # Outbound
//
// Send and Remote.Put write <name>.part in the target folder (created
// when missing), sync it where the server offers fsync@openssh.com, check
// its size, and rename it to <name> without replacing anything: a reader
// never sees a partial <name>. Writing a name that exists with the same
// bytes does nothing; with other bytes it fails with ErrConflict. Writes
// of one name are serialised within the process. Retries are the
// caller's.
//
// # What it does not do
//
// It does not recurse into subfolders, follow symbolic links, resume
// partial downloads (a failed transfer starts over), remember keys across
// restarts (intake does, by SourceKey), or share one inbox between several
// processes safely. pkg/sftp calls take no context: a call whose ctx ends
// returns at once and finishes in the background; Close ends them all by
// closing the connection.
package sftpdrop
