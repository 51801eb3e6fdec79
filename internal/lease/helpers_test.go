package lease_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ordergate/ordergate/internal/lease"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

func TestMain(m *testing.M) { os.Exit(postgres.RunMain(m)) }

// openDB opens a pool on dsn: one pool is one node.
func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Renewals must not wait for new connections (SCRAM, a backend
	// fork): keep enough idle ones for the leases of a node.
	db.SetMaxIdleConns(16)
	t.Cleanup(func() { db.Close() })
	return db
}

// logBuffer collects the JSON logs of the electors of a test; they are
// printed when the test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log records whose message is msg.
func (b *logBuffer) records(msg string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range bytes.Lines(b.buf.Bytes()) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func newLogs(t *testing.T) *logBuffer {
	logs := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			logs.mu.Lock()
			b := logs.buf.Bytes()
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("elector logs (tail):\n%s", b)
			logs.mu.Unlock()
		}
	})
	return logs
}

// node is one gateway process: its own pool and elector.
type node struct {
	t     *testing.T
	id    string
	db    *sql.DB
	el    *lease.PG
	proxy *proxy // nil when the node talks to PostgreSQL directly

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type nodeOpts struct {
	cfg   lease.Config
	proxy bool
	logs  io.Writer
}

func newNode(t *testing.T, dsn, id string, o nodeOpts) *node {
	t.Helper()
	n := &node{t: t, id: id}
	if o.proxy {
		n.proxy = newProxy(t, dsn)
		dsn = n.proxy.dsn(dsn)
	}
	n.db = openDB(t, dsn)
	cfg := o.cfg
	cfg.Node = id
	w := o.logs
	if w == nil {
		w = io.Discard
	}
	el, err := lease.NewPostgres(n.db, cfg, slog.New(slog.NewJSONHandler(w, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := el.Init(ctx); err != nil {
		t.Fatal(err)
	}
	n.el = el
	t.Cleanup(n.stop)
	return n
}

// lead runs Lead for every name in goroutines until stop.
func (n *node) lead(names []string, fn func(ctx context.Context, l lease.Lease) error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cancel != nil {
		n.t.Errorf("node %s leads already", n.id)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for _, name := range names {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.el.Lead(ctx, name, fn); !errors.Is(err, context.Canceled) {
				n.t.Errorf("node %s: Lead(%s) = %v, want context.Canceled", n.id, name, err)
			}
		}()
	}
}

// stop ends the node's Leads (a clean stop) and waits for them.
func (n *node) stop() {
	n.mu.Lock()
	cancel := n.cancel
	n.cancel = nil
	n.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	n.wg.Wait()
}

// run is one run of a leased function.
type run struct {
	node       string
	lease      lease.Lease
	start, end time.Time // local monotonic: fn started; fn saw its ctx end or chose to return
	cause      error     // context.Cause when the ctx ended, nil when fn returned on its own
	checked    bool      // fn's Check at its start has returned
}

// recorder records the runs of the leased functions of all nodes and
// flags two concurrent runs of one name as they happen.
type recorder struct {
	mu       sync.Mutex
	active   map[string]run
	runs     map[string][]run
	problems []string
}

func newRecorder() *recorder {
	return &recorder{active: map[string]run{}, runs: map[string][]run{}}
}

// fn returns the leased function of node: it runs until its ctx ends or,
// when hold returns a positive duration, until that has passed.
func (r *recorder) fn(nodeID string, hold func() time.Duration) func(ctx context.Context, l lease.Lease) error {
	return func(ctx context.Context, l lease.Lease) error {
		cur := run{node: nodeID, lease: l, start: time.Now()}
		r.mu.Lock()
		if other, ok := r.active[l.Name()]; ok {
			r.problems = append(r.problems, fmt.Sprintf("%s: %s (token %d) started while %s (token %d) ran",
				l.Name(), nodeID, l.Token(), other.node, other.lease.Token()))
		}
		r.active[l.Name()] = cur
		r.mu.Unlock()
		var timeout <-chan time.Time
		if hold != nil {
			if d := hold(); d > 0 {
				timeout = time.After(d)
			}
		}
		if err := l.Check(ctx); err != nil {
			// Legitimate when the acquisition's answer came late on a
			// loaded machine (the local deadline passed: fn's ctx is
			// cancelled right away), or when the database went away just
			// then (the lease cannot be confirmed: fn's ctx is cancelled
			// at the local deadline, within a TTL). Not when fn is left
			// running past that.
			select {
			case <-ctx.Done():
			case <-time.After(fast.TTL):
				r.mu.Lock()
				r.problems = append(r.problems, fmt.Sprintf("%s: %s token %d: Check right after the start failed and fn's ctx was not cancelled: %v", l.Name(), nodeID, l.Token(), err))
				r.mu.Unlock()
			}
		}
		cur.checked = true
		r.mu.Lock()
		if a, ok := r.active[l.Name()]; ok && a.lease == l {
			r.active[l.Name()] = cur
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			cur.cause = context.Cause(ctx)
		case <-timeout:
		}
		cur.end = time.Now()
		r.mu.Lock()
		if a, ok := r.active[l.Name()]; ok && a.lease == l {
			delete(r.active, l.Name())
		}
		r.runs[l.Name()] = append(r.runs[l.Name()], cur)
		r.mu.Unlock()
		return ctx.Err()
	}
}

// holder returns the run of name in progress.
func (r *recorder) holder(name string) (run, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.active[name]
	return h, ok
}

func (r *recorder) activeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}

// finished returns the finished run of name with token, if any.
func (r *recorder) finished(name string, token int64) (run, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.runs[name] {
		if x.lease.Token() == token {
			return x, true
		}
	}
	return run{}, false
}

// waitHolder waits until name is held by a node other than not.
func (r *recorder) waitHolder(t *testing.T, name, not string, timeout time.Duration) run {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		// A holder whose fn has made its first Check: a test that then
		// changes the lease behind its back does not race that Check.
		if h, ok := r.holder(name); ok && h.node != not && h.checked {
			return h
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: no holder other than %q within %v", name, not, timeout)
	return run{}
}

// waitFinished waits for the run of name with token to end.
func (r *recorder) waitFinished(t *testing.T, name string, token int64, timeout time.Duration) run {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if x, ok := r.finished(name, token); ok {
			return x
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("%s: the run with token %d did not end within %v", name, token, timeout)
	return run{}
}

// verify asserts, once every node stopped, that no two runs of a name
// overlapped (each run ended before the next one started, on the monotonic
// clock) and that tokens strictly increased in the order of the runs. It
// returns the runs per name in order.
func (r *recorder) verify(t *testing.T) map[string][]run {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Error(p)
	}
	if len(r.active) != 0 {
		t.Errorf("runs still active after every node stopped: %d", len(r.active))
	}
	out := map[string][]run{}
	for name, runs := range r.runs {
		runs = slices.Clone(runs)
		slices.SortFunc(runs, func(a, b run) int { return a.start.Compare(b.start) })
		for i := 1; i < len(runs); i++ {
			prev, cur := runs[i-1], runs[i]
			if !prev.end.Before(cur.start) {
				t.Errorf("%s: %s (token %d) started %v before %s (token %d) ended",
					name, cur.node, cur.lease.Token(), prev.end.Sub(cur.start), prev.node, prev.lease.Token())
			}
			if cur.lease.Token() <= prev.lease.Token() {
				t.Errorf("%s: token %d of %s follows token %d of %s", name, cur.lease.Token(), cur.node, prev.lease.Token(), prev.node)
			}
		}
		out[name] = runs
	}
	return out
}

// historyRow is a row of ordergate_lease_history.
type historyRow struct {
	token    int64
	node     string
	released bool
	reason   string
}

func history(t *testing.T, db *sql.DB, name string) []historyRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT token, node, released_at IS NOT NULL, coalesce(reason, '')
		FROM ordergate_lease_history WHERE name = $1 ORDER BY token`, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []historyRow
	for rows.Next() {
		var h historyRow
		if err := rows.Scan(&h.token, &h.node, &h.released, &h.reason); err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// proxy is a TCP relay between one node and PostgreSQL that can cut the
// node off (connections reset, new ones refused: a crashed or unplugged
// node as the database sees it) or hang it (nothing is relayed any more
// and new connections are never answered: a partition or a hung network).
type proxy struct {
	ln       net.Listener
	upstream string

	mu       sync.Mutex
	state    proxyState
	gate     chan struct{} // closed while traffic flows
	gateOpen bool
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

type proxyState int

const (
	proxyOpen proxyState = iota
	proxyCut
	proxyHang
)

func newProxy(t *testing.T, dsn string) *proxy {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: u.Host, gate: make(chan struct{}), gateOpen: true, conns: map[net.Conn]struct{}{}}
	close(p.gate)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// dsn returns dsn pointed at the proxy.
func (p *proxy) dsn(dsn string) string {
	u, _ := url.Parse(dsn)
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		switch {
		case p.closed || p.state == proxyCut:
			p.mu.Unlock()
			c.Close()
			continue
		case p.state == proxyHang:
			p.conns[c] = struct{}{} // never answered
			p.mu.Unlock()
			continue
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.relay(c)
	}
}

func (p *proxy) relay(c net.Conn) {
	defer p.wg.Done()
	u, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		p.forget(c)
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok {
		p.mu.Unlock()
		u.Close()
		return
	}
	p.conns[u] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.copy(u, c); done <- struct{}{} }()
	go func() { p.copy(c, u); done <- struct{}{} }()
	<-done
	p.forget(c)
	p.forget(u)
	<-done
}

func (p *proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// closeConnsLocked closes every relayed connection and lets blocked
// relays run into the closed connections.
func (p *proxy) closeConnsLocked() {
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	if !p.gateOpen {
		close(p.gate)
		p.gateOpen = true
	}
}

// Cut resets the node's connections and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyCut
	p.closeConnsLocked()
}

// Hang stops relaying: open connections stay open but carry nothing, new
// ones are accepted and never answered.
func (p *proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = proxyHang
	if p.gateOpen {
		p.gate = make(chan struct{})
		p.gateOpen = false
	}
}

// Heal drops the connections of the outage and relays again.
func (p *proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConnsLocked()
	p.state = proxyOpen
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.closeConnsLocked()
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
