package lease_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/lease"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

// Short leases keep the tests fast: TTL 2 s, Renew TTL/3, Retry 250 ms
// (shorter TTLs make the timing assertions fragile on a loaded machine).
var fast = lease.Config{TTL: 2 * time.Second, Retry: 250 * time.Millisecond}

const (
	margin = 2 * time.Second / 4 // TTL/4 of fast
	// slack is the scheduling delay allowed on top of a bound.
	slack = 500 * time.Millisecond
)

var names = []string{"sftp:acme", "sftp:globex", "imap:initech", "imap:umbrella", "sftp:hooli"}

func TestConfigDefaultsAndValidation(t *testing.T) {
	db := openDB(t, postgres.Shared(t).NewDatabase(t))
	el, err := lease.NewPostgres(db, lease.Config{Node: "n1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := el.Config()
	if got.TTL != 15*time.Second || got.Renew != 5*time.Second || got.Retry != 5*time.Second {
		t.Errorf("defaults: %+v, want TTL 15s, Renew 5s, Retry 5s", got)
	}
	if el.Node() != "n1" {
		t.Errorf("Node() = %q", el.Node())
	}
	for _, cfg := range []lease.Config{
		{},
		{Node: "n", TTL: -time.Second},
		{Node: "n", TTL: time.Millisecond},
		{Node: "n", TTL: time.Second, Renew: 600 * time.Millisecond},
	} {
		if _, err := lease.NewPostgres(db, cfg, nil); !errors.Is(err, lease.ErrConfig) {
			t.Errorf("NewPostgres(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	if _, err := lease.NewPostgres(nil, lease.Config{Node: "n"}, nil); !errors.Is(err, lease.ErrConfig) {
		t.Errorf("NewPostgres(nil db) = %v, want ErrConfig", err)
	}
	if err := el.Lead(context.Background(), "", nil); !errors.Is(err, lease.ErrConfig) {
		t.Errorf("Lead with an empty name = %v, want ErrConfig", err)
	}
}

// TestInitConcurrently: nodes starting at once all create the tables
// without error, and Init is idempotent.
func TestInitConcurrently(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		el, err := lease.NewPostgres(openDB(t, dsn), lease.Config{Node: fmt.Sprintf("n%d", i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { errs <- el.Init(ctx) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Init: %v", err)
		}
	}
	db := openDB(t, dsn)
	el, _ := lease.NewPostgres(db, lease.Config{Node: "again"}, nil)
	if err := el.Init(ctx); err != nil {
		t.Errorf("second Init: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE tablename IN ('ordergate_leases', 'ordergate_lease_history')`).Scan(&n); err != nil || n != 2 {
		t.Errorf("lease tables: %d, %v; want 2", n, err)
	}
}

// TestOneHolderPerName: three nodes campaign for the same five names for a
// few seconds while their functions stop at random, nodes stop cleanly and
// come back, and one node is cut off from the database for a while: each
// name is led by at most one node at any time, tokens strictly increase,
// and the history holds every acquisition, closed.
func TestOneHolderPerName(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	logs := newLogs(t)
	nodes := []*node{
		newNode(t, dsn, "node-1", nodeOpts{cfg: fast, logs: logs}),
		newNode(t, dsn, "node-2", nodeOpts{cfg: fast, logs: logs}),
		newNode(t, dsn, "node-3", nodeOpts{cfg: fast, logs: logs, proxy: true}),
	}
	rec := newRecorder()
	hold := func() time.Duration {
		if rand.N(10) < 2 {
			return time.Second + rand.N(time.Second) // likely ended by a stop or a cut
		}
		return 50*time.Millisecond + rand.N(650*time.Millisecond)
	}
	for _, n := range nodes {
		n.lead(names, rec.fn(n.id, hold))
	}

	const duration = 5 * time.Second
	begin := time.Now()
	cut, healed := false, false
	for time.Since(begin) < duration {
		time.Sleep(300*time.Millisecond + rand.N(400*time.Millisecond))
		switch el := time.Since(begin); {
		case !cut && el > 1500*time.Millisecond:
			nodes[2].proxy.Cut()
			cut = true
		case cut && !healed && el > 3*time.Second:
			nodes[2].proxy.Heal()
			healed = true
		default:
			n := nodes[rand.N(2)]
			n.stop()
			time.Sleep(rand.N(300 * time.Millisecond))
			n.lead(names, rec.fn(n.id, hold))
		}
		for _, n := range nodes {
			for _, h := range n.el.Held() {
				if !slices.Contains(names, h.Name) || h.Token < 1 || h.Since.IsZero() {
					t.Errorf("%s: Held() has %+v", n.id, h)
				}
			}
		}
	}
	for _, n := range nodes {
		n.stop()
	}
	for _, n := range nodes {
		if h := n.el.Held(); len(h) != 0 {
			t.Errorf("%s holds %v after stopping", n.id, h)
		}
	}

	runs := rec.verify(t)
	leaders := map[string]bool{}
	total := 0
	for _, name := range names {
		if len(runs[name]) < 2 {
			t.Errorf("%s: only %d runs in %v", name, len(runs[name]), duration)
		}
		total += len(runs[name])
		hist := history(t, nodes[0].db, name)
		tokens := map[int64]historyRow{}
		for i, h := range hist {
			if h.token != int64(i+1) {
				t.Errorf("%s: history token %d at position %d: tokens are not 1, 2, 3, …", name, h.token, i)
			}
			// A taken-over lease is closed by the next acquisition, the
			// last one by the clean stop of its node.
			if !h.released || h.reason == "" {
				t.Errorf("%s: history row of token %d (%s) not closed after every node stopped: %+v", name, h.token, h.node, h)
			}
			tokens[h.token] = h
		}
		for _, r := range runs[name] {
			leaders[r.node] = true
			if h, ok := tokens[r.lease.Token()]; !ok || h.node != r.node {
				t.Errorf("%s: run of %s with token %d has history %+v", name, r.node, r.lease.Token(), h)
			}
		}
	}
	if len(leaders) < 2 {
		t.Errorf("leaders: %v, want several nodes", leaders)
	}
	t.Logf("%d runs of 5 names on 3 nodes in %v, no overlap", total, duration)
}

// TestFailover: the holder is killed (cut off: connections reset, no new
// ones; or hung: nothing answers) and another node takes over within
// TTL + Retry; the killed holder's function was cancelled, with ErrLost,
// before the new holder's function started; its lease's Check fails.
func TestFailover(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	logs := newLogs(t)
	cfg := fast
	nodes := map[string]*node{}
	for _, id := range []string{"node-1", "node-2", "node-3"} {
		nodes[id] = newNode(t, dsn, id, nodeOpts{cfg: cfg, logs: logs, proxy: true})
	}
	rec := newRecorder()
	const name = "sftp:acme"
	for _, n := range nodes {
		n.lead([]string{name}, rec.fn(n.id, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var times []time.Duration
	for _, mode := range []string{"cut", "hang", "cut"} {
		old := rec.waitHolder(t, name, "", 5*time.Second)
		// Kill at a random point of the renewal cycle.
		time.Sleep(rand.N(cfg.TTL / 3))
		killed := nodes[old.node]
		killAt := time.Now()
		if mode == "cut" {
			killed.proxy.Cut()
		} else {
			killed.proxy.Hang()
		}
		next := rec.waitHolder(t, name, old.node, cfg.TTL+cfg.Retry+2*time.Second)
		failover := next.start.Sub(killAt)
		times = append(times, failover)
		prev := rec.waitFinished(t, name, old.lease.Token(), time.Second)
		t.Logf("%s %s: fail-over to %s in %v (holder's fn cancelled after %v, %v before the new one started)",
			mode, old.node, next.node, failover.Round(time.Millisecond), prev.end.Sub(killAt).Round(time.Millisecond),
			next.start.Sub(prev.end).Round(time.Millisecond))
		if !prev.end.Before(next.start) {
			t.Errorf("%s: the old holder's fn ended %v after the new one started", mode, prev.end.Sub(next.start))
		}
		if !errors.Is(prev.cause, lease.ErrLost) {
			t.Errorf("%s: the old holder's ctx cause = %v, want ErrLost", mode, prev.cause)
		}
		if stopped := prev.end.Sub(killAt); stopped > cfg.TTL-margin+slack {
			t.Errorf("%s: the old holder stopped %v after the kill, want at most TTL - margin (%v)", mode, stopped, cfg.TTL-margin)
		}
		if failover > cfg.TTL+cfg.Retry+slack {
			t.Errorf("%s: fail-over took %v, want at most TTL + Retry (%v)", mode, failover, cfg.TTL+cfg.Retry)
		}
		if next.lease.Token() <= old.lease.Token() {
			t.Errorf("%s: new token %d not above the old %d", mode, next.lease.Token(), old.lease.Token())
		}
		killed.proxy.Heal()
		if err := old.lease.Check(ctx); !errors.Is(err, lease.ErrLost) {
			t.Errorf("%s: Check of the old lease after the takeover = %v, want ErrLost", mode, err)
		}
	}
	for _, n := range nodes {
		n.stop()
	}
	rec.verify(t)
	slices.Sort(times)
	t.Logf("fail-over (kill → new holder's fn starts) with TTL %v, Renew %v, Retry %v: min %v, max %v over %d kills",
		cfg.TTL, cfg.TTL/3, cfg.Retry, times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), len(times))
	if len(logs.records("lease lost")) == 0 {
		t.Error(`no "lease lost" log`)
	}
}

// TestCheckAfterTakeover: Check confirms the lease while it is held; once
// the lease expired and another node took it, Check of the old lease fails
// with ErrLost, which cancels the old holder's ctx at once, and the new
// token is higher.
func TestCheckAfterTakeover(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	logs := newLogs(t)
	// A long Renew so that the old holder does not learn of the takeover
	// from a refused renewal before Check asks the database.
	a := newNode(t, dsn, "node-a", nodeOpts{cfg: lease.Config{TTL: 4 * time.Second, Renew: 2 * time.Second, Retry: 50 * time.Millisecond}, logs: logs})
	b := newNode(t, dsn, "node-b", nodeOpts{cfg: lease.Config{TTL: 4 * time.Second, Retry: 50 * time.Millisecond}, logs: logs})
	rec := newRecorder()
	const name = "imap:initech"
	a.lead([]string{name}, rec.fn(a.id, nil))
	old := rec.waitHolder(t, name, "", 5*time.Second)
	b.lead([]string{name}, rec.fn(b.id, nil))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := old.lease.Check(ctx); err != nil {
		t.Fatalf("Check while held: %v", err)
	}
	// The lease expires (as if the holder's renewals had stopped reaching
	// the database): node-b takes it at its next attempt.
	if _, err := a.db.ExecContext(ctx, `UPDATE ordergate_leases SET expires_at = clock_timestamp() WHERE name = $1`, name); err != nil {
		t.Fatal(err)
	}
	next := rec.waitHolder(t, name, a.id, 2*time.Second)
	err := old.lease.Check(ctx)
	if !errors.Is(err, lease.ErrLost) {
		t.Fatalf("Check after the takeover = %v, want ErrLost", err)
	}
	t.Logf("Check after the takeover: %v", err)
	if next.lease.Token() != old.lease.Token()+1 {
		t.Errorf("tokens %d then %d, want consecutive", old.lease.Token(), next.lease.Token())
	}
	// Check's answer ends the old lease at once, long before node-a's
	// next renewal would be refused.
	prev := rec.waitFinished(t, name, old.lease.Token(), 500*time.Millisecond)
	if !errors.Is(prev.cause, lease.ErrLost) {
		t.Errorf("old holder's ctx cause = %v, want ErrLost", prev.cause)
	}
	t.Logf("old holder's ctx: %v", prev.cause)
	if len(a.el.Held()) != 0 {
		t.Errorf("node-a still lists %v", a.el.Held())
	}
	if err := next.lease.Check(ctx); err != nil {
		t.Errorf("Check of the new holder: %v", err)
	}
	a.stop()
	b.stop()
	// No rec.verify: the expiry forced behind node-a's back is the very
	// overlap that Check exists to catch.
	hist := history(t, a.db, name)
	if len(hist) != 2 || hist[0].reason != "expired" || hist[1].reason != "stopped" {
		t.Errorf("history %+v, want token 1 expired, token 2 stopped", hist)
	}
}

// TestCleanStopHandsOver: a holder whose Lead ends releases the lease; the
// next node takes over at its next attempt (within Retry), without waiting
// for the TTL. Logs and history record it.
func TestCleanStopHandsOver(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	logs := newLogs(t)
	cfg := lease.Config{TTL: 3 * time.Second, Retry: 200 * time.Millisecond}
	a := newNode(t, dsn, "node-a", nodeOpts{cfg: cfg, logs: logs})
	b := newNode(t, dsn, "node-b", nodeOpts{cfg: cfg, logs: logs})
	rec := newRecorder()
	const name = "sftp:globex"
	a.lead([]string{name}, rec.fn(a.id, nil))
	old := rec.waitHolder(t, name, "", 5*time.Second)
	b.lead([]string{name}, rec.fn(b.id, nil))
	time.Sleep(300 * time.Millisecond) // node-b campaigns in vain meanwhile

	if h := a.el.Held(); len(h) != 1 || h[0].Name != name || h[0].Token != old.lease.Token() || h[0].Since.IsZero() {
		t.Errorf("Held() = %+v while holding %s token %d", h, name, old.lease.Token())
	}
	stopAt := time.Now()
	a.stop()
	next := rec.waitHolder(t, name, a.id, cfg.TTL)
	handover := next.start.Sub(stopAt)
	t.Logf("clean stop → new holder's fn starts: %v (Retry %v, TTL %v)", handover.Round(time.Millisecond), cfg.Retry, cfg.TTL)
	if handover > cfg.Retry+slack {
		t.Errorf("hand-over after a clean stop took %v, want within Retry (%v)", handover, cfg.Retry)
	}
	if len(a.el.Held()) != 0 {
		t.Errorf("node-a still holds %v", a.el.Held())
	}
	b.stop()
	rec.verify(t)

	hist := history(t, a.db, name)
	if len(hist) != 2 || hist[0].node != "node-a" || hist[0].reason != "stopped" || !hist[0].released || hist[1].node != "node-b" {
		t.Errorf("history %+v", hist)
	}
	var acquired, released bool
	for _, r := range logs.records("lease acquired") {
		if r["name"] == name && r["node"] == "node-a" && r["token"] == float64(old.lease.Token()) {
			acquired = true
		}
	}
	for _, r := range logs.records("lease released") {
		if r["name"] == name && r["node"] == "node-a" && r["token"] == float64(old.lease.Token()) && r["reason"] == "stopped" {
			released = true
		}
	}
	if !acquired || !released {
		t.Errorf(`logs of node-a: "lease acquired" %v, "lease released" %v; want both with name, node and token`, acquired, released)
	}
}

// TestFunctionReturnReleases: when fn returns on its own the lease is
// released and campaigned for again; an error of fn is logged.
func TestFunctionReturnReleases(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	logs := newLogs(t)
	a := newNode(t, dsn, "node-a", nodeOpts{cfg: fast, logs: logs})
	var mu sync.Mutex
	var tokens []int64
	a.lead([]string{"sftp:hooli"}, func(ctx context.Context, l lease.Lease) error {
		mu.Lock()
		tokens = append(tokens, l.Token())
		mu.Unlock()
		return errors.New("partner directory unreadable")
	})
	time.Sleep(5 * fast.Retry)
	a.stop()
	mu.Lock()
	defer mu.Unlock()
	if len(tokens) < 2 {
		t.Fatalf("fn ran %d times, want it to lead again after returning", len(tokens))
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i] != tokens[i-1]+1 {
			t.Errorf("tokens %v, want consecutive", tokens)
		}
	}
	if len(logs.records("lease work failed")) == 0 {
		t.Error("fn's error not logged")
	}
	// Every lease whose function returned was released for that; only
	// the last may have been taken when stop came, before or while its
	// function ran.
	hist := history(t, a.db, "sftp:hooli")
	for i, h := range hist {
		if h.reason != "released" && (i < len(hist)-1 || h.reason != "stopped") {
			t.Errorf("history %+v (%d of %d), want released", h, i+1, len(hist))
		}
	}
}

// TestDatabaseRestart: PostgreSQL crashes (immediate stop) under three
// nodes: every holder stops its function within TTL; after the restart
// leadership resumes with the same electors, never two holders at once.
func TestDatabaseRestart(t *testing.T) {
	srv := postgres.Start(t)
	dsn := srv.NewDatabase(t)
	logs := newLogs(t)
	var nodes []*node
	for _, id := range []string{"node-1", "node-2", "node-3"} {
		nodes = append(nodes, newNode(t, dsn, id, nodeOpts{cfg: fast, logs: logs}))
	}
	rec := newRecorder()
	for _, n := range nodes {
		n.lead(names, rec.fn(n.id, nil))
	}
	waitActive := func(want int, timeout time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < timeout {
			if rec.activeCount() == want {
				return time.Since(start)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("%d names led after %v, want %d", rec.activeCount(), timeout, want)
		return 0
	}
	waitActive(len(names), 5*time.Second)

	if err := srv.StopImmediate(); err != nil {
		t.Fatal(err)
	}
	stopped := waitActive(0, fast.TTL)
	t.Logf("database down: every holder stopped within %v", stopped.Round(time.Millisecond))
	time.Sleep(fast.TTL) // down for a while, the pools failing meanwhile
	for _, n := range nodes {
		if h := n.el.Held(); len(h) != 0 {
			t.Errorf("%s holds %v with the database down", n.id, h)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), postgres.StartTimeout)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	resumed := waitActive(len(names), 10*time.Second)
	t.Logf("database back: all %d names led again after %v", len(names), resumed.Round(time.Millisecond))
	time.Sleep(fast.TTL / 2)
	for _, n := range nodes {
		n.stop()
	}
	rec.verify(t)
	if got := len(logs.records("lease campaign failed")) + len(logs.records("lease renewal failed")) + len(logs.records("lease release failed")); got > len(nodes) {
		t.Errorf("%d database error lines for a 2 s outage on 3 nodes, want at most one per node", got)
	}
}

// TestPruneHistory: released acquisitions older than the window go, the
// held one stays whatever its age.
func TestPruneHistory(t *testing.T) {
	dsn := postgres.Shared(t).NewDatabase(t)
	cfg := lease.Config{TTL: 2 * time.Second, Retry: 100 * time.Millisecond}
	a := newNode(t, dsn, "node-a", nodeOpts{cfg: cfg})
	rec := newRecorder()
	a.lead([]string{"sftp:acme"}, rec.fn(a.id, nil))
	rec.waitHolder(t, "sftp:acme", "", 5*time.Second)
	a.stop()
	a.lead([]string{"sftp:acme"}, rec.fn(a.id, nil))
	rec.waitHolder(t, "sftp:acme", "", 5*time.Second)
	defer a.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := a.el.PruneHistory(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("PruneHistory(1h) = %d, %v; want nothing pruned", n, err)
	}
	if n, err := a.el.PruneHistory(ctx, 0); err != nil || n != 1 {
		t.Errorf("PruneHistory(0) = %d, %v; want the released acquisition pruned", n, err)
	}
	if h := history(t, a.db, "sftp:acme"); len(h) != 1 || h[0].released || h[0].token != 2 {
		t.Errorf("history after pruning = %+v, want only the held token 2", h)
	}
}
