package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartTimeout bounds how long a start (initdb included) may take.
const StartTimeout = 90 * time.Second

// ErrUnavailable: PostgreSQL is not installed.
var ErrUnavailable = errors.New("postgresql unavailable")

// BinDir returns the newest /usr/lib/postgresql/N/bin holding initdb
// (Debian's layout; PGBIN overrides it).
func BinDir() (string, error) {
	if d := os.Getenv("PGBIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return "", fmt.Errorf("%w: no /usr/lib/postgresql/*/bin/initdb (scripts/install-deps.sh installs postgresql)", ErrUnavailable)
	}
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	return filepath.Dir(dirs[len(dirs)-1]), nil
}

// Server is one private PostgreSQL cluster on loopback.
type Server struct {
	bin      string
	dir      string // owned by the server's user
	port     int
	password string
	uid, gid int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start launches a cluster for tb and removes it in tb.Cleanup. It skips
// tb when PostgreSQL is not installed and fails it when the cluster does
// not come up.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if _, err := BinDir(); err != nil {
		tb.Skip(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := Launch(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("closing the PostgreSQL test cluster: %v", err)
		}
	})
	return s
}

var shared struct {
	mu  sync.Mutex
	srv *Server
	err error
}

// Shared returns the cluster shared by the tests of this test binary,
// starting it on first use; RunMain removes it after the tests. Each test
// should take its own database (NewDatabase).
func Shared(tb testing.TB) *Server {
	tb.Helper()
	if _, err := BinDir(); err != nil {
		tb.Skip(err.Error())
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv == nil && shared.err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
		shared.srv, shared.err = Launch(ctx)
		cancel()
	}
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.srv
}

// RunMain runs the tests and then stops the shared cluster. Use it in
// TestMain: os.Exit(postgres.RunMain(m)).
func RunMain(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the shared PostgreSQL test cluster:", err)
		}
		shared.srv = nil
	}
	return code
}

// Launch creates a cluster (initdb) in a new temporary directory and
// starts it. The caller must Close it.
func Launch(ctx context.Context) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, uid: os.Getuid(), gid: os.Getgid()}
	if s.uid == 0 {
		// PostgreSQL refuses to run as root: the Debian package's
		// postgres user runs it.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("%w: running as root and no postgres user: %v", ErrUnavailable, err)
		}
		s.uid, _ = strconv.Atoi(u.Uid)
		s.gid, _ = strconv.Atoi(u.Gid)
	}
	dir, err := os.MkdirTemp("", "ordergate-pg-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if err := s.initdb(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.port = port
	if err := s.Start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) initdb(ctx context.Context) error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return err
	}
	b := make([]byte, 12)
	rand.Read(b)
	s.password = hex.EncodeToString(b)
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return err
	}
	for _, p := range []string{s.dir, pwfile} {
		if err := os.Chown(p, s.uid, s.gid); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "initdb"),
		"-D", s.dataDir(), "-U", "postgres", "--pwfile", pwfile,
		"--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	cmd.Env = s.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid)}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out))
	}
	return os.Remove(pwfile)
}

func (s *Server) env() []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "HOME=" + s.dir}
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// LogFile is the server's log.
func (s *Server) LogFile() string { return filepath.Join(s.dir, "postgres.log") }

// Port is the TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Password is the postgres superuser's password.
func (s *Server) Password() string { return s.password }

// DSN is the URL of database db as the superuser (no TLS: loopback).
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", s.password, s.port, db)
}

// Start runs the server (again) on its data directory and waits until it
// accepts connections. It is an error to Start a running server.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("postgres test cluster: already running")
	}
	logf, err := os.OpenFile(s.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer logf.Close()
	_ = logf.Chown(s.uid, s.gid)
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", s.dataDir(),
		"-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB",
		"-c", "log_min_messages=warning", "-c", "log_connections=off")
	cmd.Env = s.env()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGQUIT,
		Credential: &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid)},
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(ctx, done); err != nil {
		s.signalLocked(syscall.SIGKILL)
		b, _ := os.ReadFile(s.LogFile())
		return fmt.Errorf("postgres test cluster: %w; log: %s", err, tail(b))
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for connections: %w", ctx.Err())
		case <-exited:
			return errors.New("postgres exited during start-up")
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := pgx.Connect(cctx, s.DSN("postgres"))
		if err == nil {
			err = c.Ping(cctx)
			c.Close(cctx)
		}
		cancel()
		if err == nil {
			return nil
		}
	}
}

// StopImmediate stops the server the way a crash does
// (pg_ctl stop -m immediate: no checkpoint, recovery from the WAL at the
// next start) and waits until it has exited.
func (s *Server) StopImmediate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd := exec.Command(filepath.Join(s.bin, "pg_ctl"), "stop", "-m", "immediate", "-D", s.dataDir(), "-w")
	cmd.Env = s.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		s.signalLocked(syscall.SIGKILL)
		return fmt.Errorf("pg_ctl stop -m immediate: %w: %s", err, bytes.TrimSpace(out))
	}
	return s.waitExitLocked()
}

func (s *Server) waitExitLocked() error {
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.signalLocked(syscall.SIGKILL)
		return errors.New("postgres did not exit within 30 s")
	}
	s.cmd = nil
	return nil
}

func (s *Server) signalLocked(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, sig)
	if sig == syscall.SIGKILL {
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
		s.cmd = nil
	}
}

// Close stops the server (fast shutdown) and removes its directory.
func (s *Server) Close() error {
	s.mu.Lock()
	var err error
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		err = s.waitExitLocked()
	}
	s.mu.Unlock()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// NewDatabase creates an empty database for tb, dropped in tb.Cleanup,
// and returns its DSN.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if err := s.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("dropping database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// Exec runs one statement in the postgres database as the superuser.
func (s *Server) Exec(ctx context.Context, sql string, args ...any) error {
	c, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Exec(ctx, sql, args...)
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
