package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// ErrHeader: a header value would break the message (a line break, an
// unreadable address).
var ErrHeader = errors.New("invalid header value")

// Message is one mail to send.
type Message struct {
	// From overrides Config.From ("Name <addr>" or "addr").
	From string
	// To and Cc are addresses ("Name <addr>" or "addr"); To is required.
	To, Cc []string
	// ReplyTo is an optional Reply-To address.
	ReplyTo string
	// Subject may hold any Unicode; it is RFC 2047-encoded as needed.
	Subject string
	// Text is the plain-text body (UTF-8); HTML an optional alternative.
	Text string
	HTML string
	// MessageID is generated when empty ("<random@from-domain>").
	MessageID string
	// InReplyTo and References thread an answer (with angle brackets).
	InReplyTo  string
	References []string
	// AutoReply marks an automatic answer (Auto-Submitted: auto-replied).
	AutoReply bool
	// Date defaults to the time of building.
	Date time.Time
	// Attachments are added as base64 parts.
	Attachments []Attachment
}

// Attachment is a file attached to a Message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Recipients returns the envelope recipients (To and Cc addresses).
func (m *Message) Recipients() ([]string, error) {
	var out []string
	for _, s := range append(append([]string{}, m.To...), m.Cc...) {
		a, err := parseAddress(s)
		if err != nil {
			return nil, err
		}
		out = append(out, a.Address)
	}
	if len(m.To) == 0 {
		return nil, fmt.Errorf("no recipient: %w", ErrHeader)
	}
	return out, nil
}

func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("address with a line break: %w", ErrHeader)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w: %w", s, ErrHeader, err)
	}
	return a, nil
}

// Build renders the message as RFC 5322 bytes with CRLF line ends. from
// is used when m.From is empty; now when m.Date is zero. It fills in
// m.MessageID when empty.
func (m *Message) Build(from string, now time.Time) ([]byte, error) {
	if m.From != "" {
		from = m.From
	}
	fromAddr, err := parseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if _, err := m.Recipients(); err != nil {
		return nil, err
	}
	for _, v := range append([]string{m.Subject, m.MessageID, m.InReplyTo}, m.References...) {
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("header value with a line break: %w", ErrHeader)
		}
	}
	if m.MessageID == "" {
		m.MessageID = newMessageID(fromAddr.Address)
	}
	date := m.Date
	if date.IsZero() {
		date = now
	}
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("Date", date.Format(time.RFC1123Z))
	h("From", fromAddr.String())
	h("To", addressList(m.To))
	if len(m.Cc) > 0 {
		h("Cc", addressList(m.Cc))
	}
	if m.ReplyTo != "" {
		a, err := parseAddress(m.ReplyTo)
		if err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
		h("Reply-To", a.String())
	}
	h("Message-ID", m.MessageID)
	if m.InReplyTo != "" {
		h("In-Reply-To", m.InReplyTo)
	}
	if refs := references(m.References, m.InReplyTo); refs != "" {
		h("References", refs)
	}
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	if m.AutoReply {
		h("Auto-Submitted", "auto-replied")
	}
	h("MIME-Version", "1.0")

	text := textPart(m.Text)
	body := text
	if m.HTML != "" {
		boundary := newBoundary()
		body = multipartBody("alternative", boundary, text, htmlPart(m.HTML))
	}
	if len(m.Attachments) > 0 {
		parts := []string{body}
		for _, a := range m.Attachments {
			parts = append(parts, attachmentPart(a))
		}
		body = multipartBody("mixed", newBoundary(), parts...)
	}
	b.WriteString(body)
	return b.Bytes(), nil
}

func addressList(list []string) string {
	var out []string
	for _, s := range list {
		a, _ := mail.ParseAddress(s) // checked by Recipients
		out = append(out, a.String())
	}
	return strings.Join(out, ", ")
}

// references is the References header: the original's references and
// its Message-ID, without repeats.
func references(refs []string, inReplyTo string) string {
	var out []string
	seen := map[string]bool{}
	for _, r := range append(append([]string{}, refs...), inReplyTo) {
		for _, f := range strings.Fields(r) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return strings.Join(out, " ")
}

// textPart is a text/plain entity (headers and body) in quoted-printable.
func textPart(s string) string { return qpPart("text/plain; charset=utf-8", s) }

func htmlPart(s string) string { return qpPart("text/html; charset=utf-8", s) }

func qpPart(ctype, s string) string {
	var b bytes.Buffer
	b.WriteString("Content-Type: " + ctype + "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")))
	w.Close()
	b.WriteString("\r\n")
	return b.String()
}

func attachmentPart(a Attachment) string {
	ctype := a.ContentType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, a.Name)
	var b strings.Builder
	b.WriteString("Content-Type: " + mime.FormatMediaType(ctype, map[string]string{"name": name}) + "\r\n")
	b.WriteString("Content-Disposition: " + mime.FormatMediaType("attachment", map[string]string{"filename": name}) + "\r\n")
	b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(a.Data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

func multipartBody(sub, boundary string, parts ...string) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/" + sub + "; boundary=\"" + boundary + "\"\r\n\r\n")
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n" + p)
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.String()
}

func newBoundary() string { return "og-" + randHex(12) }

func newMessageID(addr string) string {
	domain := "ordergate.invalid"
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		domain = addr[i+1:]
	}
	return "<" + time.Now().UTC().Format("20060102150405") + "." + randHex(8) + "@" + domain + ">"
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
