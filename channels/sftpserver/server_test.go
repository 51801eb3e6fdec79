package sftpserver

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ordergate/ordergate/channels"
)

func TestHostKeyGeneratedAndReused(t *testing.T) {
	f := newFixture(t)
	first, err := New(f.cfg, f.log.logger())
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(f.cfg.HostKeyFile)
	if err != nil {
		t.Fatalf("host key not generated: %v", err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("host key mode = %v, want 0600", got)
	}
	if got := first.HostKey().Type(); got != ssh.KeyAlgoED25519 {
		t.Errorf("host key type = %s, want ed25519", got)
	}
	second, err := New(f.cfg, f.log.logger())
	if err != nil {
		t.Fatal(err)
	}
	fp1, fp2 := ssh.FingerprintSHA256(first.HostKey()), ssh.FingerprintSHA256(second.HostKey())
	if fp1 != fp2 {
		t.Errorf("fingerprint on the second start = %s, want %s", fp2, fp1)
	}
	log := f.log.String()
	if !strings.Contains(log, "generated host key") || !strings.Contains(log, "loaded host key") || strings.Count(log, fp1) != 2 {
		t.Errorf("log does not give the fingerprint on generating and loading:\n%s", log)
	}
	key, err := os.ReadFile(f.cfg.HostKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log, "PRIVATE KEY") || strings.Contains(log, string(key[40:80])) {
		t.Errorf("log contains key material:\n%s", log)
	}
}

func TestHostKeyFromSSHKeygen(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed (apt-get install openssh-client)")
	}
	f := newFixture(t)
	if err := os.MkdirAll(filepath.Dir(f.cfg.HostKeyFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", f.cfg.HostKeyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	out, err := exec.Command(keygen, "-l", "-f", f.cfg.HostKeyFile).Output()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fp := ssh.FingerprintSHA256(srv.HostKey()); !strings.Contains(string(out), fp) {
		t.Errorf("server fingerprint %s, ssh-keygen says %s", fp, out)
	}
}

func TestConfigValidate(t *testing.T) {
	key := newClientKey(t).line
	good := func() Config {
		return Config{Name: "drop", HostKeyFile: "hk", RootDir: "root",
			Users: []User{{Name: "nord", Partner: "p", PublicKeys: []string{key}}}}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // in the error; "" is valid
	}{
		{"valid", func(*Config) {}, ""},
		{"restrict option is fine", func(c *Config) { c.Users[0].PublicKeys = []string{"restrict " + key} }, ""},
		{"no name", func(c *Config) { c.Name = "" }, "name is required"},
		{"bad listen", func(c *Config) { c.Listen = "2222" }, "not host:port"},
		{"no host key", func(c *Config) { c.HostKeyFile = "" }, "host_key_file is required"},
		{"no root", func(c *Config) { c.RootDir = "" }, "root_dir is required"},
		{"negative quota", func(c *Config) { c.QuotaBytes = -1 }, "quota_bytes -1 is negative"},
		{"no users", func(c *Config) { c.Users = nil }, "at least one user"},
		{"dot user", func(c *Config) { c.Users[0].Name = ".." }, `name ".." must be`},
		{"slash user", func(c *Config) { c.Users[0].Name = "a/b" }, `name "a/b" must be`},
		{"duplicate user", func(c *Config) { c.Users = append(c.Users, c.Users[0]) }, "used twice"},
		{"no partner", func(c *Config) { c.Users[0].Partner = "" }, "partner is required"},
		{"no key", func(c *Config) { c.Users[0].PublicKeys = []string{"# none\n"} }, "no public key"},
		{"bad key", func(c *Config) { c.Users[0].PublicKeys = []string{"ssh-ed25519 AAAAnotbase64"} }, "not an authorized_keys line"},
		{"command option", func(c *Config) { c.Users[0].PublicKeys = []string{`command="/bin/sh" ` + key} }, `option "command" is not supported`},
		{"from option", func(c *Config) { c.Users[0].PublicKeys = []string{`from="10.0.0.1" ` + key} }, `option "from" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.change(&c)
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

func TestAuthRefused(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	stranger := newClientKey(t)
	tests := []struct {
		name, user string
		key        ssh.Signer
	}{
		{"unknown key", "nord", stranger.signer},
		{"other user's key", "nord", f.keys["sued"].signer},
		{"unknown user", "root", f.keys["nord"].signer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := dialSFTP(t, srv, tt.user, tt.key); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
				t.Errorf("login = %v, want an authentication failure", err)
			}
		})
	}
	// Passwords are not offered at all.
	_, err := ssh.Dial("tcp", srv.Addr().String(), &ssh.ClientConfig{
		User: "nord", Auth: []ssh.AuthMethod{ssh.Password("secret")},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err == nil {
		t.Error("password login succeeded")
	}
	log := f.log.String()
	// Three failures from 127.0.0.1 within the interval: one line.
	if n := strings.Count(log, "sftp authentication failed"); n != 1 {
		t.Errorf("%d auth failure lines, want 1 (throttled):\n%s", n, log)
	}
	if !strings.Contains(log, "sftp_user=nord remote=127.0.0.1:") {
		t.Errorf("auth failure line lacks user and remote address:\n%s", log)
	}
	if strings.Contains(log, "secret") {
		t.Error("log contains the password tried")
	}
}

func TestAuthLogThrottle(t *testing.T) {
	a := newAuthLog(time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		host           string
		at             time.Duration
		wantOK         bool
		wantSuppressed int
	}{
		{"10.0.0.1", 0, true, 0},
		{"10.0.0.1", time.Second, false, 0},
		{"10.0.0.1", 2 * time.Second, false, 0},
		{"10.0.0.2", 3 * time.Second, true, 0},
		{"10.0.0.1", 61 * time.Second, true, 2},
		{"10.0.0.1", 62 * time.Second, false, 0},
	}
	for i, s := range steps {
		suppressed, ok := a.allow(s.host, t0.Add(s.at))
		if ok != s.wantOK || suppressed != s.wantSuppressed {
			t.Errorf("step %d: allow(%s) = %d, %v; want %d, %v", i, s.host, suppressed, ok, s.wantSuppressed, s.wantOK)
		}
	}
}

func TestOnlySFTPSubsystem(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	conn, err := ssh.Dial("tcp", srv.Addr().String(), &ssh.ClientConfig{
		User: "nord", Auth: []ssh.AuthMethod{ssh.PublicKeys(f.keys["nord"].signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, run := range []func(*ssh.Session) error{
		func(s *ssh.Session) error { return s.Run("id") },
		func(s *ssh.Session) error { return s.Shell() },
		func(s *ssh.Session) error { return s.RequestSubsystem("netconf") },
	} {
		sess, err := conn.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := run(sess); err == nil {
			t.Error("a non-sftp session request succeeded")
		}
		sess.Close()
	}
	if _, err := conn.Dial("tcp", "127.0.0.1:22"); err == nil {
		t.Error("port forwarding succeeded")
	}
}

func TestDroppedConnectionLeavesNothing(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	conn, err := ssh.Dial("tcp", srv.Addr().String(), &ssh.ClientConfig{
		User: "nord", Auth: []ssh.AuthMethod{ssh.PublicKeys(f.keys["nord"].signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := newSFTPClient(t, conn)
	w, err := c.Create("/in/half.x12")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 100<<10)); err != nil {
		t.Fatal(err)
	}
	conn.Close() // the client goes away without closing the file
	in := f.dir("nord", "in")
	if !waitFor(t, 10*time.Second, func() bool { return slices.Equal(allFiles(t, in), []string{".error"}) }) {
		t.Fatalf("in/ after the dropped connection = %q, want only .error", allFiles(t, in))
	}
	c2 := f.client(t, srv, "nord")
	if err := putFile(c2, "/in/next.x12", []byte("next")); err != nil {
		t.Fatal(err)
	}
	doc, _ := readDoc(t, srv)
	if doc.Name != "next.x12" {
		t.Errorf("read %q, want next.x12 (the dropped upload is no document)", doc.Name)
	}
}

func TestUploadsRefused(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	c := f.client(t, srv, "nord")
	// A write leaving a hole (a resumed upload) is no complete file.
	w, err := c.Create("/in/holes.x12")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt([]byte("tail"), 100); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "bytes missing") {
		t.Errorf("closing an upload with a hole = %v, want bytes missing", err)
	}
	if _, err := c.OpenFile("/in/append.x12", os.O_WRONLY|os.O_CREATE|os.O_APPEND); err == nil {
		t.Error("opening for append succeeded")
	}
	if got := allFiles(t, f.dir("nord", "in")); !slices.Equal(got, []string{".error"}) {
		t.Errorf("in/ = %q, want only .error", got)
	}
}

func TestSameNameWhileWaiting(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	c := f.client(t, srv, "nord")
	for _, body := range []string{"first", "second"} {
		if err := putFile(c, "/in/po.edi", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if got := visibleFiles(t, f.dir("nord", "in")); !slices.Equal(got, []string{"po.1.edi", "po.edi"}) {
		t.Fatalf("in/ = %q, want po.edi and po.1.edi", got)
	}
	keys := map[string]bool{}
	for range 2 {
		doc, ack := readDoc(t, srv)
		keys[doc.SourceKey] = true
		if err := ack(context.Background(), channels.Committed()); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) != 2 {
		t.Errorf("source keys %v, want two different", keys)
	}
}

func TestRejectedMovedAside(t *testing.T) {
	f := newFixture(t)
	srv := f.start(t)
	c := f.client(t, srv, "sued")
	if err := putFile(c, "/in/bad.edi", []byte("not an order")); err != nil {
		t.Fatal(err)
	}
	doc, ack := readDoc(t, srv)
	if doc.Meta["partner"] != "baumarkt-sued" || doc.Meta["sftp_user"] != "sued" {
		t.Errorf("Meta = %v", doc.Meta)
	}
	if err := ack(context.Background(), channels.Rejected("segment 1: ISA expected")); err != nil {
		t.Fatal(err)
	}
	errDir := filepath.Join(f.dir("sued", "in"), errorDir)
	if got := allFiles(t, errDir); !slices.Equal(got, []string{"bad.edi", "bad.edi.reason"}) {
		t.Fatalf("in/.error = %q", got)
	}
	reason, err := os.ReadFile(filepath.Join(errDir, "bad.edi.reason"))
	if err != nil || string(reason) != "segment 1: ISA expected\n" {
		t.Errorf("reason = %q, %v", reason, err)
	}
	// The user does not see the quarantine.
	entries, err := c.ReadDir("/in")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the user lists %d entries in /in, want none", len(entries))
	}
}

func TestOversizedFileInInbox(t *testing.T) {
	f := newFixture(t)
	f.cfg.MaxFileBytes = 10
	srv := f.start(t)
	if err := os.WriteFile(filepath.Join(f.dir("nord", "in"), "big.edi"), []byte("more than ten bytes"), 0o640); err != nil {
		t.Fatal(err)
	}
	doc, ack := readDoc(t, srv)
	if !errors.Is(doc.Err, channels.ErrTooLarge) || doc.Size() != 0 {
		t.Errorf("doc.Err = %v, size %d; want ErrTooLarge and no body", doc.Err, doc.Size())
	}
	if err := ack(context.Background(), channels.Rejected("too large")); err != nil {
		t.Fatal(err)
	}
}

func TestOutbounds(t *testing.T) {
	f := newFixture(t)
	f.cfg.Users = append(f.cfg.Users, User{Name: "nord2", Partner: "baumarkt-nord", PublicKeys: []string{newClientKey(t).line}})
	srv, err := New(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Outbound("nobody"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("Outbound(nobody) = %v, want ErrUnknownUser", err)
	}
	if _, err := srv.PartnerOutbound("baumarkt-nord"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("PartnerOutbound with two users = %v, want ErrUnknownUser", err)
	}
	o, err := srv.PartnerOutbound("baumarkt-sued")
	if err != nil || o.User() != "sued" {
		t.Fatalf("PartnerOutbound(baumarkt-sued) = %v, %v; want sued's", o, err)
	}
	if err := o.Send(context.Background(), "855.x12", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := o.Send(context.Background(), "855.x12", []byte("two")); !errors.Is(err, ErrConflict) {
		t.Errorf("Send of other bytes under the same name = %v, want ErrConflict", err)
	}
}
