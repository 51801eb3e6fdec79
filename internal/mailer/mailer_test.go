package mailer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const (
	testUser     = "gateway@ordergate.test"
	testPassword = "canary-smtp-Pa55-91c2"
)

// testTLS makes a CA and a certificate for 127.0.0.1.
func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// received is what the test server got.
type received struct {
	from   string
	rcpts  []string
	data   []byte
	authed string
	tls    bool
}

type backend struct {
	mu   sync.Mutex
	msgs []received
	auth []string // every AUTH attempt's user, with its TLS state
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, r: received{tls: isTLS}, conn: c}, nil
}

type session struct {
	b    *backend
	conn *smtp.Conn
	r    received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		_, isTLS := s.conn.TLSConnectionState()
		s.b.mu.Lock()
		s.b.auth = append(s.b.auth, username+" tls="+map[bool]string{true: "yes", false: "no"}[isTLS])
		s.b.mu.Unlock()
		if username != testUser || password != testPassword {
			return smtp.ErrAuthFailed
		}
		s.r.authed = username
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.r.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.rcpts = append(s.r.rcpts, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.r.tls = s.conn.TLSConnectionState()
	s.r.data = b
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.r)
	s.b.mu.Unlock()
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// startServer runs an in-process SMTP server. With implicit it speaks TLS
// from the start; with tlsCfg nil it offers no STARTTLS and allows AUTH
// in clear (so a client that would send it is caught).
func startServer(t *testing.T, tlsCfg *tls.Config, implicit bool) (*backend, int) {
	t.Helper()
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.TLSConfig = tlsCfg
	srv.AllowInsecureAuth = tlsCfg == nil
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsCfg)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return be, ln.Addr().(*net.TCPAddr).Port
}

func newTestMailer(t *testing.T, port int, mode string, pool *x509.CertPool, logs *bytes.Buffer) *Mailer {
	t.Helper()
	m, err := New(Config{
		Host: "127.0.0.1", Port: port, TLS: mode, TLSConfig: &tls.Config{RootCAs: pool},
		User: testUser, Password: testPassword, From: "Ordergate <orders@tools.example>",
		Timeout: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendTLSModes(t *testing.T) {
	srvTLS, pool := testTLS(t)
	for _, tt := range []struct {
		mode     string
		implicit bool
	}{{TLSStartTLS, false}, {TLSImplicit, true}} {
		t.Run(tt.mode, func(t *testing.T) {
			be, port := startServer(t, srvTLS, tt.implicit)
			var logs bytes.Buffer
			m := newTestMailer(t, port, tt.mode, pool, &logs)
			msg, err := Confirmation(Original{From: "Jörg Müller <einkauf@kunde.example>", Subject: "Bestellung 4711", MessageID: "<po-4711@kunde.example>"},
				ConfirmationData{Company: "Tools GmbH", OrderID: "ord_01", PONumber: "4711", Lines: []Line{{LineNo: "1", SKU: "SCR-100", Quantity: "24", Unit: "EA", Description: "Holzschrauben 4×40"}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Send(context.Background(), msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			be.mu.Lock()
			defer be.mu.Unlock()
			if len(be.msgs) != 1 {
				t.Fatalf("server got %d mails, want 1", len(be.msgs))
			}
			got := be.msgs[0]
			if !got.tls || got.authed != testUser || got.from != "orders@tools.example" || strings.Join(got.rcpts, ",") != "einkauf@kunde.example" {
				t.Errorf("received %+v", got)
			}
			for _, a := range be.auth {
				if !strings.HasSuffix(a, "tls=yes") {
					t.Errorf("AUTH without TLS: %s", a)
				}
			}
			parsed, err := mail.ReadMessage(bytes.NewReader(got.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := parsed.Header.Get("In-Reply-To"); got != "<po-4711@kunde.example>" {
				t.Errorf("In-Reply-To = %q", got)
			}
			if strings.Contains(logs.String(), testPassword) || strings.Contains(logs.String(), "einkauf@") {
				t.Errorf("log shows the password or a full address:\n%s", logs.String())
			}
		})
	}
}

// TestRefusesWithoutTLS: a server without STARTTLS gets no AUTH and no
// mail; with the opt-in it gets both (the control).
func TestRefusesWithoutTLS(t *testing.T) {
	be, port := startServer(t, nil, false)
	var logs bytes.Buffer
	m := newTestMailer(t, port, TLSStartTLS, nil, &logs)
	err := m.Send(context.Background(), &Message{To: []string{"a@b.example"}, Subject: "x", Text: "x"})
	if err == nil {
		t.Fatal("Send without STARTTLS succeeded")
	}
	be.mu.Lock()
	if len(be.auth) != 0 || len(be.msgs) != 0 {
		t.Errorf("server got AUTH %v and %d mails, want none", be.auth, len(be.msgs))
	}
	be.mu.Unlock()

	if _, err := New(Config{Host: "127.0.0.1", TLS: TLSNone, From: "a@b.example"}); err == nil {
		t.Error("New with tls none and no insecure_plaintext succeeded")
	}
	insecure, err := New(Config{Host: "127.0.0.1", Port: port, TLS: TLSNone, InsecurePlaintext: true, User: testUser, Password: testPassword, From: "a@b.example"})
	if err != nil {
		t.Fatal(err)
	}
	if err := insecure.Send(context.Background(), &Message{To: []string{"a@b.example"}, Subject: "x", Text: "x"}); err != nil {
		t.Fatalf("Send with insecure_plaintext: %v", err)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.auth) != 1 || len(be.msgs) != 1 {
		t.Errorf("control: server got AUTH %v and %d mails, want 1 each", be.auth, len(be.msgs))
	}
}

func TestWrongPasswordAndUntrustedServer(t *testing.T) {
	srvTLS, pool := testTLS(t)
	_, port := startServer(t, srvTLS, false)
	var logs bytes.Buffer
	m := newTestMailer(t, port, TLSStartTLS, pool, &logs)
	m.cfg.Password = "wrong-" + testPassword
	err := m.Send(context.Background(), &Message{To: []string{"a@b.example"}, Subject: "x", Text: "x"})
	if err == nil {
		t.Fatal("Send with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), testPassword) || strings.Contains(logs.String(), testPassword) {
		t.Errorf("the password shows in the error or log: %v\n%s", err, logs.String())
	}
	untrusted := newTestMailer(t, port, TLSStartTLS, x509.NewCertPool(), &logs)
	if err := untrusted.Send(context.Background(), &Message{To: []string{"a@b.example"}, Subject: "x", Text: "x"}); err == nil {
		t.Error("Send to a server with an unknown certificate succeeded")
	}
}

func TestSendHonoursContext(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	m, err := New(Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: TLSImplicit, From: "a@b.example"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = m.Send(ctx, &Message{To: []string{"a@b.example"}, Subject: "x", Text: "x"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Send = %v after %v, want an error soon after the deadline", err, time.Since(start))
	}
}
