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
	"github.com/ordergate/ordergate/internal/testenv/rabbitmq"
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

// clusterWebConfig is a node with the web shop channel only.
const clusterWebConfig = `
store: {driver: postgres, dsn_env: OG_DSN, archive: database, max_conns: 30}
cluster: {node: %s, lease_ttl: %s}
http: {listen: "127.0.0.1:%d", admin_token_env: OG_TEST_TOKEN}
log: {level: info}
pipeline: {duplicate_window: 720h}
channels:
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
	extraEnv []string
	dirs     []string
	ports    []int
	nodes    []*gateway
}

// newCluster prepares n nodes' directories; with srv they poll it, else
// they only take web orders.
func newCluster(t *testing.T, dsn string, srv *sshd.Server, n int, ttl time.Duration) *cluster {
	t.Helper()
	c := &cluster{t: t, dsn: dsn, ttl: ttl, outbound: t.TempDir(), srv: srv}
	ports := freePorts(t, n)
	for i, port := range ports {
		dir := t.TempDir()
		node := fmt.Sprintf("gw-%d", i+1)
		cfg := fmt.Sprintf(clusterWebConfig, node, ttl, port, c.outbound)
		if srv != nil {
			cfg = fmt.Sprintf(clusterConfig, node, ttl, port, srv.Port, srv.User, srv.ClientKeyFile, srv.KnownHostsFile, c.outbound)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		c.dirs, c.ports = append(c.dirs, dir), append(c.ports, port)
		c.nodes = append(c.nodes, nil)
	}
	if srv != nil {
		for _, d := range []string{"in", "archive", "out"} {
			srv.MkdirAll(d)
		}
	}
	return c
}

func (c *cluster) env() []string { return append([]string{"OG_DSN=" + c.dsn}, c.extraEnv...) }

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
	if out := c.run("migrate", "--config", "config.yaml"); !strings.Contains(out, "applied 0001_initial\n") {
		t.Errorf("ordergate migrate on an empty database printed %q, want each migration applied", out)
	}
	if out := c.run("migrate", "--config", "config.yaml"); out != "schema up to date\n" {
		t.Errorf("ordergate migrate again printed %q, want: schema up to date", out)
	}
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

// TestClusterPostgresCrash: two nodes take 5,000 web orders while
// PostgreSQL crashes (pg_ctl stop -m immediate) and comes back: every
// order a node acknowledged (202) is stored and delivered once, and the
// same processes carry on without a restart.
func TestClusterPostgresCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("the postgres crash test takes a minute")
	}
	pg := postgres.Start(t)
	dsn := pg.NewDatabase(t)
	c := newCluster(t, dsn, nil, 2, 2*time.Second)
	key := strings.TrimSpace(c.run("apikey", "--config", "config.yaml", "create", "C-1001", "--scopes", "orders:write,orders:read"))
	for i := range c.nodes {
		c.start(i)
	}
	const n, posters = 5000, 8
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var mu sync.Mutex
	acked := map[string]string{} // order id -> PO
	var accepted atomic.Int64
	var postErr atomic.Value
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += posters {
				po := fmt.Sprintf("CRASH-%05d", i)
				id, err := c.postUntilAccepted(ctx, key, "idem-"+po, webOrder(po), i)
				if err != nil {
					postErr.Store(err)
					return
				}
				mu.Lock()
				acked[id] = po
				mu.Unlock()
				accepted.Add(1)
			}
		}()
	}
	waitFor(t, 5*time.Minute, "1,500 orders acknowledged", func() bool { return accepted.Load() >= 1500 })
	if err := pg.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("postgres crashed with %d orders acknowledged", accepted.Load())
	time.Sleep(2 * time.Second)
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err, _ := postErr.Load().(error); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Minute, "every order delivered", func() bool { return countDB(t, dsn).delivered >= n })
	for i, g := range c.nodes {
		select {
		case err := <-g.done:
			g.done <- err
			t.Errorf("node %d exited (%v): it should have reconnected\n%s", i+1, err, g.log)
		default:
		}
	}
	got := countDB(t, dsn)
	if got.orders != n || got.distinctPOs != n || got.delivered != n || got.deliveries != n || got.dupDeliveries != 0 {
		t.Errorf("orders %d (distinct POs %d), delivered %d, deliveries %d (%d doubled); want %d each, none doubled",
			got.orders, got.distinctPOs, got.delivered, got.deliveries, got.dupDeliveries, n)
	}
	stored := storedOrders(t, dsn)
	missing := 0
	for id, po := range acked {
		if stored[id] != po {
			missing++
		}
	}
	if len(acked) != n || missing != 0 {
		t.Errorf("%d orders acknowledged, %d of them not stored as acknowledged; want %d, 0", len(acked), missing, n)
	}
}

// storedOrders maps each stored order's id to its PO number.
func storedOrders(t *testing.T, dsn string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, po_number FROM orders`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var id, po string
		if err := rows.Scan(&id, &po); err != nil {
			t.Fatal(err)
		}
		out[id] = po
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClusterThroughBroker: two nodes on postgres with the stage messages
// carried by RabbitMQ (pipeline.broker): 400 web orders each stored and
// delivered once, every stage message consumed from the broker (the inbox
// holds one row per message and stage).
func TestClusterThroughBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts RabbitMQ and two gateways")
	}
	mq := rabbitmq.Start(t)
	dsn := postgres.Shared(t).NewDatabase(t)
	c := newCluster(t, dsn, nil, 2, 2*time.Second)
	for _, dir := range c.dirs {
		p := filepath.Join(dir, "config.yaml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.Replace(b, []byte("pipeline: {duplicate_window: 720h}"),
			[]byte("pipeline: {duplicate_window: 720h, broker: {type: rabbitmq, url_env: OG_BROKER_URL, prefix: e2e.}}"), 1)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.extraEnv = []string{"OG_BROKER_URL=" + mq.URL()}
	key := strings.TrimSpace(c.run("apikey", "--config", "config.yaml", "create", "C-1001", "--scopes", "orders:write,orders:read"))
	for i := range c.nodes {
		c.start(i)
	}
	const n = 400
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += 4 {
				po := fmt.Sprintf("MQ-%04d", i)
				if _, err := c.postUntilAccepted(ctx, key, "idem-"+po, webOrder(po), i); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, 2*time.Minute, "every order delivered", func() bool { return countDB(t, dsn).delivered >= n })
	got := countDB(t, dsn)
	if got.orders != n || got.distinctPOs != n || got.delivered != n || got.deliveries != n || got.dupDeliveries != 0 {
		t.Errorf("orders %d (distinct POs %d), delivered %d, deliveries %d (%d doubled); want %d each",
			got.orders, got.distinctPOs, got.delivered, got.deliveries, got.dupDeliveries, n)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT consumer_group, count(*) FROM brokerq_inbox GROUP BY consumer_group`)
	if err != nil {
		t.Fatal(err)
	}
	consumed := map[string]int{}
	for rows.Next() {
		var g string
		var k int
		if err := rows.Scan(&g, &k); err != nil {
			t.Fatal(err)
		}
		consumed[g] = k
	}
	t.Logf("stage messages consumed from RabbitMQ per stage: %v", consumed)
	// A web order enters as order.parsed (the API parsed it); normalize
	// took each one from the broker (and decides and routes it inline).
	if consumed["normalize"] != n {
		t.Errorf("normalize consumed %d messages from the broker, want %d", consumed["normalize"], n)
	}
}
