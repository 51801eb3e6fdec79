package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/capture/faxgen"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

const imapConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match: {x12: [{qualifier: ZZ, id: BAUMARKTNORD}], email_from: ["*@baumarkt-nord.de"]}
    acks: {functional: none}
channels:
  - name: orders-mail
    type: imap
    host: 127.0.0.1
    port: %d
    tls: starttls
    ca_file: ./ca.pem
    user: %s
    password_env: OG_TEST_IMAP_PASSWORD
    done_mailbox: Processed
    after_ingest: move
    poll: 200ms
    fax_senders: ["*@fax.example.com"]
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
`

// ediMail is a mail with an X12 850 attached.
func ediMail(i int) []byte {
	att := base64.StdEncoding.EncodeToString(fixtures.X12850(500+i, fmt.Sprintf("PO-IMAP-%d", i), 1))
	return []byte(fmt.Sprintf("From: einkauf@baumarkt-nord.de\r\nTo: orders@toolsupply.example\r\nSubject: Bestellung %d\r\n"+
		"Message-ID: <po-%d-%x@baumarkt-nord.de>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nAnbei die Bestellung.\r\n"+
		"--B\r\nContent-Type: application/edi-x12; name=po%d.x12\r\nContent-Disposition: attachment; filename=po%d.x12\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--B--\r\n", i, i, sha256.Sum256([]byte{byte(i)}), i, i, att))
}

// attachmentMail is a mail from from with one attachment.
func attachmentMail(from, subject, name, ctype string, att []byte) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: orders@toolsupply.example\r\nSubject: %s\r\n"+
		"Message-ID: <%x@test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"+
		"--B\r\nContent-Type: %s; name=%s\r\nContent-Disposition: attachment; filename=%s\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--B--\r\n", from, subject, sha256.Sum256([]byte(subject)), ctype, name, name,
		base64.StdEncoding.EncodeToString(att)))
}

// TestIMAPEndToEnd: mails in a real Dovecot mailbox, read over STARTTLS
// with the server's CA pinned: EDI attachments become orders, a
// newsletter is kept, every mail is moved to the done mailbox after the
// commit, and a Dovecot restart in the middle loses nothing.
func TestIMAPEndToEnd(t *testing.T) {
	dv := dovecot.Start(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(imapConfig, port, dv.IMAPPort, dv.User)
	for name, body := range map[string][]byte{"config.yaml": []byte(cfg), "ca.pem": dv.CACertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n / 2 {
		dv.Deliver(ediMail(i))
	}
	dv.Deliver([]byte("From: news@shop.example\r\nTo: orders@toolsupply.example\r\nSubject: Autumn offers\r\nMessage-ID: <news-1@shop.example>\r\n" +
		"List-Unsubscribe: <mailto:unsub@shop.example>\r\nPrecedence: bulk\r\n\r\nOur offers.\r\n"))
	// A fax (a PDF from the fax service) and an order mail with a CSV:
	// both read by capture into orders of their own.
	doc, err := faxgen.New(faxgen.Layouts()[0], 3)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := doc.TextPDF()
	if err != nil {
		t.Fatal(err)
	}
	dv.Deliver(attachmentMail("gateway@fax.example.com", "Fax from "+doc.Truth.SenderFax, "fax.pdf", "application/pdf", pdf))
	doc2, err := faxgen.New(faxgen.Layouts()[1], 4)
	if err != nil {
		t.Fatal(err)
	}
	dv.Deliver(attachmentMail("einkauf@baumarkt-nord.de", "Bestellung als CSV", "order.csv", "text/csv", doc2.CSV()))
	g := start(t, dir, port, "OG_TEST_IMAP_PASSWORD="+dv.Password)
	waitFor(t, time.Minute, "the first orders", func() bool { return len(g.orders("")) >= 3 })
	dv.Restart()
	for i := n / 2; i < n; i++ {
		dv.Deliver(ediMail(i))
	}
	waitFor(t, 2*time.Minute, "every EDI order delivered", func() bool {
		return len(files(t, filepath.Join(dir, "outbound"))) >= n
	})
	var fax, csv []apiOrder
	waitFor(t, time.Minute, "the captured orders", func() bool {
		fax, csv = g.orders("po_number="+doc.Truth.PONumber), g.orders("po_number="+doc2.Truth.PONumber)
		return len(fax) == 1 && len(csv) == 1
	})
	orders := g.orders("")
	pos := map[string]int{}
	for _, o := range orders {
		pos[o.PONumber]++
	}
	if len(orders) != n+2 || len(pos) != n+2 {
		t.Errorf("%d orders of %d POs, want %d each once", len(orders), len(pos), n+2)
	}
	var view struct {
		Order struct {
			Channel    string             `json:"channel"`
			Confidence map[string]float64 `json:"confidence"`
		} `json:"order"`
	}
	g.getJSON("/api/v1/orders/"+fax[0].ID, &view)
	if view.Order.Channel != "fax" || len(view.Order.Confidence) == 0 {
		t.Errorf("the faxed order: channel %q, %d confidences", view.Order.Channel, len(view.Order.Confidence))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", g.log)
		}
	})
	waitFor(t, 2*time.Minute, "every mail moved to Processed", func() bool {
		return countMails(dv.MailboxDir("INBOX")) == 0 && countMails(dv.MailboxDir("Processed")) == n+3
	})
	if !strings.Contains(g.log.String(), "orders-mail") {
		t.Errorf("the log never names the channel")
	}
}

// countMails counts the mails of a maildir folder (new and cur).
func countMails(dir string) int {
	n := 0
	for _, sub := range []string{"new", "cur"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		n += len(entries)
	}
	return n
}

// TestIMAPRedeliveredAfterUIDValidityChange: the mailbox is rebuilt (a
// server migration): the mails ingested before come back into the inbox
// without their done keywords, through another hop (a new Received
// header, so other bytes and other source keys), under a new UIDVALIDITY.
// The gateway reads them, recognises them by sender and Message-ID as
// duplicates and moves them to the done mailbox without a new order;
// the mails that are new are ingested.
func TestIMAPRedeliveredAfterUIDValidityChange(t *testing.T) {
	dv := dovecot.Start(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf(imapConfig, port, dv.IMAPPort, dv.User)
	for name, body := range map[string][]byte{"config.yaml": []byte(cfg), "ca.pem": dv.CACertPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	csvMail := func(seed uint64) ([]byte, string) {
		doc, err := faxgen.New(faxgen.Layouts()[1], seed)
		if err != nil {
			t.Fatal(err)
		}
		return attachmentMail("einkauf@baumarkt-nord.de", fmt.Sprintf("Bestellung %d als CSV", seed), "order.csv", "text/csv", doc.CSV()), doc.Truth.PONumber
	}
	var old [][]byte
	for seed := uint64(21); seed < 24; seed++ {
		raw, _ := csvMail(seed)
		old = append(old, raw)
		dv.Deliver(raw)
	}
	g := start(t, dir, port, "OG_TEST_IMAP_PASSWORD="+dv.Password)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", g.log)
		}
	})
	waitFor(t, time.Minute, "the first three mails ingested and moved", func() bool {
		return len(g.orders("")) == 3 && countMails(dv.MailboxDir("Processed")) == 3
	})
	dv.ResetUIDValidity("INBOX")
	for i, raw := range old {
		dv.Deliver(append([]byte(fmt.Sprintf("Received: from relay%d.migration.example by imap.example; Sat, 28 Nov 2026 01:00:00 +0000\r\n", i)), raw...))
	}
	var newPOs []string
	for seed := uint64(24); seed < 26; seed++ {
		raw, po := csvMail(seed)
		newPOs = append(newPOs, po)
		dv.Deliver(raw)
	}
	waitFor(t, time.Minute, "every mail moved to Processed", func() bool {
		return countMails(dv.MailboxDir("INBOX")) == 0 && countMails(dv.MailboxDir("Processed")) == 8
	})
	for _, po := range newPOs {
		if got := g.orders("po_number=" + po); len(got) != 1 {
			t.Errorf("new mail with PO %s: %d orders, want 1", po, len(got))
		}
	}
	if got := len(g.orders("")); got != 5 {
		t.Errorf("%d orders, want 5 (3 before the change, 2 new; the 3 old mails not again)", got)
	}
	var dups struct {
		Documents []struct {
			Error string `json:"error"`
		} `json:"documents"`
	}
	g.getJSON("/api/v1/documents?status=duplicate", &dups)
	if len(dups.Documents) != 3 {
		t.Errorf("%d duplicate documents, want the 3 mails delivered again", len(dups.Documents))
	}
	for _, d := range dups.Documents {
		if !strings.Contains(d.Error, "Message-ID") {
			t.Errorf("duplicate reason %q does not say it is the same Message-ID", d.Error)
		}
	}
}
