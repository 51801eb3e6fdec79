package rabbitmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/proc"
	"github.com/ordergate/ordergate/internal/testenv"
	amqp "github.com/rabbitmq/amqp091-go"
)

// ServerScript is the script that runs the broker in the foreground.
const ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// StartTimeout bounds how long Start waits for the broker to accept AMQP
// connections.
const StartTimeout = 120 * time.Second

// ErrUnavailable: the broker cannot be started on this machine (not root,
// no rabbitmq user, rabbitmq-server not installed).
var ErrUnavailable = errors.New("rabbitmq-server unavailable")

// Server is one private broker.
type Server struct {
	dir      string // temp dir: config, data, logs
	node     string
	port     int
	distPort int
	uid, gid int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// Unavailable returns why a broker cannot be started here, or "".
func Unavailable() string {
	if os.Geteuid() != 0 {
		return "rabbitmq-server tests need root (they run the broker as the rabbitmq user)"
	}
	if _, err := os.Stat(ServerScript); err != nil {
		return "rabbitmq-server is not installed (" + ServerScript + "); scripts/install-deps.sh installs it"
	}
	if _, err := user.Lookup("rabbitmq"); err != nil {
		return "the rabbitmq user is missing; scripts/install-deps.sh installs rabbitmq-server"
	}
	return ""
}

// Start launches a broker for tb and closes it in tb.Cleanup. It skips tb
// (fails it with ORDERGATE_REQUIRE_SERVERS=1: testenv.Unavailable)
// when the broker is unavailable and fails it when the broker does not
// come up.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if why := Unavailable(); why != "" {
		testenv.Unavailable(tb, why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	s, err := Launch(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("closing rabbitmq test broker: %v", err)
		}
	})
	return s
}

// Launch starts a broker and waits until it accepts AMQP connections. The
// caller must Close it. It returns an error wrapping ErrUnavailable when
// the broker cannot run here.
func Launch(ctx context.Context) (*Server, error) {
	if why := Unavailable(); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, why)
	}
	u, err := user.Lookup("rabbitmq")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	ports, err := proc.FreePorts(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ordergate-rabbitmq-")
	if err != nil {
		return nil, fmt.Errorf("creating the broker's directory: %w", err)
	}
	s := &Server{
		dir:      dir,
		node:     "ordergate-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(ports[0]) + "@localhost",
		port:     ports[0],
		distPort: ports[1],
		uid:      uid,
		gid:      gid,
	}
	if err := s.writeConfig(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) writeConfig() error {
	for _, d := range []string{"mnesia", "log", "home"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o750); err != nil {
			return fmt.Errorf("creating the broker's directories: %w", err)
		}
	}
	cfg := fmt.Sprintf(`[
 {rabbit, [{tcp_listeners, [{"127.0.0.1", %d}]}, {loopback_users, []}]},
 {kernel, [{inet_dist_use_interface, {127,0,0,1}}, {inet_dist_listen_min, %d}, {inet_dist_listen_max, %d}]}
].
`, s.port, s.distPort, s.distPort)
	files := map[string]string{
		"rabbitmq.config":   cfg,
		"enabled_plugins":   "[].\n",
		"rabbitmq-env.conf": "# empty: keeps /etc/rabbitmq/rabbitmq-env.conf out\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(content), 0o640); err != nil {
			return fmt.Errorf("writing the broker's %s: %w", name, err)
		}
	}
	return filepath.Walk(s.dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, s.uid, s.gid)
	})
}

// URL returns the broker's AMQP URL (guest user, default vhost).
func (s *Server) URL() string {
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", s.port)
}

// Port returns the AMQP port.
func (s *Server) Port() int { return s.port }

// LogFile returns the file the broker's stdout and stderr go to; the
// broker's own log is in the log directory next to it.
func (s *Server) LogFile() string { return filepath.Join(s.dir, "log", "stdout.log") }

// Start runs the broker (again) on its data directory and waits until it
// accepts AMQP connections. It is an error to Start a running broker.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("rabbitmq test broker: already running")
	}
	// A node killed a moment ago may still be registered with epmd; a
	// second attempt after a pause then succeeds.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = s.startOnce(ctx); err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Second)
	}
	return err
}

func (s *Server) startOnce(ctx context.Context) error {
	out, err := os.OpenFile(s.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("opening the broker's log: %w", err)
	}
	defer out.Close()
	_ = out.Chown(s.uid, s.gid)
	cmd := exec.Command(ServerScript)
	cmd.Dir = s.dir
	cmd.Stdin = nil
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"LC_ALL=C.UTF-8",
		"HOME=" + filepath.Join(s.dir, "home"),
		"RABBITMQ_NODENAME=" + s.node,
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(s.dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(s.dir, "rabbitmq.config"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(s.dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(s.dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(s.dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(s.dir, "log"),
		"RABBITMQ_PID_FILE=" + filepath.Join(s.dir, "rabbitmq.pid"),
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(s.port),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(s.distPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:    true,
		Credential: &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid)},
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting rabbitmq-server: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done
	if err := s.waitReady(ctx, done); err != nil {
		s.killLocked()
		return fmt.Errorf("rabbitmq test broker %s: %w; log %s: %s", s.node, err, s.LogFile(), s.logTail())
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for AMQP: %w", ctx.Err())
		case <-exited:
			return errors.New("rabbitmq-server exited during start-up")
		case <-tick.C:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), time.Second)
		if err != nil {
			continue
		}
		_ = c.Close()
		conn, err := amqp.DialConfig(s.URL(), amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
		if err != nil {
			continue
		}
		_ = conn.Close()
		return nil
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

// Kill kills the broker with SIGKILL and waits until its AMQP port is
// closed. Killing a stopped broker does nothing.
func (s *Server) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killLocked()
}

func (s *Server) killLocked() error {
	if s.cmd == nil {
		return nil
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
	s.cmd, s.done = nil, nil
	// The beam VM is a child of the script in the same process group; it
	// may outlive the script by a moment.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if syscall.Kill(-pgid, 0) != nil {
			if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), 200*time.Millisecond); err == nil {
				_ = c.Close()
			} else {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("rabbitmq test broker %s: still listening 30s after SIGKILL", s.node)
}

// Close kills the broker and removes its directory.
func (s *Server) Close() error {
	err := s.Kill()
	return errors.Join(err, os.RemoveAll(s.dir))
}
