// Command clusterload measures ordergate on several nodes against one
// PostgreSQL: for each node count it starts a private PostgreSQL cluster's
// fresh database (Debian's postgresql, as the tests do), N `ordergate
// serve` processes on it, posts orders to their web API from concurrent
// clients spread over the nodes, and reports orders/s from the first post
// to the last order delivered, with the nodes' CPU time per order. Then it
// measures fail-over: the node polling a folder channel is killed
// (SIGKILL) and the time until another node polls it is reported.
//
//	go build -o /tmp/ordergate ./cmd/ordergate
//	go run ./internal/tools/clusterload -bin /tmp/ordergate -nodes 1,2,3 -n 3000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/internal/proc"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

const nodeConfig = `
store: {driver: postgres, dsn_env: OG_DSN, archive: database, max_conns: 40}
cluster: {node: %s, lease_ttl: %s}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TOKEN}
log: {level: warn}
pipeline: {consumers: %d}
channels:
  - {name: shop, type: web}
  - {name: drop, type: dir, path: %s, poll: 100ms, min_age: 0s}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: %s}
`

const token = "clusterload-0123456789abcdef0123456789abcdef"

var consumers int

func main() {
	bin := flag.String("bin", "ordergate", "the ordergate `binary`")
	nodes := flag.String("nodes", "1,2,3", "node counts to measure, comma-separated")
	n := flag.Int("n", 3000, "orders per run")
	clients := flag.Int("clients", 16, "concurrent API clients")
	ttl := flag.Duration("lease-ttl", 15*time.Second, "cluster.lease_ttl for the fail-over run")
	flag.IntVar(&consumers, "consumers", 4, "pipeline.consumers of each node")
	flag.Parse()
	if err := run(*bin, *nodes, *n, *clients, *ttl); err != nil {
		fmt.Fprintln(os.Stderr, "clusterload:", err)
		os.Exit(1)
	}
}

func run(bin, nodeList string, n, clients int, ttl time.Duration) error {
	ctx := context.Background()
	pg, err := postgres.Launch(ctx)
	if err != nil {
		return err
	}
	defer pg.Close()
	for _, f := range strings.Split(nodeList, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			return fmt.Errorf("-nodes: %q is not a node count", f)
		}
		c, err := newCluster(ctx, pg, bin, k, ttl)
		if err != nil {
			return err
		}
		res, err := c.throughput(ctx, n, clients)
		c.stop()
		if err != nil {
			return err
		}
		fmt.Printf("nodes %d: %d orders in %s: %.0f orders/s; nodes' CPU %.1f ms per order; postgres CPU %.1f ms per order\n",
			k, n, res.wall.Round(time.Millisecond), float64(n)/res.wall.Seconds(), res.cpuPerOrder, res.pgCPUPerOrder)
	}
	c, err := newCluster(ctx, pg, bin, 2, ttl)
	if err != nil {
		return err
	}
	defer c.stop()
	took, err := c.failover(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("fail-over (lease_ttl %s): the folder channel polled again %s after its poller was killed (bound: ttl + ttl/3 = %s)\n",
		ttl, took.Round(time.Millisecond), ttl+ttl/3)
	return nil
}

type cluster struct {
	pg        *postgres.Server
	bin, dsn  string
	drop, out string
	dirs      []string
	ports     []int
	cmds      []*exec.Cmd
	base      string
	cleanup   []func()
	logs      []*bytes.Buffer
	key       string
	ttl       time.Duration
}

func newCluster(ctx context.Context, pg *postgres.Server, bin string, k int, ttl time.Duration) (*cluster, error) {
	base, err := os.MkdirTemp("", "clusterload")
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("load_%d", time.Now().UnixNano())
	if err := pg.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, err
	}
	c := &cluster{pg: pg, bin: bin, dsn: pg.DSN(name), base: base, drop: filepath.Join(base, "drop"), out: filepath.Join(base, "out"),
		ttl: ttl}
	c.cleanup = append(c.cleanup, func() {
		_ = pg.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		os.RemoveAll(base)
	})
	for _, d := range []string{c.drop, c.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	for i := range k {
		dir := filepath.Join(base, fmt.Sprintf("node%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		port, err := proc.FreePort()
		if err != nil {
			return nil, err
		}
		cfg := fmt.Sprintf(nodeConfig, fmt.Sprintf("gw-%d", i+1), ttl, port, consumers, c.drop, c.out)
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
			return nil, err
		}
		c.dirs, c.ports = append(c.dirs, dir), append(c.ports, port)
	}
	if _, err := c.command("migrate", "--config", "config.yaml"); err != nil {
		return nil, err
	}
	key, err := c.command("apikey", "--config", "config.yaml", "create", "C-1001", "--scopes", "orders:write")
	if err != nil {
		return nil, err
	}
	c.key = strings.TrimSpace(key)
	for i := range k {
		if err := c.start(i); err != nil {
			c.stop()
			return nil, err
		}
	}
	return c, nil
}

func (c *cluster) env() []string {
	return append(os.Environ(), "OG_DSN="+c.dsn, "OG_TOKEN="+token)
}

func (c *cluster) command(args ...string) (string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir, cmd.Env = c.dirs[0], c.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ordergate %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (c *cluster) start(i int) error {
	cmd := exec.Command(c.bin, "serve", "--config", "config.yaml")
	cmd.Dir, cmd.Env = c.dirs[i], c.env()
	log := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	for len(c.cmds) <= i {
		c.cmds, c.logs = append(c.cmds, nil), append(c.logs, nil)
	}
	c.cmds[i], c.logs[i] = cmd, log
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(c.url(i, "/readyz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("node %d not ready after 60s", i+1)
}

func (c *cluster) url(i int, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.ports[i], path)
}

func (c *cluster) stop() {
	for _, cmd := range c.cmds {
		if cmd != nil && cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
	}
	for _, f := range c.cleanup {
		f()
	}
}

type result struct {
	wall                       time.Duration
	cpuPerOrder, pgCPUPerOrder float64
}

func (c *cluster) throughput(ctx context.Context, n, clients int) (result, error) {
	cpu0 := c.nodesCPU()
	pg0 := postgresCPU()
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				po := fmt.Sprintf("LOAD-%06d", i)
				body := `{"po_number":"` + po + `","currency":"EUR","lines":[{"line_no":"1","quantity":"3","unit":"EA","unit_price":"1.50","sku":"SCR-001"}]}`
				if err := c.post((w+i)%len(c.ports), po, body); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return result{}, err
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		d, err := c.delivered(ctx)
		if err != nil {
			return result{}, err
		}
		if d >= n {
			break
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("%d of %d orders delivered after 10 minutes", d, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wall := time.Since(began)
	return result{wall: wall, cpuPerOrder: (c.nodesCPU() - cpu0).Seconds() * 1000 / float64(n),
		pgCPUPerOrder: (postgresCPU() - pg0).Seconds() * 1000 / float64(n)}, nil
}

func (c *cluster) post(node int, po, body string) error {
	for attempt := 0; attempt < 50; attempt++ {
		req, _ := http.NewRequest("POST", c.url(node, "/api/v1/orders"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", po)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted {
				return nil
			}
			if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode/100 != 5 {
				return fmt.Errorf("POST %s: %d %s", po, resp.StatusCode, b)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("POST %s: no 202 after 50 attempts", po)
}

func (c *cluster) delivered(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var d int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM orders WHERE status = 'delivered'`).Scan(&d)
	return d, err
}

// nodesCPU is the user+system CPU time the running nodes used so far.
func (c *cluster) nodesCPU() time.Duration {
	var total time.Duration
	for _, cmd := range c.cmds {
		if cmd != nil && cmd.Process != nil {
			total += procCPU(cmd.Process.Pid)
		}
	}
	return total
}

// procCPU is the user+system CPU time of pid, 0 when it is gone.
func procCPU(pid int) time.Duration {
	d, _ := proc.CPUTime(pid)
	return d
}

// postgresCPU is the CPU time of every postgres process (the private
// cluster's server and backends) so far.
func postgresCPU() time.Duration {
	ents, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			total += procCPU(pid)
		}
	}
	return total
}

// failover finds the node polling the folder channel, kills it and times
// until another node reports polling it in /healthz.
func (c *cluster) failover(ctx context.Context) (time.Duration, error) {
	poller := -1
	deadline := time.Now().Add(2 * c.ttl)
	for poller < 0 && time.Now().Before(deadline) {
		for i := range c.ports {
			if c.polls(i, "drop") {
				poller = i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if poller < 0 {
		return 0, errors.New("no node polls the folder channel")
	}
	_ = c.cmds[poller].Process.Kill()
	_ = c.cmds[poller].Wait()
	killed := time.Now()
	deadline = killed.Add(3 * c.ttl)
	for time.Now().Before(deadline) {
		for i := range c.ports {
			if i != poller && c.polls(i, "drop") {
				return time.Since(killed), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("no node took the folder channel over within %s", 3*c.ttl)
}

func (c *cluster) polls(node int, channel string) bool {
	resp, err := http.Get(c.url(node, "/healthz"))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h struct {
		Polls []struct {
			Channel string `json:"channel"`
		} `json:"polls"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil {
		return false
	}
	for _, p := range h.Polls {
		if p.Channel == channel {
			return true
		}
	}
	return false
}
