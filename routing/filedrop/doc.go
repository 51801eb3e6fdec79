// Package filedrop is a routing.Backend that writes each delivery as one
// file into a folder, for an ERP or WMS that imports from a directory.
//
// The file name is FileName(d): the order id reduced to safe characters
// (ASCII letters, digits, '.', '_', '-'), ".r" and the revision, and the
// format's extension ("ord_01J9.r2.json"). When the id had to be changed to
// be safe, a short hash of the real id is appended so that two ids never
// share a file. The same delivery key therefore always gives the same
// name. A file is written through dirdrop.Outbox: as <name>.part, fsynced,
// linked to <name> without replacing anything, the folder fsynced. A
// redelivery of a key whose file exists creates nothing and returns a
// receipt with Duplicate set, also when the existing file's bytes differ
// (re-rendered with another renderer version); that case is logged.
// DeliverBatch (routing.BatchBackend) writes several deliveries through
// Outbox.WriteBatch: each file written and fsynced as <name>.part, linked,
// and the folder fsynced once for all of them before it returns, with one
// outcome per delivery.
//
// Errors: an invalid delivery wraps routing.ErrPermanent; Deliver after
// Close wraps routing.ErrClosed; file system errors (disk full, permission)
// are returned as they are and retried by the pipeline.
//
// It does not remove or archive files the importer has processed, nor
// notice when the importer has picked a file up; the file name is the
// receipt's ExternalRef.
package filedrop
