// Package sftp is a routing.Backend that uploads each delivery as one file
// into a folder on an SFTP server, for an ERP or WMS that imports from
// there.
//
// The file name is filedrop.FileName(d): the order id reduced to safe
// characters, ".r", the revision and the format's extension
// ("ord_01J9.r2.edi"), so the same delivery key always gives the same name.
// A file is written through sftpdrop.Remote.Put: as <name>.part, synced
// where the server offers fsync@openssh.com, its size checked, then renamed
// to <name> without replacing anything, so the importer never sees a
// partial file. A redelivery of a key whose file exists writes nothing and
// returns a receipt with Duplicate set, also when the existing file's
// bytes differ (re-rendered by another renderer version; that case is
// logged). Concurrent deliveries of one key in one process are serialised.
//
// The connection (host key pinning, key or password login) is sftpdrop's:
// it is dialed on the first delivery and again after it drops; a backend
// without a pinned host key does not start.
//
// Errors: an invalid delivery wraps routing.ErrPermanent; Deliver after
// Close wraps routing.ErrClosed; connection, host key and server errors
// are returned as they are and retried by the pipeline.
//
// It does not remove files the importer has processed, nor notice when
// the importer picked a file up; the remote path is the receipt's
// ExternalRef.
package sftp
