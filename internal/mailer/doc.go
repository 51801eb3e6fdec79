// Package mailer sends the gateway's e-mails: order confirmations and
// "please resend" answers to the sender of an order mail, and task
// notifications to sales reps. It is an SMTP client
// (github.com/emersion/go-smtp) with STARTTLS (default, port 587) or
// implicit TLS (port 465), the server certificate verified, and PLAIN
// authentication with a password the caller resolved from its reference.
// It never sends credentials without TLS: a server that does not offer
// STARTTLS is refused unless Config.InsecurePlaintext is set (and then no
// TLS is tried at all).
//
// Message builds RFC 5322 mail: Date, a fresh Message-ID on the sender's
// domain, MIME-Version, UTF-8 text (quoted-printable) with an optional
// HTML alternative and attachments, RFC 2047-encoded subjects and display
// names, In-Reply-To and References for answers, and Auto-Submitted:
// auto-replied on automatic answers (RFC 3834) so that auto-responders do
// not loop. Header values with line breaks are refused (header
// injection).
//
// Confirmation, PleaseResend and SalesRepTask render the three templates
// (text/template, German and English in one mail) into a Message.
//
// Logs carry recipient domains and the Message-ID, never full addresses,
// bodies or the password.
package mailer
