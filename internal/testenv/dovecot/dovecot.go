package dovecot

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/proc"
)

const (
	dovecotPath = "/usr/sbin/dovecot"
	ldaPath     = "/usr/lib/dovecot/dovecot-lda"
	// mailUID owns the maildir; Dovecot refuses root for mail access.
	mailUID = 5000
)

// Server is one running Dovecot. Its exported fields are fixed for its
// life.
type Server struct {
	// Host is "127.0.0.1". IMAPPort offers STARTTLS (and, from loopback,
	// plaintext login); IMAPSPort implicit TLS.
	Host      string
	IMAPPort  int
	IMAPSPort int
	// User and Password are the mail account's credentials.
	User     string
	Password string
	// CACertPEM is the test CA that signed the server certificate (for
	// 127.0.0.1 and localhost); CAPool holds it.
	CACertPEM []byte
	CAPool    *x509.CertPool
	// Dir holds the configuration, base_dir, state, log and mail.
	Dir string

	t          testing.TB
	opts       Options
	configFile string
	logFile    string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Options change the server's configuration.
type Options struct {
	// IMAPCapability replaces the capabilities announced after login
	// (Dovecot's imap_capability), e.g. to hide MOVE.
	IMAPCapability string
}

// Start starts a server for the test and stops and removes it when the
// test ends. It skips the test when not run as root or when Dovecot or
// dovecot-lda is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("dovecot: needs root (privilege separation, mail uid)")
	}
	for _, p := range []string{dovecotPath, ldaPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("dovecot: %s missing (install dovecot-imapd): %v", p, err)
		}
	}
	// A short path: base_dir holds unix sockets (108-byte limit).
	dir, err := os.MkdirTemp("", "ogdc")
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	s := &Server{t: t, Host: "127.0.0.1", Dir: dir, User: "orders", Password: "pw-" + randHex(8), opts: opts}
	t.Cleanup(s.cleanup)
	// Dovecot's service users reach base_dir and the mail uid its home.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	mail := filepath.Join(dir, "mail")
	if err := os.Mkdir(mail, 0o755); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	if err := os.Chown(mail, mailUID, mailUID); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	s.writeCerts()
	passwd := fmt.Sprintf("%s:{PLAIN}%s::::::\n", s.User, s.Password)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	ports, err := proc.FreePorts(2)
	if err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	s.IMAPPort, s.IMAPSPort = ports[0], ports[1]
	s.logFile = filepath.Join(dir, "dovecot.log")
	s.configFile = filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(s.configFile, []byte(s.config()), 0o644); err != nil {
		t.Fatalf("dovecot: %v", err)
	}
	s.start()
	return s
}

func (s *Server) config() string {
	d := s.Dir
	extra := ""
	if s.opts.IMAPCapability != "" {
		extra = "protocol imap {\n  imap_capability = " + s.opts.IMAPCapability + "\n}\n"
	}
	return extra + fmt.Sprintf(`# ordergate test server
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = ogdc-%[2]d
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1000
mail_location = maildir:~/Maildir
mailbox_idle_check_interval = 1 secs
default_internal_user = dovecot
default_login_user = dovenull
lda_mailbox_autocreate = yes
postmaster_address = postmaster@ordergate.test
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]d gid=%[3]d home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[4]d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %[5]d
    ssl = yes
  }
}
`, d, s.IMAPPort, mailUID, s.IMAPPort, s.IMAPSPort)
}

// IMAPAddr is the STARTTLS listener's host:port, IMAPSAddr the implicit
// TLS one's.
func (s *Server) IMAPAddr() string  { return net.JoinHostPort(s.Host, strconv.Itoa(s.IMAPPort)) }
func (s *Server) IMAPSAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.IMAPSPort)) }

// start runs dovecot in the foreground and waits until both listeners
// greet.
func (s *Server) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("dovecot: already running")
	}
	log, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatalf("dovecot: %v", err)
	}
	defer log.Close()
	cmd := exec.Command(dovecotPath, "-F", "-c", s.configFile)
	// Daemons need their output redirected, or a pipe stays open.
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("dovecot: starting: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(15 * time.Second)
	for _, addr := range []string{s.IMAPAddr(), s.IMAPSAddr()} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-done:
				s.t.Fatalf("dovecot: exited at start:\n%s", s.Log())
			default:
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("dovecot: %s not listening after 15 s: %v\n%s", addr, err, s.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Stop stops the server (SIGTERM to the master, which ends its
// children) and waits until it is gone.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	// The master exits before every child is gone; wait for the ports.
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range []string{s.IMAPAddr(), s.IMAPSAddr()} {
		for time.Now().Before(deadline) {
			l, err := net.Listen("tcp", addr)
			if err == nil {
				l.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same ports with
// the same mail.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Deliver delivers raw (an RFC 5322 message, LF or CRLF line ends) to
// the account's INBOX through dovecot-lda.
func (s *Server) Deliver(raw []byte) { s.t.Helper(); s.DeliverTo("INBOX", raw) }

// DeliverTo delivers raw into mailbox, which is created when missing.
func (s *Server) DeliverTo(mailbox string, raw []byte) {
	s.t.Helper()
	if err := s.TryDeliverTo(mailbox, raw); err != nil {
		s.t.Fatal(err)
	}
}

// TryDeliverTo is DeliverTo returning the error, for use from other
// goroutines than the test's.
func (s *Server) TryDeliverTo(mailbox string, raw []byte) error {
	cmd := exec.Command(ldaPath, "-c", s.configFile, "-d", s.User, "-f", "sender@ordergate.test", "-m", mailbox)
	cmd.Stdin = bytes.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("dovecot-lda: %w: %s", err, out)
	}
	return nil
}

// MailboxDir is the maildir folder of mailbox ("INBOX" or a name with
// "/" as hierarchy separator).
func (s *Server) MailboxDir(mailbox string) string {
	root := filepath.Join(s.Dir, "mail", s.User, "Maildir")
	if strings.EqualFold(mailbox, "INBOX") {
		return root
	}
	return filepath.Join(root, "."+strings.ReplaceAll(mailbox, "/", "."))
}

// ResetUIDValidity stops the server, removes the mailbox's UID list and
// indexes and starts it again: the mails stay, Dovecot numbers them anew
// under a new UIDVALIDITY. Keywords set on the mails (kept in the file
// names) survive, as they would in a server migration that keeps flags.
func (s *Server) ResetUIDValidity(mailbox string) {
	s.t.Helper()
	s.Stop()
	dir := s.MailboxDir(mailbox)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.t.Fatalf("dovecot: %v", err)
	}
	for _, e := range entries {
		if n := e.Name(); n == "dovecot-uidlist" || strings.HasPrefix(n, "dovecot.index") || strings.HasPrefix(n, "dovecot.list.index") {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				s.t.Fatalf("dovecot: %v", err)
			}
		}
	}
	// The next UIDVALIDITY comes from the mail root's counter when one
	// exists; bump it so the new value never equals the old one.
	counter := filepath.Join(s.Dir, "mail", s.User, "Maildir", "dovecot-uidvalidity")
	if b, err := os.ReadFile(counter); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 32); err == nil {
			_ = os.WriteFile(counter, []byte(strconv.FormatUint(n+1000, 16)+"\n"), 0o600)
			_ = os.Chown(counter, mailUID, mailUID)
		}
	}
	s.start()
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

func (s *Server) cleanup() {
	s.mu.Lock()
	s.stopLocked()
	s.mu.Unlock()
	if s.t.Failed() {
		s.t.Logf("dovecot log:\n%s", tail(s.Log(), 60))
	}
	os.RemoveAll(s.Dir)
}

func tail(s string, lines int) string {
	var all []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// writeCerts makes a test CA and a server certificate for 127.0.0.1 and
// localhost.
func (s *Server) writeCerts() {
	s.t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ordergate test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		s.t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		s.t.Fatal(err)
	}
	s.CACertPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	s.CAPool = x509.NewCertPool()
	s.CAPool.AddCert(ca)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	for name, b := range map[string][]byte{"cert.pem": certPEM, "key.pem": keyPEM, "ca.pem": s.CACertPEM} {
		if err := os.WriteFile(filepath.Join(s.Dir, name), b, 0o600); err != nil {
			s.t.Fatal(err)
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed"))
	}
	return hex.EncodeToString(b)
}
