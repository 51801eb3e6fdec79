package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/proc"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

// binary is the ordergate command built once for the end-to-end tests,
// which drive it as a user would: as a separate process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ordergate-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ordergate")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building ordergate:", err)
		os.Exit(1)
	}
	code := postgres.RunMain(m) // runs the tests, then stops the shared postgres
	os.RemoveAll(dir)
	os.Exit(code)
}

// gatewayConfig is the config the end-to-end tests run: the inbox channel
// of the example, one partner for the fixtures' senders, a filedrop
// backend.
// backendTestHead starts the configs of the delivery backends' tests
// (webhook, NATS, RabbitMQ, reroute): the store, the API on port %d, the
// demo partner and a folder inbox polled every 10 ms; each test adds its
// routes and backends.
const backendTestHead = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match:
      x12: [{qualifier: ZZ, id: BAUMARKTNORD}]
      edifact: [{qualifier: "14", id: "4012345000009"}]
    acks: {functional: "997", contrl: always}
channels:
  - {name: inbox, type: dir, path: ./inbox, done_dir: ./inbox/done, error_dir: ./inbox/error, outbox: ./outbox, poll: 10ms, min_age: 0s}
`

const gatewayConfig = `
store: {dsn: ./data/ordergate.db, archive_dir: ./data/archive}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: %s}
pipeline: {duplicate_window: 720h}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match:
      x12: [{qualifier: ZZ, id: BAUMARKTNORD}]
      edifact: [{qualifier: "14", id: "4012345000009"}]
    acks: {functional: "997", contrl: always}
    duplicates: reject
channels:
  - {name: inbox, type: dir, path: ./inbox, done_dir: ./inbox/done, error_dir: ./inbox/error, outbox: ./outbox, poll: 10ms, min_age: 0s}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: ./outbound}
`

const testToken = "e2e-token-0123456789abcdef0123456789"

type gateway struct {
	t    testing.TB
	dir  string
	port int
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t testing.TB) int {
	t.Helper()
	return freePorts(t, 1)[0]
}

// freePorts returns n distinct free ports, for servers that start later.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports, err := proc.FreePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

// newGatewayDir prepares a working directory with the test config.
func newGatewayDir(t *testing.T) (dir string, port int) {
	t.Helper()
	dir = t.TempDir()
	port = freePort(t)
	cfg := fmt.Sprintf(gatewayConfig, port, "info")
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"inbox", "outbox", "outbound"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, port
}

// start runs `ordergate serve` in dir and waits until it is ready.
func start(t testing.TB, dir string, port int, env ...string) *gateway {
	t.Helper()
	g := &gateway{t: t, dir: dir, port: port, log: &lockedBuffer{}, done: make(chan error, 1)}
	g.cmd = exec.Command(binary, "serve", "--config", "config.yaml")
	g.cmd.Dir = dir
	g.cmd.Env = append(os.Environ(), append([]string{"OG_TEST_TOKEN=" + testToken}, env...)...)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.done <- g.cmd.Wait() }()
	t.Cleanup(func() { g.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(g.url("/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return g
			}
		}
		select {
		case err := <-g.done:
			g.done <- err
			t.Fatalf("gateway exited before it was ready: %v\n%s", err, g.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready after 30s\n%s", g.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *gateway) url(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", g.port, path) }

// kill ends the process with SIGKILL (no chance to clean up).
func (g *gateway) kill() {
	if g.cmd.ProcessState == nil {
		_ = g.cmd.Process.Kill()
		<-g.done
		g.done <- nil
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (g *gateway) stop(timeout time.Duration) error {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-g.done:
		g.done <- err
		return err
	case <-time.After(timeout):
		return fmt.Errorf("gateway did not stop within %s", timeout)
	}
}

func (g *gateway) getJSON(path string, v any) int {
	g.t.Helper()
	req, _ := http.NewRequest("GET", g.url(path), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			g.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

type apiOrder struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	PONumber   string `json:"po_number"`
	DocumentID string `json:"document_id"`
}

// orders lists every order through the API's cursor pagination.
func (g *gateway) orders(query string) []apiOrder {
	var all []apiOrder
	cursor := ""
	for {
		var page struct {
			Orders []apiOrder `json:"orders"`
			Next   string     `json:"next_cursor"`
		}
		path := "/api/v1/orders?limit=1000&" + query
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code := g.getJSON(path, &page); code != 200 {
			g.t.Fatalf("GET %s: status %d", path, code)
		}
		all = append(all, page.Orders...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

// drop writes a file into the inbox the way a careful sender does: under
// a temporary name, then renamed.
func drop(t *testing.T, dir, name string, body []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "inbox", name+".part")
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "inbox", name)); err != nil {
		t.Fatal(err)
	}
}

// files lists the regular files of a folder, without .part leftovers.
func files(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".part") {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var _ = context.Background
