package mailbox_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels/mailbox"
)

// fakeServer is a scripted IMAP server that records every byte a client
// sends, to prove what went over the wire in clear.
type fakeServer struct {
	ln       net.Listener
	mu       sync.Mutex
	received bytes.Buffer
	conns    int
	done     chan struct{}
}

// startFake serves one connection at a time with script: greeting is
// sent first, then every command line gets the answer reply returns
// (with the tag prefixed unless it starts with "*"), until reply returns
// "".
func startFake(t *testing.T, greeting string, reply func(tag, cmd string) string) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{ln: ln, done: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); <-f.done })
	go func() {
		defer close(f.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
			f.serve(c, greeting, reply)
		}
	}()
	return f
}

func (f *fakeServer) serve(c net.Conn, greeting string, reply func(tag, cmd string) string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(readRecorder{c, f})
	c.Write([]byte(greeting + "\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		out := reply(tag, cmd)
		if out == "" {
			// Drain what the client still sends, then hang up.
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			buf := make([]byte, 4096)
			for {
				if _, err := r.Read(buf); err != nil {
					return
				}
			}
		}
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "*") && !strings.HasPrefix(l, "+") {
				l = tag + " " + l
			}
			c.Write([]byte(l + "\r\n"))
		}
	}
}

type readRecorder struct {
	c net.Conn
	f *fakeServer
}

func (r readRecorder) Read(p []byte) (int, error) {
	n, err := r.c.Read(p)
	r.f.mu.Lock()
	r.f.received.Write(p[:n])
	r.f.mu.Unlock()
	return n, err
}

func (f *fakeServer) got() (string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received.String(), f.conns
}

func (f *fakeServer) port() int { return f.ln.Addr().(*net.TCPAddr).Port }

const canaryPassword = "canary-Pa55word-7f3a"

func fakeConfig(f *fakeServer, mode string, insecure bool) mailbox.Config {
	return mailbox.Config{
		Name: "fake", Host: "127.0.0.1", Port: f.port(), TLS: mode, InsecurePlaintext: insecure,
		User: "orders", Password: canaryPassword, DialTimeout: 3 * time.Second,
	}
}

// assertNoCredentials fails when the server received the password or a
// login command in clear.
func assertNoCredentials(t *testing.T, f *fakeServer) {
	t.Helper()
	got, _ := f.got()
	upper := strings.ToUpper(got)
	if strings.Contains(got, canaryPassword) || strings.Contains(upper, "LOGIN") || strings.Contains(upper, "AUTHENTICATE") {
		t.Errorf("the server received credentials in clear:\n%q", got)
	}
}

func connectErr(t *testing.T, cfg mailbox.Config) error {
	t.Helper()
	src, err := mailbox.New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = src.Connect(ctx)
	src.Close(ctx)
	return err
}

// imapAnswers answers like a plain IMAP server that accepts any login.
func imapAnswers(tag, cmd string) string {
	verb, _, _ := strings.Cut(strings.ToUpper(cmd), " ")
	switch verb {
	case "CAPABILITY":
		return "* CAPABILITY IMAP4rev1 AUTH=PLAIN\nOK done"
	case "LOGIN":
		return "OK logged in"
	case "SELECT":
		return "* 0 EXISTS\n* OK [UIDVALIDITY 7] ok\n* OK [UIDNEXT 1] ok\nOK [READ-WRITE] selected"
	case "LOGOUT":
		return "* BYE\nOK bye"
	case "STARTTLS":
		return "BAD unknown command"
	}
	return "OK"
}

func TestNoCredentialsInClear(t *testing.T) {
	const greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED] fake ready"
	tests := []struct {
		name  string
		mode  string
		reply func(tag, cmd string) string
		greet string
	}{
		{"starttls stripped by the server", mailbox.TLSStartTLS, imapAnswers, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready"},
		{"starttls not advertised", mailbox.TLSStartTLS, imapAnswers, greeting},
		{"starttls acknowledged, then no TLS", mailbox.TLSStartTLS, func(tag, cmd string) string {
			if strings.EqualFold(cmd, "STARTTLS") {
				return "OK begin TLS now\n* BYE not really"
			}
			return imapAnswers(tag, cmd)
		}, greeting},
		{"PREAUTH before STARTTLS", mailbox.TLSStartTLS, func(tag, cmd string) string {
			return imapAnswers(tag, cmd)
		}, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in already"},
		{"implicit TLS to a plaintext server", mailbox.TLSImplicit, imapAnswers, greeting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, tt.greet, tt.reply)
			err := connectErr(t, fakeConfig(f, tt.mode, false))
			if err == nil {
				t.Fatal("Connect succeeded, want a refusal")
			}
			if strings.Contains(err.Error(), canaryPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
			if _, conns := f.got(); conns == 0 {
				t.Errorf("the client never connected: the case tests nothing")
			}
			assertNoCredentials(t, f)
		})
	}
}

func TestPlaintextNeedsOptIn(t *testing.T) {
	f := startFake(t, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready", imapAnswers)
	_, err := mailbox.New(fakeConfig(f, mailbox.TLSNone, false))
	if err == nil || !strings.Contains(err.Error(), "insecure_plaintext") {
		t.Fatalf("New with tls none and no insecure_plaintext = %v, want an error naming insecure_plaintext", err)
	}
	if _, conns := f.got(); conns != 0 {
		t.Errorf("the client connected %d times, want 0", conns)
	}
	// The control: with the opt-in the fake server does see the login, so
	// the assertions above can fail.
	if err := connectErr(t, fakeConfig(f, mailbox.TLSNone, true)); err != nil {
		t.Fatalf("Connect with insecure_plaintext: %v", err)
	}
	if got, _ := f.got(); !strings.Contains(got, canaryPassword) {
		t.Errorf("with insecure_plaintext the fake server saw no login: %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := mailbox.Config{Name: "fax", Host: "mail.example.com", User: "u", Password: "p"}
	tests := []struct {
		name string
		edit func(c *mailbox.Config)
		want string
	}{
		{"valid", func(c *mailbox.Config) {}, ""},
		{"no host", func(c *mailbox.Config) { c.Host = "" }, "host is required"},
		{"bad tls", func(c *mailbox.Config) { c.TLS = "ssl" }, `tls "ssl"`},
		{"plaintext without opt-in", func(c *mailbox.Config) { c.TLS = mailbox.TLSNone }, "insecure_plaintext"},
		{"skip verify", func(c *mailbox.Config) { c.TLSConfig = &tls.Config{InsecureSkipVerify: true} }, "verification"},
		{"move without done", func(c *mailbox.Config) { c.AfterIngest = mailbox.AfterIngestMove }, "done_mailbox"},
		{"done is inbox", func(c *mailbox.Config) { c.DoneMailbox = "inbox" }, "mailbox read itself"},
		{"no password", func(c *mailbox.Config) { c.Password = "" }, "password is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
