package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

// TestHostileMailsEndToEnd: a 50 MB mail, a mail of 10,000 MIME parts, a
// fax whose PDF is a decompression bomb and a fax whose PDF is broken
// reach a running gateway through Dovecot: each is rejected with its
// reason and moved to the error mailbox, the gateway stays
// ready all along, and an order mail after them is processed.
func TestHostileMailsEndToEnd(t *testing.T) {
	dv := dovecot.Start(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := strings.Replace(fmt.Sprintf(imapConfig, port, dv.IMAPPort, dv.User), "    poll: 200ms\n", "    poll: 200ms\n    max_message_bytes: 25MiB\n    error_mailbox: Rejected\n", 1)
	for name, body := range map[string][]byte{"config.yaml": []byte(cfg), "ca.pem": dv.CACertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	head := func(subject, from string) string {
		return fmt.Sprintf("From: %s\r\nTo: orders@toolsupply.example\r\nSubject: %s\r\nMessage-ID: <%s@hostile.test>\r\n"+
			"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n", from, subject, strings.ReplaceAll(subject, " ", "-"))
	}
	var huge bytes.Buffer
	huge.WriteString(head("huge", "einkauf@baumarkt-nord.de") + "Content-Type: text/plain\r\n\r\n")
	line := strings.Repeat("x", 998) + "\r\n"
	for huge.Len() < 50<<20 {
		huge.WriteString(line)
	}
	var parts strings.Builder
	parts.WriteString(head("parts", "einkauf@baumarkt-nord.de") + "Content-Type: multipart/mixed; boundary=P\r\n\r\n")
	for i := range 10000 {
		fmt.Fprintf(&parts, "--P\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	parts.WriteString("--P--\r\n")
	mails := map[string][]byte{
		"huge":   huge.Bytes(),
		"parts":  []byte(parts.String()),
		"bomb":   attachmentMail("gateway@fax.example.com", "Fax from +49 40 1234560", "bomb.pdf", "application/pdf", fixtures.ImageBombPDF(40000, 40000)),
		"broken": attachmentMail("gateway@fax.example.com", "Fax from +49 40 1234561", "broken.pdf", "application/pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog")),
	}
	g := start(t, dir, port, "OG_TEST_IMAP_PASSWORD="+dv.Password)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", g.log)
		}
	})
	stop := make(chan struct{})
	notReady := make(chan string, 100)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			resp, err := http.Get(g.url("/readyz"))
			if err != nil {
				notReady <- err.Error()
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				notReady <- resp.Status
			}
		}
	}()
	start := time.Now()
	for _, name := range []string{"huge", "parts", "bomb", "broken"} {
		dv.Deliver(mails[name])
	}
	dv.Deliver(ediMail(1))
	type doc struct {
		Status   string            `json:"status"`
		Error    string            `json:"error"`
		Metadata map[string]string `json:"metadata"`
	}
	var docs []doc
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("documents: %+v", docs)
		}
	})
	waitFor(t, 60*time.Second, "five documents decided, the inbox empty", func() bool {
		var page struct {
			Documents []doc `json:"documents"`
		}
		g.getJSON("/api/v1/documents?limit=100", &page)
		docs = page.Documents
		decided := 0
		for _, d := range docs {
			if d.Status != "received" {
				decided++
			}
		}
		return decided == 5 && countMails(dv.MailboxDir("INBOX")) == 0 && countMails(dv.MailboxDir("Rejected")) == 4
	})
	close(stop)
	t.Logf("all decided in %s", time.Since(start).Round(time.Millisecond))
	want := map[string]string{"huge": "too large", "parts": "mime parts", "Fax from +49 40 1234560": "limit", "Fax from +49 40 1234561": "unreadable"}
	seen := 0
	for _, d := range docs {
		subject := d.Metadata["subject"]
		says, ok := want[subject]
		if !ok {
			continue
		}
		seen++
		if d.Status != "rejected" || !strings.Contains(strings.ToLower(d.Error), says) {
			t.Errorf("%s: %s %q, want rejected saying %q", subject, d.Status, d.Error, says)
		}
	}
	if seen != 4 {
		t.Errorf("found %d of the 4 hostile mails among %+v", seen, docs)
	}
	waitFor(t, 30*time.Second, "the order after them delivered", func() bool { return len(g.orders("status=delivered")) == 1 })
	if len(notReady) > 0 {
		t.Errorf("the gateway was not ready %d times: %s", len(notReady), <-notReady)
	}
}
