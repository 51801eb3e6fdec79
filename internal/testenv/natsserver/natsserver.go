package natsserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ordergate/ordergate/internal/testenv"
)

// DefaultBinary is where scripts/install-deps.sh installs nats-server.
const DefaultBinary = "/usr/local/bin/nats-server"

// StartTimeout bounds how long Start waits for the server to be ready.
const StartTimeout = 60 * time.Second

// ErrUnavailable: no nats-server is installed.
var ErrUnavailable = errors.New("nats-server unavailable")

// Binary returns the nats-server to run: DefaultBinary, else the one on
// PATH.
func Binary() (string, error) {
	if _, err := os.Stat(DefaultBinary); err == nil {
		return DefaultBinary, nil
	}
	p, err := exec.LookPath("nats-server")
	if err != nil {
		return "", fmt.Errorf("%w: neither %s nor nats-server on PATH (scripts/install-deps.sh installs it)", ErrUnavailable, DefaultBinary)
	}
	return p, nil
}

// Server is one private nats-server.
type Server struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start launches a server for tb and closes it in tb.Cleanup. It skips tb
// (fails it with ORDERGATE_REQUIRE_SERVERS=1: testenv.Unavailable)
// when no nats-server is installed and fails it when the server does not
// come up.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if _, err := Binary(); err != nil {
		testenv.Unavailable(tb, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := Launch(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("closing nats test server: %v", err)
		}
	})
	return s
}

// Launch starts a server and waits until it is ready. The caller must
// Close it.
func Launch(ctx context.Context) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("finding a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "ordergate-nats-")
	if err != nil {
		return nil, fmt.Errorf("creating the server's directory: %w", err)
	}
	s := &Server{bin: bin, dir: dir, port: port}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
server_name: ordergate-test-%d
jetstream {
  store_dir: %q
  sync_interval: always
}
`, port, port, filepath.Join(dir, "store"))
	if err := os.WriteFile(s.configFile(), []byte(cfg), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("writing the server's config: %w", err)
	}
	if err := s.Start(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) configFile() string { return filepath.Join(s.dir, "nats-server.conf") }

// URL returns the server's client URL.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// StoreDir returns the JetStream store directory.
func (s *Server) StoreDir() string { return filepath.Join(s.dir, "store") }

// LogFile returns the file the server's output goes to.
func (s *Server) LogFile() string { return filepath.Join(s.dir, "nats-server.log") }

// Start runs the server (again) on its store and waits until JetStream
// answers. It is an error to Start a running server.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("nats test server: already running")
	}
	out, err := os.OpenFile(s.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the server's log: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(s.bin, "-c", s.configFile())
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting nats-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(ctx, done); err != nil {
		_ = s.killLocked()
		return fmt.Errorf("nats test server: %w; log %s: %s", err, s.LogFile(), s.logTail())
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for JetStream: %w", ctx.Err())
		case <-exited:
			return errors.New("nats-server exited during start-up")
		case <-tick.C:
		}
		nc, err := nats.Connect(s.URL(), nats.Timeout(time.Second), nats.NoReconnect())
		if err != nil {
			continue
		}
		// JetStream answers once its store is recovered.
		_, err = nc.Request("$JS.API.INFO", nil, 2*time.Second)
		nc.Close()
		if err == nil {
			return nil
		}
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.LogFile())
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// Kill kills the server with SIGKILL and waits until it is gone. Killing a
// stopped server does nothing.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killLocked()
}

func (s *Server) killLocked() error {
	if s.cmd == nil {
		return nil
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		return errors.New("nats test server: still running 30s after SIGKILL")
	}
	s.cmd, s.done = nil, nil
	return nil
}

// Restart kills the server and starts it again.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Kill(); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Close kills the server and removes its directory.
func (s *Server) Close() error {
	err := s.Kill()
	return errors.Join(err, os.RemoveAll(s.dir))
}
