package mailbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/mailbox"
	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

// memCheckpoints is a Checkpoints in memory, shared by the sources of one
// inbox the way the store's settings table is.
type memCheckpoints struct {
	mu    sync.Mutex
	m     map[string]string
	saves int
}

func (c *memCheckpoints) Load(ctx context.Context, key string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key], nil
}

func (c *memCheckpoints) Save(ctx context.Context, key, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[key] = value
	c.saves++
	return nil
}

func (c *memCheckpoints) get() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps(c.m)
}

func maps(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func randID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// attachmentMail builds a mail carrying body as one base64 attachment
// named name (RFC 2231 filename, RFC 2047 subject).
func attachmentMail(name string, body []byte) []byte {
	var b bytes.Buffer
	boundary := "b-" + randID()
	fmt.Fprintf(&b, "From: Orders <orders@customer.example>\nTo: in@ordergate.test\n")
	fmt.Fprintf(&b, "Subject: %s\nMessage-ID: <%s@customer.example>\nDate: %s\n", mime.QEncoding.Encode("utf-8", name), randID(), time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=%q\n\n", boundary)
	fmt.Fprintf(&b, "--%s\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n", boundary)
	fmt.Fprintf(&b, "Content-Disposition: %s\n\n", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	fmt.Fprintf(&b, "--%s--\n", boundary)
	return b.Bytes()
}

// decodeAttachment returns the first attachment of raw, its name and bytes.
func decodeAttachment(raw []byte) (string, []byte, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", nil, err
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", nil, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	p, err := mr.NextRawPart()
	if err != nil {
		return "", nil, err
	}
	_, dp, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return "", nil, err
	}
	body, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
	return dp["filename"], body, err
}

// attachmentSource presents each mail's attachment as the document, so
// the conformance suite (which puts arbitrary bytes) can compare bytes;
// key, channel, ack and errors are the mailbox source's own.
type attachmentSource struct{ *mailbox.Source }

func (a attachmentSource) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	doc, ack, err := a.Source.Read(ctx)
	if err != nil || doc.Err != nil {
		return doc, ack, err
	}
	raw, err := doc.Body.Bytes()
	doc.Body.Close()
	if err != nil {
		return doc, ack, err
	}
	name, body, err := decodeAttachment(raw)
	if err != nil {
		return doc, ack, fmt.Errorf("decoding the test mail: %w", err)
	}
	doc.Name, doc.Body, doc.SHA256 = name, channels.BytesBody(body), sha256Sum(body)
	return doc, ack, nil
}

// imapClient logs in to the test server over implicit TLS.
func imapClient(t *testing.T, srv *dovecot.Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(srv.IMAPSAddr(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: srv.CAPool, ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatalf("dialing: %v", err)
	}
	if err := c.Login(srv.User, srv.Password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mailState is one mail as the server holds it.
type mailState struct {
	UID     imap.UID
	Subject string
	Flags   []imap.Flag
}

func (m mailState) has(f imap.Flag) bool { return slices.Contains(m.Flags, f) }

// listMails lists a mailbox (EXAMINE: read-only).
func listMails(t *testing.T, c *imapclient.Client, mbox string) []mailState {
	t.Helper()
	sel, err := c.Select(mbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		if strings.Contains(err.Error(), "exist") {
			return nil
		}
		t.Fatalf("examining %s: %v", mbox, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var set imap.SeqSet
	set.AddRange(1, 0)
	bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("fetching %s: %v", mbox, err)
	}
	var out []mailState
	for _, b := range bufs {
		out = append(out, mailState{UID: b.UID, Subject: b.Envelope.Subject, Flags: b.Flags})
	}
	return out
}

// pendingSubjects lists subjects of mails not yet disposed of.
func pendingSubjects(t *testing.T, c *imapclient.Client, mbox string) []string {
	t.Helper()
	var names []string
	for _, m := range listMails(t, c, mbox) {
		if !m.has(mailbox.KeywordDone) && !m.has(mailbox.KeywordRejected) && !m.has(imap.FlagDeleted) {
			names = append(names, m.Subject)
		}
	}
	return names
}
