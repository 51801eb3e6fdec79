package dovecot

import (
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func status(t *testing.T, s *Server, mailbox string) *imap.StatusData {
	t.Helper()
	c, err := imapclient.DialTLS(s.IMAPSAddr(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: s.CAPool, ServerName: "127.0.0.1"}})
	if err != nil {
		t.Fatalf("dialing imaps: %v", err)
	}
	defer c.Close()
	if err := c.Login(s.User, s.Password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true, UIDValidity: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatalf("status %s: %v", mailbox, err)
	}
	return st
}

func TestServer(t *testing.T) {
	s := Start(t)
	for i := range 3 {
		s.Deliver(fmt.Appendf(nil, "From: a@example.com\nSubject: %d\nMessage-ID: <%d@x>\n\nbody %d\n", i, i, i))
	}
	s.DeliverTo("Orders/Fax", []byte("Subject: fax\n\nfax\n"))
	st := status(t, s, "INBOX")
	if got := *st.NumMessages; got != 3 {
		t.Fatalf("INBOX has %d messages, want 3", got)
	}
	if got := *status(t, s, "Orders/Fax").NumMessages; got != 1 {
		t.Errorf("Orders/Fax has %d messages, want 1", got)
	}

	s.Restart()
	if got := *status(t, s, "INBOX").NumMessages; got != 3 {
		t.Errorf("after restart INBOX has %d messages, want 3", got)
	}

	s.ResetUIDValidity("INBOX")
	after := status(t, s, "INBOX")
	if after.UIDValidity == st.UIDValidity {
		t.Errorf("UIDVALIDITY %d unchanged after ResetUIDValidity", after.UIDValidity)
	}
	if got := *after.NumMessages; got != 3 {
		t.Errorf("after ResetUIDValidity INBOX has %d messages, want 3", got)
	}
}
