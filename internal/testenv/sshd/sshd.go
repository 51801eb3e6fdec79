package sshd

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ordergate/ordergate/internal/testenv"
)

// Home is the account's writable folder and start directory, as the SFTP
// client sees it.
const Home = "/data"

const (
	sshdPath = "/usr/sbin/sshd"
	jailBase = "/srv/ordergate-test"
)

// Server is one running sshd. Its exported fields are fixed for its life.
type Server struct {
	// Addr is "127.0.0.1:<port>"; Host and Port are its parts.
	Addr string
	Host string
	Port int
	// User is the SFTP account; UID and GID its ids.
	User     string
	UID, GID int
	// KnownHostsFile pins the host key the server started with, in
	// OpenSSH known_hosts format ("[127.0.0.1]:port ssh-ed25519 ...").
	KnownHostsFile string
	// HostKeyFingerprint is that key's "SHA256:..." fingerprint.
	HostKeyFingerprint string
	// ClientKeyFile is the account's unencrypted ed25519 private key.
	ClientKeyFile string
	// Root is the host path of the chroot jail; Home is Root+"/data".
	Root string

	t           testing.TB
	etc         string
	configFile  string
	hostKeyFile string
	logFile     string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a server for the test and stops and removes it when the
// test ends. It skips the test (fails it with
// ORDERGATE_REQUIRE_SERVERS=1: testenv.Unavailable) when not run as root or when sshd, useradd
// or usermod is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "sshd: needs root (useradd, ChrootDirectory)")
	}
	if _, err := os.Stat(sshdPath); err != nil {
		testenv.Unavailable(t, fmt.Sprintf("sshd: %s missing (install openssh-server): %v", sshdPath, err))
	}
	for _, tool := range []string{"useradd", "usermod", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Unavailable(t, fmt.Sprintf("sshd: %s missing: %v", tool, err))
		}
	}
	s := &Server{t: t, Host: "127.0.0.1"}
	unique := randHex(5)
	s.User = "ogt" + unique
	s.Root = filepath.Join(jailBase, unique)
	s.etc = filepath.Join(jailBase, unique+".etc")
	t.Cleanup(s.cleanup)

	for _, dir := range []string{"/run/sshd", jailBase, s.Root, s.etc} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("sshd: %v", err)
		}
		// ChrootDirectory: root-owned, not group or world writable.
		if err := os.Chown(dir, 0, 0); err != nil {
			t.Fatalf("sshd: %v", err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatalf("sshd: %v", err)
		}
	}
	run(t, "useradd", "-M", "-d", Home, "-s", "/usr/sbin/nologin", "-U", s.User)
	run(t, "usermod", "-p", "*", s.User) // a locked account is refused even with keys
	u, err := user.Lookup(s.User)
	if err != nil {
		t.Fatalf("sshd: %v", err)
	}
	s.UID, _ = strconv.Atoi(u.Uid)
	s.GID, _ = strconv.Atoi(u.Gid)
	home := filepath.Join(s.Root, Home)
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	if err := os.Chown(home, s.UID, s.GID); err != nil {
		t.Fatalf("sshd: %v", err)
	}

	// Keys: the host key (root only), the client key and its
	// authorized_keys entry (read by sshd as the user).
	s.hostKeyFile = filepath.Join(s.etc, "ssh_host_ed25519_key")
	hostPub := writeKey(t, s.hostKeyFile)
	s.HostKeyFingerprint = ssh.FingerprintSHA256(hostPub)
	s.ClientKeyFile = filepath.Join(t.TempDir(), "id_ed25519")
	clientPub := writeKey(t, s.ClientKeyFile)
	if err := os.WriteFile(filepath.Join(s.etc, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o644); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	s.logFile = filepath.Join(s.etc, "sshd.log")
	s.configFile = filepath.Join(s.etc, "sshd_config")

	var lastErr error
	for range 5 {
		s.Port = freePort(t)
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		s.writeConfig()
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("sshd: starting: %v\n%s", lastErr, s.log())
	}
	s.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, hostPub) + "\n"
	if err := os.WriteFile(s.KnownHostsFile, []byte(line), 0o644); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	return s
}

func (s *Server) writeConfig() {
	cfg := fmt.Sprintf(`ListenAddress %s
HostKey %s
PidFile none
UsePAM no
UseDNS no
PermitRootLogin no
AllowUsers %s
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile %s
StrictModes yes
ChrootDirectory %s
ForceCommand internal-sftp -d %s
Subsystem sftp internal-sftp
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 64:30:128
MaxSessions 16
LogLevel INFO
`, s.Addr, s.hostKeyFile, s.User, filepath.Join(s.etc, "authorized_keys"), s.Root, Home)
	if err := os.WriteFile(s.configFile, []byte(cfg), 0o644); err != nil {
		s.t.Fatalf("sshd: %v", err)
	}
}

// start runs sshd and waits until it answers with its banner.
func (s *Server) start() error {
	logf, err := os.OpenFile(s.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	// A file, not a pipe: session processes inherit sshd's stderr and
	// would keep a pipe (and cmd.Wait) open.
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", s.configFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("sshd exited: %v", cmd.ProcessState)
		default:
		}
		if banner(s.Addr) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.signalTree(syscall.SIGKILL)
	return errors.New("sshd did not answer within 10s")
}

func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// Stop ends sshd and its sessions with SIGTERM (SIGKILL after 5 s) and
// waits for the listener to exit. It does nothing when not running.
func (s *Server) Stop() { s.stop(syscall.SIGTERM) }

// Kill ends sshd and every session process it forked with SIGKILL, at
// once: transfers in progress die. It may be called from any goroutine.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return
	}
	s.signalTree(sig)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.signalTree(syscall.SIGKILL)
		<-done
	}
	s.mu.Lock()
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
}

// Restart stops the server (if running) and starts it again on the same
// port with the current host key.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for range 50 { // the port may be busy for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("sshd: restarting: %v\n%s", err, s.log())
}

// SwapHostKey gives the server a new host key and restarts it.
// KnownHostsFile and HostKeyFingerprint still describe the old key.
func (s *Server) SwapHostKey() {
	s.t.Helper()
	writeKey(s.t, s.hostKeyFile)
	s.Restart()
}

// Path returns the host path of remote, a path as the SFTP user sees it
// (relative paths are relative to Home).
func (s *Server) Path(remote string) string {
	if !strings.HasPrefix(remote, "/") {
		remote = Home + "/" + remote
	}
	return filepath.Join(s.Root, filepath.FromSlash(remote))
}

// MkdirAll creates the folder remote (inside Home) and its parents, owned
// by the account.
func (s *Server) MkdirAll(remote string) {
	s.t.Helper()
	p := s.Path(remote)
	home := filepath.Join(s.Root, Home)
	if p != home && !strings.HasPrefix(p, home+string(filepath.Separator)) {
		s.t.Fatalf("sshd: MkdirAll %s: not inside %s", remote, Home)
	}
	rel, _ := filepath.Rel(home, p)
	cur := home
	for part := range strings.SplitSeq(rel, string(filepath.Separator)) {
		if part == "." {
			continue
		}
		cur = filepath.Join(cur, part)
		if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			s.t.Fatalf("sshd: %v", err)
		}
		if err := os.Chown(cur, s.UID, s.GID); err != nil {
			s.t.Fatalf("sshd: %v", err)
		}
	}
}

// WriteFile puts a complete file at remote, owned by the account: written
// outside Home, then renamed into place, so it appears whole.
func (s *Server) WriteFile(remote string, data []byte) {
	s.t.Helper()
	staging := filepath.Join(s.Root, ".staging")
	if err := os.MkdirAll(staging, 0o700); err != nil {
		s.t.Fatalf("sshd: %v", err)
	}
	tmp := filepath.Join(staging, randHex(8))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		s.t.Fatalf("sshd: %v", err)
	}
	if err := os.Chown(tmp, s.UID, s.GID); err != nil {
		s.t.Fatalf("sshd: %v", err)
	}
	if err := os.Rename(tmp, s.Path(remote)); err != nil {
		s.t.Fatalf("sshd: %v", err)
	}
}

func (s *Server) cleanup() {
	s.Kill()
	if s.t.Failed() {
		s.t.Logf("sshd log:\n%s", s.log())
	}
	if s.User != "" {
		if out, err := exec.Command("userdel", s.User).CombinedOutput(); err != nil && !bytes.Contains(out, []byte("does not exist")) {
			s.t.Logf("sshd: userdel %s: %v: %s", s.User, err, out)
		}
	}
	for _, dir := range []string{s.Root, s.etc} {
		if dir != "" {
			if err := os.RemoveAll(dir); err != nil {
				s.t.Logf("sshd: removing %s: %v", dir, err)
			}
		}
	}
}

func (s *Server) log() string {
	b, _ := os.ReadFile(s.logFile)
	if len(b) > 16<<10 {
		b = b[len(b)-16<<10:]
	}
	return string(b)
}

// signalTree stops sshd and its descendants from forking (SIGSTOP), then
// sends sig to all of them. The tree is collected before any process dies,
// since a dead parent's children are re-parented and lost.
func (s *Server) signalTree(sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	root := cmd.Process.Pid
	stopped := map[int]bool{}
	for {
		tree := descendants(root)
		added := false
		for _, pid := range tree {
			if !stopped[pid] {
				stopped[pid] = true
				added = true
				syscall.Kill(pid, syscall.SIGSTOP)
			}
		}
		if !added {
			break
		}
	}
	for pid := range stopped {
		syscall.Kill(pid, sig)
		if sig != syscall.SIGKILL {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}
}

// descendants returns root and every process below it, from /proc.
func descendants(root int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("sshd: %s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// writeKey writes a new ed25519 private key in OpenSSH format to file
// (mode 0600) and returns its public key.
func writeKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshd: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "ordergate-test")
	if err != nil {
		t.Fatalf("sshd: %v", err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("sshd: %v", err)
	}
	return sshPub
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshd: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
