// Package mailbox is the IMAP channel: it reads order e-mails and
// fax-to-mail PDFs from one mailbox of an IMAP server
// (github.com/emersion/go-imap/v2) and hands every mail over as one
// channels.Document holding the raw RFC 5322 bytes. It does no MIME
// decoding and no classification: normalize/mail does, in the pipeline.
//
// # Connection
//
// TLS is implicit (port 993) or STARTTLS, with the server certificate
// verified (Config.TLSConfig.RootCAs, default the system pool). A server
// that refuses STARTTLS, answers it without speaking TLS, or sends PREAUTH
// before TLS is refused before any credential is sent. Plaintext needs
// Config.InsecurePlaintext. After Connect, a lost connection is re-made by
// Read with capped exponential backoff (ReconnectMin..ReconnectMax, with
// jitter); documents read on the lost connection cannot be acked any more
// (ErrNotConnected) and are read again.
//
// # What is read, and when
//
// Read returns the mails of the mailbox by ascending UID that carry
// neither the keyword $OrdergateDone nor $OrdergateRejected nor \Deleted,
// fetched with BODY.PEEK[] (the \Seen flag is not touched by reading).
// When none is left it waits with IDLE (unless Config.PollOnly or the
// server lacks IDLE) and searches again on new mail or every Poll.
//
// A mail larger than MaxMessageBytes (by RFC822.SIZE, or found while
// reading) is handed over with Document.Err wrapping channels.ErrTooLarge
// and no body, never skipped; acked Rejected it stays, flagged.
//
// # Source keys
//
// Document.SourceKey is "imap:<host>/<mailbox>:<sha256 of the raw mail>",
// so the same mail read again (after a crash before the ack, a reconnect,
// a UIDVALIDITY change, a server migration) has the same key and intake
// absorbs it, while two different mails never share one. A mail delivered
// again through another hop (other trace headers, so another source key)
// is caught by the pipeline's intake instead: it keys every mail by
// sender and Message-ID (or, without a Message-ID, by the hash of the
// mail without its trace headers) and records a repeat as a duplicate
// document, acked like any other. An oversized mail's key hashes its
// Message-ID, size and internal date instead. Meta carries from (the
// address), subject (sanitised, at most 200 characters), message_id, uid,
// uidvalidity, internal_date and size.
//
// # Acks
//
// Committed: with AfterIngest "move" the mail gets \Seen and
// $OrdergateDone and is moved to DoneMailbox (MOVE, or COPY + \Deleted +
// UID EXPUNGE on servers without MOVE); with "flag" it only gets \Seen and
// $OrdergateDone. Rejected: \Seen and $OrdergateRejected, then a move to
// ErrorMailbox when one is set: the mail is kept and visible. Retry: the
// mail is offered again. Nothing is changed on the server before the ack.
//
// The flag comes before the move, so a mail is never read again once
// acked. A connection lost between the two leaves a flagged mail behind;
// each new session first moves the mails from its checkpoint on that
// carry $OrdergateDone (with "move") or $OrdergateRejected (with an
// ErrorMailbox) to their mailbox, so no acked mail stays in the inbox.
//
// # Checkpoints
//
// With Config.Checkpoints the channel remembers "<UIDVALIDITY>:<UID>":
// every mail up to that UID is acked (Committed or Rejected) or was
// disposed of before. A new connection searches from the UID after it
// while UIDVALIDITY is unchanged; a changed UIDVALIDITY searches the whole
// mailbox again (the done keywords and the source keys keep old mails from
// being ingested twice, and no new mail is skipped). The checkpoint never
// passes a mail read and not acked. Without Checkpoints every search
// covers the whole mailbox: correct, slower on large mailboxes.
//
// Logs carry the sender's domain, never the full address, the subject or
// the body; the password is never logged.
package mailbox
