package sftpserver

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// clientKey is a partner's key pair.
type clientKey struct {
	signer ssh.Signer
	line   string // authorized_keys line
	pem    []byte // OpenSSH private key file
}

func newClientKey(t testing.TB) clientKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{
		signer: signer,
		line:   strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " test@partner",
		pem:    pem.EncodeToMemory(block),
	}
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fixture is a server configuration with two partners, nord and sued.
type fixture struct {
	cfg  Config
	keys map[string]clientKey
	log  *logBuffer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{keys: map[string]clientKey{"nord": newClientKey(t), "sued": newClientKey(t)}, log: &logBuffer{}}
	f.cfg = Config{
		Name:        "partner-drop",
		Listen:      "127.0.0.1:0",
		HostKeyFile: filepath.Join(dir, "keys", "host_ed25519"),
		RootDir:     filepath.Join(dir, "sftp"),
		SpoolDir:    t.TempDir(),
		Users: []User{
			{Name: "nord", Partner: "baumarkt-nord", PublicKeys: []string{f.keys["nord"].line}},
			{Name: "sued", Partner: "baumarkt-sued", PublicKeys: []string{"# sued's keys\n\n" + f.keys["sued"].line + "\n"}},
		},
	}
	return f
}

// start returns a connected server, closed at the end of the test.
func (f *fixture) start(t testing.TB) *Server {
	t.Helper()
	srv, err := New(f.cfg, f.log.logger())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

func (f *fixture) dir(user, sub string) string { return filepath.Join(f.cfg.RootDir, user, sub) }

// dialSFTP logs in to srv as user with key and returns an SFTP client.
func dialSFTP(t testing.TB, srv *Server, user string, key ssh.Signer) (*sftp.Client, error) {
	t.Helper()
	conn, err := ssh.Dial("tcp", srv.Addr().String(), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	c, err := sftp.NewClient(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() {
		c.Close()
		conn.Close()
	})
	return c, nil
}

func (f *fixture) client(t testing.TB, srv *Server, user string) *sftp.Client {
	t.Helper()
	c, err := dialSFTP(t, srv, user, f.keys[user].signer)
	if err != nil {
		t.Fatalf("logging in as %s: %v", user, err)
	}
	return c
}

// putFile writes body to p over c.
func putFile(c *sftp.Client, p string, body []byte) error {
	w, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	if _, err := w.ReadFrom(bytes.NewReader(body)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// visibleFiles returns the names of the regular, non-dot files in dir.
func visibleFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// allFiles returns the names of every entry in dir, dot-files included.
func allFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newSFTPClient(t testing.TB, conn *ssh.Client) *sftp.Client {
	t.Helper()
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
