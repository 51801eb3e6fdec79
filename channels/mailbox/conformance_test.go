package mailbox_test

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/channeltest"
	"github.com/ordergate/ordergate/channels/mailbox"
	"github.com/ordergate/ordergate/internal/testenv/dovecot"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// testConfig is a config for the test server's implicit TLS listener.
func testConfig(srv *dovecot.Server, name, mbox string) mailbox.Config {
	return mailbox.Config{
		Name: name, Host: srv.Host, Port: srv.IMAPSPort, TLS: mailbox.TLSImplicit,
		TLSConfig: &tls.Config{RootCAs: srv.CAPool},
		User:      srv.User, Password: srv.Password,
		Mailbox: mbox, Poll: 200 * time.Millisecond,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
		DialTimeout: 5 * time.Second,
	}
}

func TestConformance(t *testing.T) {
	srv := dovecot.Start(t)
	admin := imapClient(t, srv)
	var n atomic.Int64
	channeltest.Run(t, func(t *testing.T) channeltest.Inbox {
		mbox := fmt.Sprintf("conf%02d", n.Add(1))
		cp := &memCheckpoints{}
		if err := admin.Create(mbox, nil).Wait(); err != nil {
			t.Fatalf("creating %s: %v", mbox, err)
		}
		return channeltest.Inbox{
			Open: func(t *testing.T) channels.Source {
				cfg := testConfig(srv, "mail", mbox)
				cfg.DoneMailbox, cfg.ErrorMailbox = mbox+"-done", mbox+"-error"
				cfg.MaxMessageBytes = 64 << 20
				cfg.Checkpoints = cp
				src, err := mailbox.New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return attachmentSource{src}
			},
			Put:     func(t *testing.T, name string, body []byte) { srv.DeliverTo(mbox, attachmentMail(name, body)) },
			Pending: func(t *testing.T) []string { return pendingSubjects(t, admin, mbox) },
		}
	})
}
