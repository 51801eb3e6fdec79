package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
	"github.com/ordergate/ordergate/internal/testenv/sshd"
)

// clusterConfig is one node of a cluster on one postgres database: the
// raw archive in the database, a partner's OpenSSH server polled under a
// lease, a web shop channel on every node, one shared backend folder.
const clusterConfig = `
store: {driver: postgres, dsn_env: OG_DSN, archive: database, max_conns: 30}
cluster: {node: %s, lease_ttl: %s}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
pipeline: {duplicate_window: 720h, poll_interval: 20ms}
partners:
  - id: baumarkt-nord
    customer_id: C-1001
    match: {x12: [{qualifier: ZZ, id: BAUMARKTNORD}]}
    acks: {functional: "997", via: nord-sftp}
channels:
  - name: nord-sftp
    type: sftp
    host: 127.0.0.1
    port: %d
    user: %s
    private_key_file: %s
    known_hosts: %s
    inbox: /data/in
    archive: /data/archive
    outbox: /data/out
    poll: 50ms
    min_age: 10ms
    max_files_per_poll: 500
  - {name: shop, type: web}
routes:
  - {name: default, to: [files]}
backends:
  - {name: files, type: filedrop, dir: %s}
`

// cluster is N gateway processes on one postgres database.
type cluster struct {
	t        *testing.T
	dsn      string
	ttl      time.Duration
	outbound string
	srv      *sshd.Server
	dirs     []string
	ports    []int
	nodes    []*gateway
}

func newCluster(t *testing.T, dsn string, srv *sshd.Server, n int, ttl time.Duration) *cluster {
	t.Helper()
	c := &cluster{t: t, dsn: dsn, ttl: ttl, outbound: t.TempDir(), srv: srv}
	for i := range n {
		dir, port := t.TempDir(), freePort(t)
		cfg := fmt.Sprintf(clusterConfig, fmt.Sprintf("gw-%d", i+1), ttl, port, srv.Port, srv.User, srv.ClientKeyFile, srv.KnownHostsFile, c.outbound)
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		c.dirs, c.ports = append(c.dirs, dir), append(c.ports, port)
		c.nodes = append(c.nodes, nil)
	}
	for _, d := range []string{"in", "archive", "out"} {
		srv.MkdirAll(d)
	}
	return c
}

func (c *cluster) env() []string { return []string{"OG_DSN=" + c.dsn} }

// start starts node i (again).
func (c *cluster) start(i int) *gateway {
	c.nodes[i] = start(c.t, c.dirs[i], c.ports[i], c.env()...)
	return c.nodes[i]
}

// run runs an ordergate command against the cluster's database.
func (c *cluster) run(args ...string) string {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.dirs[0]
	cmd.Env = append(os.Environ(), append([]string{"OG_TEST_TOKEN=" + testToken}, c.env()...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("ordergate %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// health is a node's /healthz.
type health struct {
	Node  string `json:"node"`
	Polls []struct {
		Channel string `json:"channel"`
		Token   int64  `json:"lease_token"`
	} `json:"polls"`
}

func (g *gateway) health() (health, error) {
	var h health
	resp, err := http.Get(g.url("/healthz"))
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// pollers lists the live nodes that report polling channel.
func (c *cluster) pollers(channel string) []int {
	var out []int
	for i, g := range c.nodes {
		if g == nil || g.cmd.ProcessState != nil {
			continue
		}
		h, err := g.health()
		if err != nil {
			continue
		}
		for _, p := range h.Polls {
			if p.Channel == channel {
				out = append(out, i)
			}
		}
	}
	return out
}

// pollInterval is one node's stretch of polling a channel, from its log.
type pollInterval struct {
	node       string
	token      string
	start, end time.Time
}

// pollLog reads the "polling started" / "polling stopped" lines of every
// node's log for channel. A stretch with no stop ends at ends[node] (the
// moment the test killed it) or now.
func (c *cluster) pollLog(logs map[string]string, channel string, ends map[string]time.Time) []pollInterval {
	c.t.Helper()
	var out []pollInterval
	for node, text := range logs {
		open := map[string]int{}
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, "channel="+channel+" ") {
				continue
			}
			started := strings.Contains(line, `msg="polling started"`)
			stopped := strings.Contains(line, `msg="polling stopped"`)
			if !started && !stopped {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, field(line, "time"))
			if err != nil {
				c.t.Fatalf("node %s: poll log line without a time: %s", node, line)
			}
			tok := field(line, "lease_token")
			if started {
				open[tok] = len(out)
				out = append(out, pollInterval{node: node, token: tok, start: at})
			} else if i, ok := open[tok]; ok {
				out[i].end = at
				delete(open, tok)
			}
		}
		for _, i := range open {
			if end, ok := ends[node]; ok {
				out[i].end = end
			} else {
				out[i].end = time.Now()
			}
		}
	}
	slices.SortFunc(out, func(a, b pollInterval) int { return a.start.Compare(b.start) })
	return out
}

// field returns the value of key=value in a text log line.
func field(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		if strings.HasPrefix(line, key+"=") {
			i = -1
		} else {
			return ""
		}
	}
	v := line[i+len(key)+2:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return strings.Trim(v, `"`)
}

// postUntilAccepted posts an order to the live nodes, the next node on a
// failure, until one answers 202 (the same Idempotency-Key each time).
func (c *cluster) postUntilAccepted(ctx context.Context, key, idem, body string, first int) (string, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		g := c.nodes[(first+attempt)%len(c.nodes)]
		if g == nil {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", g.url("/api/v1/orders"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", idem)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusAccepted {
				var a struct {
					OrderID string `json:"order_id"`
				}
				if err := json.Unmarshal(b, &a); err != nil || a.OrderID == "" {
					return "", fmt.Errorf("202 without an order id: %s", b)
				}
				return a.OrderID, nil
			}
			if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
				return "", fmt.Errorf("POST %s: %d %s", idem, resp.StatusCode, b)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func webOrder(po string) string {
	return `{"po_number":"` + po + `","currency":"EUR","lines":[{"line_no":"1","quantity":"3","unit":"EA","unit_price":"1.50","sku":"SCR-001"}]}`
}

// dbCounts reads the orders and deliveries from the database.
type dbCounts struct {
	orders, distinctPOs, delivered, deliveries, dupDeliveries int
}

func countDB(t *testing.T, dsn string) dbCounts {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var c dbCounts
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT po_number), count(*) FILTER (WHERE status = 'delivered') FROM orders`).
		Scan(&c.orders, &c.distinctPOs, &c.delivered); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) - count(DISTINCT (order_id, backend, order_revision)) FROM deliveries`).
		Scan(&c.deliveries, &c.dupDeliveries); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClusterThreeNodes: three gateway processes on one postgres take
// 10,000 orders, 7,000 files from a partner's OpenSSH server and 3,000
// web shop posts spread over the nodes. At a seeded moment the node that
// polls the SFTP channel is killed (SIGKILL) and another node is
// restarted (SIGTERM, start). Every order is stored and delivered once,
// every file archived on the server; the poll log shows one poller at any
// time and the fail-over within the lease bound.
func TestClusterThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("the three-node cluster test takes a minute or more")
	}
	pg := postgres.Shared(t)
	dsn := pg.NewDatabase(t)
	srv := sshd.Start(t)
	const ttl = 2 * time.Second
	c := newCluster(t, dsn, srv, 3, ttl)
	const nFiles, nWeb = 7000, 3000
	for i := range nFiles {
		srv.WriteFile(fmt.Sprintf("in/po-%05d.x12", i), fixtures.X12850(i+1, fmt.Sprintf("PO-%05d", i), 2))
	}
	c.run("migrate", "--config", "config.yaml")
	key := strings.TrimSpace(c.run("apikey", "--config", "config.yaml", "create", "C-1001", "--scopes", "orders:write,orders:read"))
	for i := range c.nodes {
		c.start(i)
	}

	seed := uint64(20261127)
	rng := rand.New(rand.NewPCG(seed, seed))
	killAt := nFiles/5 + rng.IntN(nFiles/3) // files archived when the poller dies
	t.Logf("seed %d: the SFTP poller is killed once %d files are archived", seed, killAt)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var posted atomic.Int64
	var postErr atomic.Value
	var wg sync.WaitGroup
	const posters = 6
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < nWeb; i += posters {
				po := fmt.Sprintf("WEB-%05d", i)
				if _, err := c.postUntilAccepted(ctx, key, "idem-"+po, webOrder(po), i); err != nil {
					postErr.Store(err)
					return
				}
				posted.Add(1)
			}
		}()
	}

	waitFor(t, 5*time.Minute, "the kill moment", func() bool {
		return len(remoteFiles(t, srv, "archive")) >= killAt
	})
	pollers := c.pollers("nord-sftp")
	if len(pollers) != 1 {
		t.Fatalf("%d nodes poll nord-sftp before the kill, want 1: %v", len(pollers), pollers)
	}
	victim := pollers[0]
	killedNode := fmt.Sprintf("gw-%d", victim+1)
	c.nodes[victim].kill()
	killedAt := time.Now()
	killedLog := c.nodes[victim].log.String()
	c.nodes[victim] = nil
	t.Logf("killed %s (the SFTP poller) with %d files archived, %d web orders posted", killedNode, len(remoteFiles(t, srv, "archive")), posted.Load())

	// Another node is restarted cleanly meanwhile.
	other := (victim + 1) % 3
	if err := c.nodes[other].stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	stoppedLog := c.nodes[other].log.String()
	c.start(other)

	wg.Wait()
	if err, _ := postErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Minute, "every file archived", func() bool {
		return len(remoteFiles(t, srv, "archive")) == nFiles && len(remoteFiles(t, srv, "in")) == 0
	})
	waitFor(t, 5*time.Minute, "every order delivered", func() bool {
		return countDB(t, dsn).delivered >= nFiles+nWeb
	})
	got := countDB(t, dsn)
	if got.orders != nFiles+nWeb || got.distinctPOs != nFiles+nWeb || got.delivered != nFiles+nWeb {
		t.Errorf("orders %d, distinct POs %d, delivered %d; want %d of each", got.orders, got.distinctPOs, got.delivered, nFiles+nWeb)
	}
	if got.deliveries != nFiles+nWeb || got.dupDeliveries != 0 {
		t.Errorf("%d deliveries, %d doubled; want %d, none doubled", got.deliveries, got.dupDeliveries, nFiles+nWeb)
	}
	if n := len(files(t, c.outbound)); n != nFiles+nWeb {
		t.Errorf("%d files in the backend folder, want %d", n, nFiles+nWeb)
	}

	// The poll log: one poller at any time, fail-over within the bound.
	logs := map[string]string{killedNode: killedLog}
	for i, g := range c.nodes {
		name := fmt.Sprintf("gw-%d", i+1)
		if i == other {
			logs[name] = stoppedLog + g.log.String()
			continue
		}
		if g != nil {
			logs[name] = g.log.String()
		}
	}
	iv := c.pollLog(logs, "nord-sftp", map[string]time.Time{killedNode: killedAt})
	if len(iv) < 2 {
		t.Fatalf("poll log has %d stretches, want the killed poller's and its successor's: %+v", len(iv), iv)
	}
	for i := 1; i < len(iv); i++ {
		if iv[i].start.Before(iv[i-1].end) {
			t.Errorf("two pollers at once: %s (token %s) from %s, while %s (token %s) polled until %s",
				iv[i].node, iv[i].token, iv[i].start.Format(time.RFC3339Nano), iv[i-1].node, iv[i-1].token, iv[i-1].end.Format(time.RFC3339Nano))
		}
	}
	bound := ttl + ttl/3 + time.Second // lease expiry + campaign interval + start-up slack
	var takeover time.Duration
	for _, s := range iv {
		if s.node != killedNode && s.start.After(killedAt) {
			takeover = s.start.Sub(killedAt)
			break
		}
	}
	t.Logf("fail-over: %s polls again %s after the kill (bound %s)", "another node", takeover.Round(time.Millisecond), bound)
	if takeover == 0 || takeover > bound {
		t.Errorf("fail-over took %s, want a new poller within %s", takeover, bound)
	}
	if p := c.pollers("nord-sftp"); len(p) != 1 {
		t.Errorf("%d nodes report polling nord-sftp at the end, want 1", len(p))
	}
	waitFor(t, 2*time.Minute, "every 997 uploaded", func() bool {
		return len(remoteFiles(t, srv, "out")) == nFiles
	})
}
