// Package dovecot starts a real Dovecot IMAP server on loopback for tests
// of the mail code (channels/mailbox): its own configuration, base_dir,
// state and maildir under a fresh folder, one passwd-file user with a
// plaintext password, a test CA and a server certificate for implicit TLS
// (imaps) and STARTTLS (imap), and free ports.
//
// Start(t) needs root (Dovecot drops privileges to its service users and
// to the mail uid) and the Debian package dovecot-imapd; without them it
// skips the test with the reason. Deliver hands a raw mail to
// /usr/lib/dovecot/dovecot-lda as the real mail system would (never by
// writing into the maildir). Restart stops and starts the server on the
// same ports; ResetUIDValidity makes a mailbox get a new UIDVALIDITY while
// its mails stay (what a server migration or a rebuilt index does).
//
// Dovecot accepts plaintext logins from loopback: a test that must prove a
// client sends no credentials in clear uses a fake server, not this one.
//
// Everything (the process, the folder) is removed in t.Cleanup; the
// server's log is printed when the test failed.
package dovecot
