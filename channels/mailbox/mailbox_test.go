package mailbox_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/mailbox"
	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

// kindMail builds mail i of one of the six kinds the gateway sees.
func kindMail(i int) (messageID string, raw []byte) {
	messageID = fmt.Sprintf("<order-%04d-%s@sender.example>", i, randID())
	var b bytes.Buffer
	from := "buyer@customer.example"
	if i%6 == 3 {
		from = "noreply@fax.example.com"
	}
	fmt.Fprintf(&b, "From: %s\nTo: orders@ordergate.test\nMessage-ID: %s\nDate: %s\nMIME-Version: 1.0\n", from, messageID, time.Now().Format(time.RFC1123Z))
	attach := func(subject, ctype, name, content string) {
		fmt.Fprintf(&b, "Subject: %s\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\nContent-Type: text/plain; charset=utf-8\n\nsee attachment\n", subject)
		fmt.Fprintf(&b, "--XX\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s\n--XX--\n", ctype, name, name, content)
	}
	switch i % 6 {
	case 0:
		fmt.Fprintf(&b, "Subject: Bestellung %d\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nBitte liefern: 10 x SCR-100 Schrauben f=FCr Lager S=FCd\n", i)
	case 1:
		attach(fmt.Sprintf("PO %d CSV", i), "text/csv", "po.csv", "c2t1LHF0eQpTQ1ItMTAwLDEwCg==")
	case 2:
		attach(fmt.Sprintf("PO %d XLSX", i), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "po.xlsx", "UEsDBBQAAAAIAA==")
	case 3:
		attach(fmt.Sprintf("Fax from +49 40 %d", i), "application/pdf", "fax.pdf", "JVBERi0xLjQKJcfsj6IKJSVFT0YK")
	case 4:
		attach(fmt.Sprintf("EDI %d", i), "application/octet-stream", "po.edi", "SVNBKjAwKiAgICAgICAgICAqMDAqICAgICAgICAgICp+")
	case 5:
		fmt.Fprintf(&b, "Subject: Newsletter %d\nContent-Type: text/html; charset=utf-8\n\n<html><body>Our offers</body></html>\n", i)
	}
	return messageID, b.Bytes()
}

// intake is a fake intake: it commits each source key once, like the
// store's unique key, and acks after the "commit".
type intake struct {
	mu        sync.Mutex
	committed map[string]string // source key -> message id
	byMsgID   map[string]int
	redeliver int
}

func newIntake() *intake {
	return &intake{committed: map[string]string{}, byMsgID: map[string]int{}}
}

func (in *intake) take(doc channels.Document) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, dup := in.committed[doc.SourceKey]; dup {
		in.redeliver++
		return
	}
	in.committed[doc.SourceKey] = doc.Meta["message_id"]
	in.byMsgID[doc.Meta["message_id"]]++
}

func (in *intake) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.committed)
}

func newSource(t *testing.T, cfg mailbox.Config) *mailbox.Source {
	t.Helper()
	src, err := mailbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := src.Connect(ctx); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { src.Close(context.Background()) })
	return src
}

// TestBurstWithRestart: 200 mails of every kind, delivered while the
// channel reads, Dovecot restarted mid-run: every mail committed exactly
// once, none left behind, every one moved to the done mailbox.
func TestBurstWithRestart(t *testing.T) {
	srv := dovecot.Start(t)
	cfg := testConfig(srv, "burst", "INBOX")
	cfg.DoneMailbox = "Processed"
	cfg.Checkpoints = &memCheckpoints{}
	src := newSource(t, cfg)

	const total = 200
	want := map[string]bool{}
	var wantMu sync.Mutex
	deliverDone := make(chan error, 1)
	restarted := make(chan struct{})
	go func() {
		for i := range total {
			id, raw := kindMail(i)
			wantMu.Lock()
			want[id] = true
			wantMu.Unlock()
			if err := srv.TryDeliverTo("INBOX", raw); err != nil {
				// A delivery during the restart is retried, as an MTA does.
				time.Sleep(200 * time.Millisecond)
				if err := srv.TryDeliverTo("INBOX", raw); err != nil {
					deliverDone <- err
					return
				}
			}
		}
		deliverDone <- nil
	}()

	in := newIntake()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var restartOnce sync.Once
	ackErrs := 0
	for in.count() < total {
		doc, ack, err := src.Read(ctx)
		if err != nil {
			t.Fatalf("Read after %d mails: %v", in.count(), err)
		}
		if doc.Err != nil {
			t.Fatalf("document error: %v", doc.Err)
		}
		in.take(doc)
		doc.Body.Close()
		if in.count() == total/2 {
			restartOnce.Do(func() {
				// Restart between the commit and the ack of this mail.
				srv.Restart()
				close(restarted)
			})
		}
		if err := ack(ctx, channels.Committed()); err != nil {
			if !errors.Is(err, channels.ErrNotConnected) {
				t.Fatalf("ack: %v", err)
			}
			ackErrs++
		}
	}
	if err := <-deliverDone; err != nil {
		t.Fatal(err)
	}
	<-restarted
	if ackErrs == 0 {
		t.Errorf("no ack failed across the restart: the restart tested nothing")
	}
	if in.redeliver == 0 {
		t.Errorf("no mail was read again after the restart; want the unacked one again")
	}
	for id := range want {
		if in.byMsgID[id] != 1 {
			t.Errorf("%s committed %d times, want 1", id, in.byMsgID[id])
		}
	}
	if got := len(in.byMsgID); got != total {
		t.Errorf("committed %d distinct mails, want %d", got, total)
	}
	// Drain what came again after the restart, then the inbox is empty.
	admin := imapClient(t, srv)
	deadline := time.Now().Add(20 * time.Second)
	for len(pendingSubjects(t, admin, "INBOX")) > 0 && time.Now().Before(deadline) {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		doc, ack, err := src.Read(rctx)
		rcancel()
		if err == nil {
			in.take(doc)
			doc.Body.Close()
			ack(ctx, channels.Committed())
		}
	}
	if p := pendingSubjects(t, admin, "INBOX"); len(p) != 0 {
		t.Errorf("%d mails still pending in INBOX: %q", len(p), p)
	}
	if got := len(in.byMsgID); got != total {
		t.Errorf("after draining: %d distinct mails committed, want %d", got, total)
	}
	if n := len(listMails(t, admin, "Processed")); n != total {
		t.Errorf("Processed holds %d mails, want %d", n, total)
	}
}

// TestUIDValidityChange: mails committed before a UIDVALIDITY change are
// not read again; mails read and not acked come again with the same key;
// new mails are read.
func TestUIDValidityChange(t *testing.T) {
	srv := dovecot.Start(t)
	cp := &memCheckpoints{}
	cfg := testConfig(srv, "uidv", "INBOX")
	cfg.AfterIngest = mailbox.AfterIngestFlag
	cfg.Checkpoints = cp
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	in := newIntake()
	old := map[string]bool{}
	for i := range 10 {
		_, raw := kindMail(i)
		srv.Deliver(raw)
	}
	src := newSource(t, cfg)
	for range 10 {
		doc, ack, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		in.take(doc)
		old[doc.SourceKey] = true
		if err := ack(ctx, channels.Committed()); err != nil {
			t.Fatal(err)
		}
	}
	// Three more are read and the process dies before their acks.
	unacked := map[string]bool{}
	for i := 10; i < 13; i++ {
		_, raw := kindMail(i)
		srv.Deliver(raw)
	}
	for range 3 {
		doc, _, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		in.take(doc)
		unacked[doc.SourceKey] = true
	}
	src.Close(ctx)
	before := cp.get()

	srv.ResetUIDValidity("INBOX")
	newKeys := 0
	for i := 13; i < 18; i++ {
		_, raw := kindMail(i)
		srv.Deliver(raw)
	}
	src2 := newSource(t, cfg)
	seen := map[string]bool{}
	for range 8 {
		doc, ack, err := src2.Read(ctx)
		if err != nil {
			t.Fatalf("Read after the UIDVALIDITY change: %v", err)
		}
		switch {
		case old[doc.SourceKey]:
			t.Errorf("mail %s committed before the change was read again", doc.Meta["message_id"])
		case unacked[doc.SourceKey]:
		default:
			newKeys++
		}
		if seen[doc.SourceKey] {
			t.Errorf("read %s twice", doc.Meta["message_id"])
		}
		seen[doc.SourceKey] = true
		in.take(doc)
		if err := ack(ctx, channels.Committed()); err != nil {
			t.Fatal(err)
		}
	}
	if newKeys != 5 {
		t.Errorf("read %d new mails after the change, want 5", newKeys)
	}
	for k := range unacked {
		if !seen[k] {
			t.Errorf("a mail read and not acked before the change was not read again (key %s)", k)
		}
	}
	if got := len(in.byMsgID); got != 18 {
		t.Errorf("%d distinct mails committed, want 18", got)
	}
	rctx, rcancel := context.WithTimeout(ctx, time.Second)
	defer rcancel()
	if doc, _, err := src2.Read(rctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a further Read = %q, %v; want nothing more", doc.Meta["message_id"], err)
	}
	after := cp.get()
	for k, v := range after {
		if before[k] == v {
			t.Errorf("checkpoint %s = %q unchanged across the UIDVALIDITY change", k, v)
		}
	}
}

// TestAckAfterCommitOnly: nothing changes on the server before the ack;
// Committed moves with \Seen and the done keyword; Rejected flags and
// keeps the mail; the checkpoint never passes an unacked mail.
func TestAckAfterCommitOnly(t *testing.T) {
	srv := dovecot.Start(t)
	admin := imapClient(t, srv)
	cp := &memCheckpoints{}
	cfg := testConfig(srv, "acks", "INBOX")
	cfg.DoneMailbox = "Done"
	cfg.Checkpoints = cp
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 3 {
		_, raw := kindMail(i)
		srv.Deliver(raw)
	}
	src := newSource(t, cfg)
	var acks []channels.AckFunc
	for range 3 {
		doc, ack, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		doc.Body.Close()
		acks = append(acks, ack)
	}
	for _, m := range listMails(t, admin, "INBOX") {
		if len(m.Flags) != 0 {
			t.Errorf("UID %d has flags %v before any ack, want none", m.UID, m.Flags)
		}
	}
	// Ack the first and the third: the checkpoint stays before the second.
	if err := acks[0](ctx, channels.Committed()); err != nil {
		t.Fatal(err)
	}
	if err := acks[2](ctx, channels.Rejected("not an order")); err != nil {
		t.Fatal(err)
	}
	for k, v := range cp.get() {
		if !strings.HasSuffix(v, ":1") {
			t.Errorf("checkpoint %s = %q, want it at UID 1 while UID 2 is unacked", k, v)
		}
	}
	inbox := listMails(t, admin, "INBOX")
	if len(inbox) != 2 {
		t.Fatalf("INBOX holds %d mails, want 2 (one unacked, one rejected)", len(inbox))
	}
	if m := inbox[1]; !m.has(mailbox.KeywordRejected) || !m.has(imap.FlagSeen) {
		t.Errorf("rejected mail flags %v, want \\Seen and %s", m.Flags, mailbox.KeywordRejected)
	}
	if m := inbox[0]; len(m.Flags) != 0 {
		t.Errorf("unacked mail flags %v, want none", m.Flags)
	}
	done := listMails(t, admin, "Done")
	if len(done) != 1 || !done[0].has(mailbox.KeywordDone) || !done[0].has(imap.FlagSeen) {
		t.Errorf("Done holds %+v, want one mail with \\Seen and %s", done, mailbox.KeywordDone)
	}
	if err := acks[1](ctx, channels.Committed()); err != nil {
		t.Fatal(err)
	}
	for k, v := range cp.get() {
		if !strings.HasSuffix(v, ":3") {
			t.Errorf("checkpoint %s = %q, want UID 3 once all are acked", k, v)
		}
	}
	// The rejected mail stays visible and is not read again.
	rctx, rcancel := context.WithTimeout(ctx, time.Second)
	defer rcancel()
	if _, _, err := src.Read(rctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read after all acks = %v, want nothing", err)
	}
}

// TestOversizedMail: a mail over max_message_bytes (3 MB over a 1 MiB
// limit: the same path as 50 MB over the default 25 MiB, faster) becomes
// a document with ErrTooLarge and no body, keyed stably; rejected it
// stays flagged; the next mail is read normally.
func TestOversizedMail(t *testing.T) {
	srv := dovecot.Start(t)
	admin := imapClient(t, srv)
	cfg := testConfig(srv, "big", "INBOX")
	cfg.DoneMailbox = "Done"
	cfg.MaxMessageBytes = 1 << 20
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	big := attachmentMail("huge.pdf", bytes.Repeat([]byte("%PDF-1.4 0123456789abcdef"), 3<<20/25))
	srv.Deliver(big)
	_, small := kindMail(0)
	srv.Deliver(small)

	src := newSource(t, cfg)
	doc, ack, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(doc.Err, channels.ErrTooLarge) || doc.Body != nil || doc.SourceKey == "" {
		t.Fatalf("oversized mail: Err %v, Body %v, key %q; want ErrTooLarge, no body, a key", doc.Err, doc.Body, doc.SourceKey)
	}
	key := doc.SourceKey
	if err := ack(ctx, channels.Retry()); err != nil {
		t.Fatal(err)
	}
	again, ack, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.SourceKey != key {
		t.Errorf("key of the oversized mail read again = %q, want %q", again.SourceKey, key)
	}
	if err := ack(ctx, channels.Rejected("mail too large")); err != nil {
		t.Fatal(err)
	}
	next, ack, err := src.Read(ctx)
	if err != nil || next.Err != nil {
		t.Fatalf("the mail after the oversized one: %v, %v", err, next.Err)
	}
	next.Body.Close()
	if err := ack(ctx, channels.Committed()); err != nil {
		t.Fatal(err)
	}
	inbox := listMails(t, admin, "INBOX")
	if len(inbox) != 1 || !inbox[0].has(mailbox.KeywordRejected) {
		t.Errorf("INBOX = %+v, want the oversized mail kept, flagged rejected", inbox)
	}
}

// TestTLSModesAgainstDovecot: STARTTLS and implicit TLS work with the
// test CA; an unknown CA is refused.
func TestTLSModesAgainstDovecot(t *testing.T) {
	srv := dovecot.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	starttls := testConfig(srv, "st", "INBOX")
	starttls.TLS, starttls.Port = mailbox.TLSStartTLS, srv.IMAPPort
	implicit := testConfig(srv, "im", "INBOX")
	untrusted := testConfig(srv, "un", "INBOX")
	untrusted.TLSConfig = &tls.Config{} // system roots: the test CA is not among them
	wrongName := testConfig(srv, "wn", "INBOX")
	wrongName.TLSConfig = &tls.Config{RootCAs: srv.CAPool, ServerName: "mail.example.com"}
	for _, tt := range []struct {
		name string
		cfg  mailbox.Config
		ok   bool
	}{{"starttls", starttls, true}, {"implicit", implicit, true}, {"unknown CA", untrusted, false}, {"wrong name", wrongName, false}} {
		t.Run(tt.name, func(t *testing.T) {
			src, err := mailbox.New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close(ctx)
			err = src.Connect(ctx)
			if tt.ok && err != nil {
				t.Errorf("Connect: %v", err)
			}
			if !tt.ok && err == nil {
				t.Errorf("Connect succeeded, want a certificate error")
			}
		})
	}
}

// TestPollOnly reads new mail without IDLE.
func TestPollOnly(t *testing.T) {
	srv := dovecot.Start(t)
	cfg := testConfig(srv, "poll", "INBOX")
	cfg.PollOnly = true
	cfg.Poll = 100 * time.Millisecond
	src := newSource(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, raw := kindMail(1)
		srv.TryDeliverTo("INBOX", raw)
	}()
	doc, ack, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc.Body.Close()
	if err := ack(ctx, channels.Committed()); err != nil {
		t.Fatal(err)
	}
}

// TestMoveWithoutMOVE: on a server without MOVE, Committed copies to the
// done mailbox, marks \Deleted and expunges only that UID.
func TestMoveWithoutMOVE(t *testing.T) {
	srv := dovecot.StartWith(t, dovecot.Options{IMAPCapability: "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE UIDPLUS ESEARCH"})
	admin := imapClient(t, srv)
	if admin.Caps().Has(imap.CapMove) {
		t.Fatal("the server still announces MOVE: the test would test nothing")
	}
	cfg := testConfig(srv, "nomove", "INBOX")
	cfg.DoneMailbox = "Done"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 2 {
		_, raw := kindMail(i)
		srv.Deliver(raw)
	}
	src := newSource(t, cfg)
	doc, ack, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc.Body.Close()
	if err := ack(ctx, channels.Committed()); err != nil {
		t.Fatal(err)
	}
	inbox := listMails(t, admin, "INBOX")
	if len(inbox) != 1 || len(inbox[0].Flags) != 0 {
		t.Errorf("INBOX = %+v, want only the other, untouched mail", inbox)
	}
	if done := listMails(t, admin, "Done"); len(done) != 1 || !done[0].has(mailbox.KeywordDone) {
		t.Errorf("Done = %+v, want the committed mail", done)
	}
}

// TestInterruptedMoveFinished: a mail is flagged before it is moved, so a
// connection lost between the two leaves a flagged mail in the mailbox
// that no search offers again. The next session moves such mails (done to
// the done mailbox, rejected to the error mailbox) before it reads, with
// MOVE and without it.
func TestInterruptedMoveFinished(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts dovecot.Options
	}{
		{"MOVE", dovecot.Options{}},
		{"COPY and EXPUNGE", dovecot.Options{IMAPCapability: "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE UIDPLUS ESEARCH"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := dovecot.StartWith(t, tc.opts)
			admin := imapClient(t, srv)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			subjects := map[imap.UID]string{}
			for i := range 3 {
				_, raw := kindMail(i)
				srv.Deliver(raw)
			}
			for _, m := range listMails(t, admin, "INBOX") {
				subjects[m.UID] = m.Subject
			}
			if _, err := admin.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			for uid, kw := range map[imap.UID]imap.Flag{1: mailbox.KeywordDone, 2: mailbox.KeywordRejected} {
				flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, kw}}
				if err := admin.Store(imap.UIDSetNum(uid), flags, nil).Close(); err != nil {
					t.Fatal(err)
				}
			}
			if err := admin.Unselect().Wait(); err != nil {
				t.Fatal(err)
			}

			cfg := testConfig(srv, "finish", "INBOX")
			cfg.DoneMailbox, cfg.ErrorMailbox = "Done", "Errors"
			src := newSource(t, cfg)
			doc, _, err := src.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			doc.Body.Close()
			if doc.Meta["uid"] != "3" {
				t.Errorf("read UID %s, want 3 (1 and 2 were disposed of)", doc.Meta["uid"])
			}
			for mbox, want := range map[string][]string{"INBOX": {subjects[3]}, "Done": {subjects[1]}, "Errors": {subjects[2]}} {
				var got []string
				for _, m := range listMails(t, admin, mbox) {
					if !m.has(imap.FlagDeleted) {
						got = append(got, m.Subject)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s holds %q, want %q", mbox, got, want)
				}
			}
		})
	}
}
