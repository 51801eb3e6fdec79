package brokerq_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/pipeline/brokerq"
	"github.com/ordergate/ordergate/internal/pipeline/pgq"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/testenv/natsserver"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
	"github.com/ordergate/ordergate/internal/testenv/rabbitmq"
)

func TestMain(m *testing.M) { os.Exit(postgres.RunMain(m)) }

// waitFor bounds a wait for an outcome.
const waitFor = 60 * time.Second

// The chain's topics: inputs go to topicIn, stage s1 consumes them and
// publishes to topicMid, stage s2 consumes that.
const (
	topicIn  = "test.in"
	topicMid = "test.mid"
)

// brokerEnv is one broker under test.
type brokerEnv struct {
	name string
	url  string
}

// TestBrokers runs the queue's behaviour tests against a real NATS
// JetStream and a real RabbitMQ, with a real SQLite store as outbox, and
// the main ones again on RabbitMQ with pgq on a real PostgreSQL as outbox
// (the outbox and inbox code does not depend on the broker).
func TestBrokers(t *testing.T) {
	t.Run(brokerq.NATS, func(t *testing.T) {
		srv := natsserver.Start(t)
		env := brokerEnv{name: brokerq.NATS, url: srv.URL()}
		runBehaviour(t, env)
	})
	t.Run(brokerq.RabbitMQ, func(t *testing.T) {
		srv := rabbitmq.Start(t)
		env := brokerEnv{name: brokerq.RabbitMQ, url: srv.URL()}
		runBehaviour(t, env)
		t.Run("postgres", func(t *testing.T) { runPostgres(t, env) })
		t.Run("BrokerKilledMidStream", func(t *testing.T) { testBrokerKilled(t, env, srv) })
	})
}

func runBehaviour(t *testing.T, env brokerEnv) {
	t.Run("Chain", func(t *testing.T) { testChain(t, env, openSQLite(t), 1000) })
	t.Run("RollbackNeverPublishes", func(t *testing.T) { testRollback(t, env, openSQLite(t)) })
	t.Run("RedeliveryHasEffectOnce", func(t *testing.T) { testRedelivery(t, env, openSQLite(t)) })
	t.Run("TwoNodesShareTheWork", func(t *testing.T) { testTwoNodes(t, env, openSQLite(t)) })
	t.Run("Retain", func(t *testing.T) { testRetain(t, env, openSQLite(t)) })
}

// runPostgres runs the chain, redelivery and two-node tests with pgq as
// outbox, each node on its own connection pool.
func runPostgres(t *testing.T, env brokerEnv) {
	t.Run("Chain", func(t *testing.T) { testChain(t, env, openPostgres(t), 300) })
	t.Run("RedeliveryHasEffectOnce", func(t *testing.T) { testRedelivery(t, env, openPostgres(t)) })
	t.Run("TwoNodesShareTheWork", func(t *testing.T) { testTwoNodes(t, env, openPostgres(t)) })
}

// prefix returns a broker name prefix of its own for a test.
func prefix(t *testing.T) string {
	return fmt.Sprintf("t%d_", time.Now().UnixNano())
}

// database is the outbox's database of a test: its dialect, a pool for
// the test's queries and a new outbox (a node's) on it.
type database struct {
	db        *sql.DB
	dialect   brokerq.Dialect
	newOutbox func(t *testing.T) brokerq.Outbox
}

// rebind writes query's ? placeholders in the database's dialect.
func (d database) rebind(query string) string {
	if d.dialect != brokerq.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// effectsTable is the table the chain's handlers write.
const effectsTable = `CREATE TABLE effects (stage TEXT NOT NULL, key TEXT NOT NULL, node TEXT NOT NULL)`

// openSQLite opens a store in a temp dir; its outboxes are SQLite queues
// on the store.
func openSQLite(t *testing.T) database {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(ctx); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	if _, err := st.DB().ExecContext(ctx, effectsTable); err != nil {
		t.Fatal(err)
	}
	return database{db: st.DB(), dialect: brokerq.SQLite, newOutbox: func(*testing.T) brokerq.Outbox {
		return pipeline.NewSQLiteQueue(st, 0, 5*time.Millisecond, 0, nil)
	}}
}

// openPostgres gives the test a database on the shared PostgreSQL
// cluster; its outboxes are pgq queues, each on a pool of its own.
func openPostgres(t *testing.T) database {
	t.Helper()
	dsn := postgres.Shared(t).NewDatabase(t)
	open := func(t *testing.T) *sql.DB {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatalf("opening %s: %v", dsn, err)
		}
		db.SetMaxOpenConns(20)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	db := open(t)
	if _, err := db.ExecContext(context.Background(), effectsTable); err != nil {
		t.Fatal(err)
	}
	return database{db: db, dialect: brokerq.Postgres, newOutbox: func(t *testing.T) brokerq.Outbox {
		q, err := pgq.New(open(t), pgq.Config{PollInterval: 10 * time.Millisecond, ResendInterval: 5 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}}
}

// newQueue returns a Queue (a node) over a new outbox on db, its schema
// initialized.
func newQueue(t *testing.T, db database, env brokerEnv, pfx string, mod func(*brokerq.Config)) *brokerq.Queue {
	t.Helper()
	cfg := brokerq.Config{Broker: env.name, URL: env.url, Prefix: pfx, Dialect: db.dialect}
	if mod != nil {
		mod(&cfg)
	}
	q, err := brokerq.New(db.newOutbox(t), cfg)
	if err != nil {
		t.Fatalf("brokerq.New: %v", err)
	}
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("closing queue: %v", err)
		}
	})
	if err := q.InitializeSchema(context.Background(), topicIn, topicMid); err != nil {
		t.Fatalf("InitializeSchema: %v", err)
	}
	return q
}

// deliveries counts the handler calls per stage and message UUID, seen
// outside Transactional (so redeliveries count).
type deliveries struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *deliveries) add(stage, uuid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[stage+"/"+uuid]++
}

func (d *deliveries) get(stage, uuid string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[stage+"/"+uuid]
}

// runChain runs the forwarder and a router with the two-stage chain on q,
// its effects marked with node, until the test ends or stop is called.
func runChain(t *testing.T, db database, q *brokerq.Queue, node string, seen *deliveries) (stop func()) {
	t.Helper()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 20 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			if seen != nil {
				seen.add(message.HandlerNameFromCtx(msg.Context()), msg.UUID)
			}
			return h(msg)
		}
	}
	router.AddMiddleware(count, q.Transactional)
	effect := func(stage string, next string) message.NoPublishHandlerFunc {
		return func(msg *message.Message) error {
			tx, ok := q.TxFromContext(msg.Context())
			if !ok {
				return errors.New("no transaction in the message's context")
			}
			if _, err := tx.ExecContext(msg.Context(), db.rebind(`INSERT INTO effects (stage, key, node) VALUES (?, ?, ?)`), stage, string(msg.Payload), node); err != nil {
				return err
			}
			if next == "" {
				return nil
			}
			pub, err := q.NewPublisherInTx(tx)
			if err != nil {
				return err
			}
			return pub.Publish(next, message.NewMessage(watermill.NewUUID(), msg.Payload))
		}
	}
	var subs []message.Subscriber
	for _, s := range []struct{ stage, topic, next string }{{"s1", topicIn, topicMid}, {"s2", topicMid, ""}} {
		sub, err := q.NewSubscriber(s.stage)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
		router.AddConsumerHandler(s.stage, s.topic, sub, effect(s.stage, s.next))
	}
	ctx, cancel := context.WithCancel(context.Background())
	fwdDone := make(chan error, 1)
	go func() { fwdDone <- q.Run(ctx) }()
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		cancel()
		t.Fatalf("router: %v", err)
	case <-time.After(waitFor):
		cancel()
		t.Fatal("router did not start")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := router.Close(); err != nil {
				t.Errorf("closing router: %v", err)
			}
			if err := <-routerDone; err != nil {
				t.Errorf("router: %v", err)
			}
			if err := <-fwdDone; err != nil {
				t.Errorf("forwarder: %v", err)
			}
			for _, s := range subs {
				if err := s.Close(); err != nil {
					t.Errorf("closing subscriber: %v", err)
				}
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// publishInputs publishes keys to topicIn through the outbox, 100 per
// transaction.
func publishInputs(t *testing.T, q *brokerq.Queue, keys ...string) {
	t.Helper()
	for len(keys) > 0 {
		batch := keys[:min(100, len(keys))]
		keys = keys[len(batch):]
		err := q.InTx(context.Background(), func(tx *sql.Tx) error {
			pub, err := q.NewPublisherInTx(tx)
			if err != nil {
				return err
			}
			msgs := make([]*message.Message, len(batch))
			for i, k := range batch {
				msgs[i] = message.NewMessage(watermill.NewUUID(), []byte(k))
			}
			return pub.Publish(topicIn, msgs...)
		})
		if err != nil {
			t.Fatalf("publishing inputs: %v", err)
		}
	}
}

func keys(from, n int) []string {
	k := make([]string, n)
	for i := range k {
		k[i] = fmt.Sprintf("m%05d", from+i)
	}
	return k
}

func count(t *testing.T, db database, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.db.QueryRowContext(context.Background(), db.rebind(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitEffects waits until stage has n effects, then checks it has exactly
// n distinct ones.
func waitEffects(t *testing.T, db database, stage string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		got := count(t, db, `SELECT COUNT(*) FROM effects WHERE stage = ?`, stage)
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stage %s: %d effects after %v, want %d", stage, got, waitFor, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rows := count(t, db, `SELECT COUNT(*) FROM effects WHERE stage = ?`, stage)
	distinct := count(t, db, `SELECT COUNT(DISTINCT key) FROM effects WHERE stage = ?`, stage)
	if rows != n || distinct != n {
		t.Fatalf("stage %s: %d effects of %d distinct messages, want %d of %d (exactly once)", stage, rows, distinct, n, n)
	}
}

// waitDepth waits until q reports no message waiting for topic.
func waitDepth(t *testing.T, q *brokerq.Queue, topic string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		n, err := q.Depth(context.Background(), topic, "")
		if err != nil {
			t.Fatalf("Depth(%s): %v", topic, err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Depth(%s) = %d after %v, want 0", topic, n, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testChain: n messages through the two stages, each stage's effect
// exactly once, nothing left waiting.
func testChain(t *testing.T, env brokerEnv, db database, n int) {
	q := newQueue(t, db, env, prefix(t), nil)
	start := time.Now()
	publishInputs(t, q, keys(0, n)...)
	runChain(t, db, q, "a", nil)
	waitEffects(t, db, "s1", n)
	waitEffects(t, db, "s2", n)
	t.Logf("%d messages through two stages in %v", n, time.Since(start).Round(time.Millisecond))
	waitDepth(t, q, topicIn)
	waitDepth(t, q, topicMid)
	if got := count(t, db, `SELECT COUNT(*) FROM `+brokerq.InboxTable); got != 2*n {
		t.Errorf("inbox rows = %d, want %d (one per stage and message)", got, 2*n)
	}
}

// testRollback: a message published in a transaction that rolls back is
// never forwarded; one committed after it arrives.
func testRollback(t *testing.T, env brokerEnv, db database) {
	q := newQueue(t, db, env, prefix(t), nil)
	runChain(t, db, q, "a", nil)
	errBoom := errors.New("boom")
	err := q.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		if err := pub.Publish(topicIn, message.NewMessage(watermill.NewUUID(), []byte("rolled-back"))); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want %v", err, errBoom)
	}
	// The outbox is forwarded in order: once a message committed after
	// the rolled back one has gone through both stages, the rolled back
	// one would have too.
	publishInputs(t, q, "after")
	waitEffects(t, db, "s2", 1)
	if got := count(t, db, `SELECT COUNT(*) FROM effects WHERE key = 'rolled-back'`); got != 0 {
		t.Fatalf("the rolled back message had %d effects", got)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM effects WHERE key = 'after'`); got != 2 {
		t.Fatalf("the committed message had %d effects, want 2", got)
	}
}

// testRedelivery: a message published twice to the broker with the same
// UUID is delivered twice and has its effect once.
func testRedelivery(t *testing.T, env brokerEnv, db database) {
	q := newQueue(t, db, env, prefix(t), nil)
	seen := &deliveries{}
	runChain(t, db, q, "a", seen)
	m := message.NewMessage(watermill.NewUUID(), []byte("dup"))
	pub := brokerq.BrokerPublisher(q)
	for range 2 {
		if err := pub.Publish(topicIn, m.Copy()); err != nil {
			t.Fatalf("publishing to the broker: %v", err)
		}
	}
	deadline := time.Now().Add(waitFor)
	for seen.get("s1", m.UUID) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("s1 got message %s %d times, want 2", m.UUID, seen.get("s1", m.UUID))
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitEffects(t, db, "s2", 1)
	// A later message has gone through s1 after both deliveries.
	publishInputs(t, q, "later")
	waitEffects(t, db, "s2", 2)
	if got := count(t, db, `SELECT COUNT(*) FROM effects WHERE key = 'dup' AND stage = 's1'`); got != 1 {
		t.Fatalf("the twice delivered message had %d effects in s1, want 1", got)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM effects WHERE key = 'dup' AND stage = 's2'`); got != 1 {
		t.Fatalf("the twice delivered message had %d effects in s2, want 1", got)
	}
}

// testTwoNodes: two queues (nodes) with their own subscribers and
// forwarders on one broker and one store share the messages, each effect
// still exactly once.
func testTwoNodes(t *testing.T, env brokerEnv, db database) {
	const n = 200
	pfx := prefix(t)
	qa := newQueue(t, db, env, pfx, nil)
	qb := newQueue(t, db, env, pfx, nil)
	runChain(t, db, qa, "a", nil)
	runChain(t, db, qb, "b", nil)
	publishInputs(t, qa, keys(0, n/2)...)
	publishInputs(t, qb, keys(n/2, n/2)...)
	waitEffects(t, db, "s1", n)
	waitEffects(t, db, "s2", n)
	for _, stage := range []string{"s1", "s2"} {
		a := count(t, db, `SELECT COUNT(*) FROM effects WHERE stage = ? AND node = 'a'`, stage)
		b := count(t, db, `SELECT COUNT(*) FROM effects WHERE stage = ? AND node = 'b'`, stage)
		t.Logf("stage %s: node a %d, node b %d", stage, a, b)
		if a == 0 || b == 0 {
			t.Errorf("stage %s: node a handled %d, node b %d; want both to share the work", stage, a, b)
		}
	}
}

// testRetain: Retain deletes inbox rows older than the retention and keeps
// the newer ones.
func testRetain(t *testing.T, env brokerEnv, db database) {
	defer brokerq.SetRetainInterval(20 * time.Millisecond)()
	q := newQueue(t, db, env, prefix(t), func(c *brokerq.Config) { c.InboxRetention = 500 * time.Millisecond })
	stop := runChain(t, db, q, "a", nil)
	publishInputs(t, q, keys(0, 10)...)
	waitEffects(t, db, "s2", 10)
	stop()
	if got := count(t, db, `SELECT COUNT(*) FROM `+brokerq.InboxTable); got != 20 {
		t.Fatalf("inbox rows = %d, want 20", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Retain(ctx, topicIn, topicMid) }()
	deadline := time.Now().Add(waitFor)
	for count(t, db, `SELECT COUNT(*) FROM `+brokerq.InboxTable) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("Retain kept the inbox rows past their retention")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Retain = %v, want context.Canceled", err)
	}
}

// testBrokerKilled: RabbitMQ is killed while messages flow and started
// again; the forwarder and the subscribers reconnect by themselves and no
// message is lost or has its effect twice.
func testBrokerKilled(t *testing.T, env brokerEnv, srv *rabbitmq.Server) {
	const n = 300
	db := openSQLite(t)
	q := newQueue(t, db, env, prefix(t), nil)
	declared := time.Now()
	publishInputs(t, q, keys(0, n)...)
	// RabbitMQ keeps a queue's definition in Mnesia, flushed within 2 s
	// (see the rabbitmq test harness): deployments declare queues long
	// before a kill.
	time.Sleep(time.Until(declared.Add(3 * time.Second)))
	runChain(t, db, q, "a", nil)
	deadline := time.Now().Add(waitFor)
	for count(t, db, `SELECT COUNT(*) FROM effects WHERE stage = 's2'`) < 50 {
		if time.Now().After(deadline) {
			t.Fatal("no progress before the kill")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Kill(); err != nil {
		t.Fatalf("killing rabbitmq: %v", err)
	}
	done := count(t, db, `SELECT COUNT(*) FROM effects WHERE stage = 's2'`)
	if done == n {
		t.Fatal("every message was through before the kill")
	}
	t.Logf("killed rabbitmq after %d of %d messages", done, n)
	ctx, cancel := context.WithTimeout(context.Background(), rabbitmq.StartTimeout)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("starting rabbitmq again: %v", err)
	}
	restarted := time.Now()
	waitEffects(t, db, "s1", n)
	waitEffects(t, db, "s2", n)
	t.Logf("all messages through %v after the restart", time.Since(restarted).Round(time.Millisecond))
	waitDepth(t, q, topicIn)
	waitDepth(t, q, topicMid)
}
