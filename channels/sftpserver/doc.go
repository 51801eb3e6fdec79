// Package sftpserver is ordergate's own SFTP server for trading partners
// who push: they upload order files into in/ and download our
// acknowledgements and order responses from out/. The Server is a
// channels.Source of the uploads; Outbound (or PartnerOutbound) gives the
// channels.Outbound of one user's out/.
//
// # Server
//
// It speaks SSH (golang.org/x/crypto/ssh) and SFTP (a pkg/sftp request
// server with this package's handlers) on Config.Listen, from Connect to
// Close. Only "session" channels with the "sftp" subsystem are served: no
// shell, exec, pty or port forwarding. The host key is read from
// HostKeyFile, or generated there (ed25519, mode 0600) when the file does
// not exist; its SHA256 fingerprint is logged, never the key.
//
// # Users and authentication
//
// Each user is one partner account with its own public keys (authorized_keys
// lines; options other than restrict and the no-* ones are refused).
// Authentication is by public key only; unknown users and keys are refused,
// and failures are logged with the user name and remote address, at most
// once per remote host and AuthLogInterval (with a count of the ones
// suppressed).
//
// # The virtual tree
//
// A user sees "/" with two folders, in/ and out/, and the files directly
// in them; nothing else exists. Every request path is resolved by resolve
// (path.Clean against the virtual root; ".." elements and NUL bytes are
// refused, dot-files do not exist, anything outside in/ and out/ does not
// exist) and every file is opened through an os.Root on <RootDir>/<user>,
// so neither paths nor symbolic links reach outside the user's folder, and
// one partner can never see or touch another's files. Listings show regular
// files only.
//
//   - in/: upload and list. Uploads cannot be read back, appended to,
//     renamed (but for those under a temporary name, see below) or
//     removed.
//   - out/: download, list and remove (after download). Nothing can be
//     written there by the user.
//   - Setstat is accepted and ignored; mkdir, rmdir, link, symlink and
//     any other rename are refused.
//
// # Uploads
//
// An upload is written to in/.upload-<random> and becomes a document only
// when the client closes it successfully: the file is fsynced and linked
// into in/ under the client's base name sanitised with
// channels.SanitizeName (numbered, po.1.edi, when a file of that name is
// still waiting), and Read is woken. An upload whose session ends before
// the close (a dropped connection, a killed client, Close), whose written
// ranges leave a hole, or whose writes break a limit is removed and never
// offered. A write beyond MaxFileBytes, or beyond QuotaBytes (everything
// the user has in in/ and out/, uploads in progress included, in/.error
// not), fails with an SFTP failure status the client sees, and the partial
// file is discarded. In-progress files left by a crash are removed on
// Connect; several servers must not share a RootDir.
//
// # Temporary names
//
// Clients such as WinSCP ("transfer to temporary filename") and FileZilla
// upload under name.filepart (or .part, .partial, .tmp, .temp) and rename
// the file when it is complete. Such an upload is held when closed: it is
// no document, a stat shows its size, and the session's rename of it to
// a real name in in/ makes it one under that name (a rename to another
// temporary name keeps it held). When the session ends first it is
// discarded, its quota given back. Renaming anything else is refused: a
// file completed under its real name may be a document already.
//
// # Reading and acks
//
// Read returns the completed uploads of all users, oldest first, each
// read whole into a channels.Body. Document.Name is the file's name in in/,
// SourceKey is "user=<u> path=<quoted /in/name> size=<n> mtime=<unix nanos>
// sha256=<hex>" (files in in/ never change, so the key is stable across
// Retry, reconnects and restarts, and unique per upload), and Meta has
// sftp_user, partner, remote_path and mtime. A file larger than
// MaxFileBytes (put there by other means, or after the limit was lowered)
// is handed over with Document.Err wrapping channels.ErrTooLarge.
//
// The AckFunc disposes of the file: Committed removes it from in/ (intake
// has archived the bytes, so a .done copy would only use the partner's
// quota); Rejected moves it to in/.error/<name> (numbered when taken) with
// the reason in in/.error/<name>.reason, for an operator to look at;
// Retry leaves it to be read again. Files still in in/ after a restart are
// offered again. An AckFunc called after Close or a reconnect fails with
// channels.ErrNotConnected.
//
// # Outbound
//
// Outbox.Send writes out/<name>.part (never listed or served), fsyncs it,
// links it to out/<name> without replacing anything and fsyncs the folder.
// Sending a name that exists with the same bytes does nothing; with other
// bytes it fails with ErrConflict.
//
// # What it does not do
//
// No password or keyboard-interactive authentication, no resumed or
// appended uploads, no subfolders in in/ or out/, no quota for our own
// files in out/ (Send is never refused for quota).
package sftpserver
