package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpSink is an in-process SMTP server (no auth, loopback) that keeps
// every mail it gets.
type smtpSink struct {
	mu    sync.Mutex
	mails []sinkMail
}

type sinkMail struct {
	to   []string
	data string
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s *smtpSink
	m sinkMail
}

func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.m.to = append(x.m.to, to)
	return nil
}
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	x.m.data = string(b)
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, x.m)
	x.s.mu.Unlock()
	return err
}
func (x *sinkSession) Reset()        {}
func (x *sinkSession) Logout() error { return nil }

func (s *smtpSink) find(to, has string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.mails {
		if strings.Contains(strings.Join(m.to, ","), to) && strings.Contains(m.data, has) {
			return true
		}
	}
	return false
}

func startSink(t *testing.T) (*smtpSink, int) {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink, ln.Addr().(*net.TCPAddr).Port
}

// TestMailEndToEnd: with an SMTP server configured, a customer's note
// reaches its sales rep by e-mail, and a faxed order is confirmed to the
// customer by e-mail.
func TestMailEndToEnd(t *testing.T) {
	sink, smtpPort := startSink(t)
	dir, g := newDecisionsGateway(t)
	g.kill()
	p := filepath.Join(dir, "config.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b) + fmt.Sprintf(`mail:
  smtp: {host: 127.0.0.1, port: %d, tls: none, insecure_plaintext: true}
  from: "Orders <orders@toolsupply.example>"
  company: Tool Supply GmbH
  confirmations: {enabled: true}
`, smtpPort)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	g = start(t, dir, g.port)
	note := `{"channel":"fax","source":{"standard":"fax","test":false},"po_number":"PO-MAIL","customer_id":"C-1001","currency":"EUR",
		"notes":["Anlieferung nur Dienstag"],
		"lines":[{"line_no":"1","quantity":"1","unit":"EA","unit_price":"2.01","sku":"SCR-001"}]}`
	if err := os.WriteFile(filepath.Join(dir, "faxes", "mail.json"), []byte(note), 0o644); err != nil {
		t.Fatal(err)
	}
	o := g.orderByPO("PO-MAIL", "delivered")
	waitFor(t, 30*time.Second, "the task mail to the sales rep", func() bool {
		return sink.find("anna@example.com", "Anlieferung nur Dienstag")
	})
	waitFor(t, 30*time.Second, "the confirmation to the customer", func() bool {
		return sink.find("einkauf@baumarkt-nord.example", o.ID)
	})
}
