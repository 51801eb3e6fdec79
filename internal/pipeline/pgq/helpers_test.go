package pgq_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ordergate/ordergate/internal/pipeline/pgq"
	"github.com/ordergate/ordergate/internal/testenv/postgres"
)

func TestMain(m *testing.M) {
	os.Exit(postgres.RunMain(m))
}

// fast is a configuration that keeps the tests short.
var fast = pgq.Config{PollInterval: 10 * time.Millisecond, ResendInterval: 5 * time.Millisecond, RetryInterval: 50 * time.Millisecond}

// openDB opens a pgx pool on dsn, closed in t.Cleanup.
func openDB(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("opening %s: %v", dsn, err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("pinging: %v", err)
	}
	return db
}

// newDB gives the test its own database on the shared cluster, with an
// effects table (one row per handled message id and the number of times
// its effect was committed).
func newDB(t testing.TB) (dsn string, db *sql.DB) {
	t.Helper()
	dsn = postgres.Shared(t).NewDatabase(t)
	db = openDB(t, dsn)
	createEffects(t, db)
	return dsn, db
}

func createEffects(t testing.TB, db *sql.DB) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS effects (id TEXT PRIMARY KEY, n INT NOT NULL, node TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS sources (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatalf("creating effects: %v", err)
	}
}

func newQueue(t testing.TB, db *sql.DB, cfg pgq.Config, topics ...string) *pgq.Queue {
	t.Helper()
	q, err := pgq.New(db, cfg, watermill.NopLogger{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := q.InitializeSchema(context.Background(), topics...); err != nil {
		t.Fatalf("InitializeSchema: %v", err)
	}
	return q
}

func newSubscriber(t testing.TB, q *pgq.Queue, group string) message.Subscriber {
	t.Helper()
	sub, err := q.NewSubscriber(group)
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// publish publishes one message per id (UUID and payload the id) in one
// committed transaction.
func publish(t testing.TB, q *pgq.Queue, topic string, ids ...string) {
	t.Helper()
	err := q.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		msgs := make([]*message.Message, len(ids))
		for i, id := range ids {
			msgs[i] = message.NewMessage(id, []byte(id))
		}
		return pub.Publish(topic, msgs...)
	})
	if err != nil {
		t.Fatalf("publishing: %v", err)
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return out
}

// recordEffect counts msg's effect in its own transaction.
func recordEffect(msg *message.Message, node string) error {
	tx, ok := pgq.TxFromContext(msg.Context())
	if !ok {
		return pgq.ErrNoTx
	}
	_, err := tx.ExecContext(msg.Context(), `INSERT INTO effects (id, n, node) VALUES ($1, 1, $2)
ON CONFLICT (id) DO UPDATE SET n = effects.n + 1`, string(msg.Payload), node)
	return err
}

// consumer runs handle on every message of msgs (ack on nil, nack
// otherwise) until msgs is closed.
func consumer(msgs <-chan *message.Message, handle func(*message.Message) error) (wait func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for m := range msgs {
			if err := handle(m); err != nil {
				m.Nack()
			} else {
				m.Ack()
			}
		}
	}()
	return wg.Wait
}

// effects returns id → n.
func effects(t testing.TB, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT id, n FROM effects`)
	if err != nil {
		t.Fatalf("reading effects: %v", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countRows(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// exactlyOnce fails the test unless every id has exactly one effect and
// there are no others.
func exactlyOnce(t testing.TB, got map[string]int, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d effects, want %d", len(got), len(want))
	}
	for _, id := range want {
		if got[id] != 1 {
			t.Errorf("effect of %s committed %d times, want 1", id, got[id])
		}
	}
}
