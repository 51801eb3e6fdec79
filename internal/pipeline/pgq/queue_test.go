package pgq_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/ordergate/ordergate/internal/pipeline/pgq"
)

// The pipeline's topics (internal/pipeline/pipeline.go).
var pipelineTopics = []string{"doc.received", "order.parsed", "order.normalized", "order.accepted"}

func TestOutbox(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast, "doc.received")
	errRollback := errors.New("roll back")
	err := q.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		if err := pub.Publish("doc.received", message.NewMessage("rolled-back", []byte("rolled-back"))); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	publish(t, q, "doc.received", "committed")

	sub := newSubscriber(t, q, "parse")
	msgs, err := sub.Subscribe(context.Background(), "doc.received")
	if err != nil {
		t.Fatal(err)
	}
	var delivered sync.Map
	wait := consumer(msgs, func(m *message.Message) error {
		delivered.Store(m.UUID, true)
		return recordEffect(m, "")
	})
	waitFor(t, 10*time.Second, "the committed message's effect", func() bool { return len(effects(t, db)) == 1 })
	time.Sleep(100 * time.Millisecond) // ten more polls
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	wait()
	exactlyOnce(t, effects(t, db), []string{"committed"})
	if _, ok := delivered.Load("rolled-back"); ok {
		t.Error("a message published in a rolled-back transaction was delivered")
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM `+pgq.MessagesTable("doc.received")); n != 0 {
		t.Errorf("%d rows left in the messages table, want 0 (deleted on ack)", n)
	}
}

func TestStopMidStreamExactlyOnceEffect(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast, "order.parsed")
	want := ids("m", 300)
	publish(t, q, "order.parsed", want...)

	// First run: stop while messages are being handled; each handler
	// writes, pauses and acks, so Close lands inside handlers.
	sub1 := newSubscriber(t, q, "normalize")
	msgs, err := sub1.Subscribe(context.Background(), "order.parsed")
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int64
	var closeOnce sync.Once
	wait := consumer(msgs, func(m *message.Message) error {
		if err := recordEffect(m, ""); err != nil {
			return err
		}
		if handled.Add(1) == 100 {
			closeOnce.Do(func() { go func() { _ = sub1.Close() }() })
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	wait()
	first := len(effects(t, db))
	if first == 0 || first >= len(want) {
		t.Fatalf("%d effects after the first run, want some but not all", first)
	}

	// Second run on a new Queue: the rest, and nothing twice.
	q2 := newQueue(t, db, fast)
	sub2 := newSubscriber(t, q2, "normalize")
	msgs, err = sub2.Subscribe(context.Background(), "order.parsed")
	if err != nil {
		t.Fatal(err)
	}
	wait = consumer(msgs, func(m *message.Message) error { return recordEffect(m, "") })
	waitFor(t, 20*time.Second, "every effect", func() bool { return len(effects(t, db)) == len(want) })
	if n, err := q2.Depth(context.Background(), "order.parsed", "normalize"); err != nil || n != 0 {
		t.Errorf("Depth = %d, %v; want 0", n, err)
	}
	_ = sub2.Close()
	wait()
	exactlyOnce(t, effects(t, db), want)
	t.Logf("first run committed %d of %d", first, len(want))
}

func TestAbandonedHandlerRollsBackItsBatch(t *testing.T) {
	_, db := newDB(t)
	cfg := fast
	cfg.HandlerGrace = 50 * time.Millisecond
	q := newQueue(t, db, cfg, "order.parsed")
	want := ids("a", 5)
	publish(t, q, "order.parsed", want...)

	sub1 := newSubscriber(t, q, "normalize")
	msgs, err := sub1.Subscribe(context.Background(), "order.parsed")
	if err != nil {
		t.Fatal(err)
	}
	// The third message's handler writes and then hangs past the grace.
	release := make(chan struct{})
	var n atomic.Int64
	wait := consumer(msgs, func(m *message.Message) error {
		if err := recordEffect(m, ""); err != nil {
			return err
		}
		if n.Add(1) == 3 {
			go func() { _ = sub1.Close(); close(release) }()
			<-release
		}
		return nil
	})
	wait()
	if got := effects(t, db); len(got) != 0 {
		t.Fatalf("effects %v committed, want none: the batch's handler was abandoned", got)
	}

	sub2 := newSubscriber(t, q, "normalize")
	msgs, err = sub2.Subscribe(context.Background(), "order.parsed")
	if err != nil {
		t.Fatal(err)
	}
	wait = consumer(msgs, func(m *message.Message) error { return recordEffect(m, "") })
	waitFor(t, 10*time.Second, "every effect", func() bool { return len(effects(t, db)) == len(want) })
	_ = sub2.Close()
	wait()
	exactlyOnce(t, effects(t, db), want)
}

func TestFailedAttemptRolledBackRetryKept(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast, "order.normalized")
	want := ids("f", 20)
	publish(t, q, "order.normalized", want...)

	var attempts sync.Map // id → *atomic.Int64
	h := q.Transactional(func(m *message.Message) ([]*message.Message, error) {
		a, _ := attempts.LoadOrStore(m.UUID, new(atomic.Int64))
		if err := recordEffect(m, ""); err != nil {
			return nil, err
		}
		if a.(*atomic.Int64).Add(1) == 1 {
			// A failing statement aborts the transaction in PostgreSQL; the
			// attempt's savepoint makes it usable again.
			tx, _ := q.TxFromContext(m.Context())
			_, err := tx.ExecContext(m.Context(), `SELECT 1/0`)
			return nil, fmt.Errorf("first attempt: %w", err)
		}
		return nil, nil
	})
	sub := newSubscriber(t, q, "decide")
	msgs, err := sub.Subscribe(context.Background(), "order.normalized")
	if err != nil {
		t.Fatal(err)
	}
	wait := consumer(msgs, func(m *message.Message) error {
		// A retry middleware: the same delivery, attempted again.
		if _, err := h(m); err == nil {
			return nil
		}
		_, err := h(m)
		return err
	})
	waitFor(t, 10*time.Second, "every effect", func() bool { return len(effects(t, db)) == len(want) })
	_ = sub.Close()
	wait()
	exactlyOnce(t, effects(t, db), want)
	for _, id := range want {
		if a, _ := attempts.Load(id); a == nil || a.(*atomic.Int64).Load() != 2 {
			t.Errorf("%s: attempts %v, want 2", id, a)
		}
	}
}

func TestTransactionalWithoutSubscriberTx(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast)
	_, err := q.Transactional(func(*message.Message) ([]*message.Message, error) { return nil, nil })(message.NewMessage("x", nil))
	if !errors.Is(err, pgq.ErrNoTx) {
		t.Fatalf("Transactional on a foreign message = %v, want ErrNoTx", err)
	}
}

func TestNackRedelivers(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast, "order.accepted")
	want := ids("n", 10)
	publish(t, q, "order.accepted", want...)

	var deliveries sync.Map // id → *atomic.Int64
	sub := newSubscriber(t, q, "route")
	msgs, err := sub.Subscribe(context.Background(), "order.accepted")
	if err != nil {
		t.Fatal(err)
	}
	wait := consumer(msgs, func(m *message.Message) error {
		d, _ := deliveries.LoadOrStore(m.UUID, new(atomic.Int64))
		// The write of the nacked delivery is rolled back by the subscriber.
		if err := recordEffect(m, ""); err != nil {
			return err
		}
		if d.(*atomic.Int64).Add(1) == 1 {
			return errors.New("nack the first delivery")
		}
		return nil
	})
	waitFor(t, 10*time.Second, "every effect", func() bool {
		n, err := q.Depth(context.Background(), "order.accepted", "route")
		return err == nil && n == 0
	})
	_ = sub.Close()
	wait()
	exactlyOnce(t, effects(t, db), want)
	for _, id := range want {
		if d, _ := deliveries.Load(id); d == nil || d.(*atomic.Int64).Load() != 2 {
			t.Errorf("%s delivered %v times, want 2", id, d)
		}
	}
}

func TestCompetingConsumers(t *testing.T) {
	dsn, db := newDB(t)
	want := ids("c", 2000)
	nodes := []string{"node-a", "node-b"}
	queues := make([]*pgq.Queue, len(nodes))
	for i := range nodes {
		queues[i] = newQueue(t, openDB(t, dsn), fast, "doc.received")
	}
	for i := 0; i < len(want); i += 500 {
		publish(t, queues[0], "doc.received", want[i:i+500]...)
	}
	var waits []func()
	var subs []message.Subscriber
	for i, node := range nodes {
		sub := newSubscriber(t, queues[i], "parse")
		subs = append(subs, sub)
		msgs, err := sub.Subscribe(context.Background(), "doc.received")
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, consumer(msgs, func(m *message.Message) error { return recordEffect(m, node) }))
	}
	waitFor(t, 30*time.Second, "every effect", func() bool { return countRows(t, db, `SELECT COUNT(*) FROM effects`) == len(want) })
	for i, sub := range subs {
		_ = sub.Close()
		waits[i]()
	}
	exactlyOnce(t, effects(t, db), want)
	for _, node := range nodes {
		n := countRows(t, db, `SELECT COUNT(*) FROM effects WHERE node = $1`, node)
		if n == 0 {
			t.Errorf("%s handled no message", node)
		}
		t.Logf("%s handled %d", node, n)
	}
}

func TestGroupConflict(t *testing.T) {
	dsn, db := newDB(t)
	q1 := newQueue(t, db, fast, "doc.received")
	sub := newSubscriber(t, q1, "parse")
	if _, err := sub.Subscribe(context.Background(), "doc.received"); err != nil {
		t.Fatal(err)
	}
	// Another node, another group: refused from the database's registry.
	q2 := newQueue(t, openDB(t, dsn), fast, "doc.received")
	other := newSubscriber(t, q2, "someone-else")
	if _, err := other.Subscribe(context.Background(), "doc.received"); !errors.Is(err, pgq.ErrGroupConflict) {
		t.Errorf("Subscribe with a second group = %v, want ErrGroupConflict", err)
	}
	if _, err := q2.Depth(context.Background(), "doc.received", "someone-else"); !errors.Is(err, pgq.ErrGroupConflict) {
		t.Errorf("Depth for a second group = %v, want ErrGroupConflict", err)
	}
	// The same group on the other node is a competing consumer.
	same := newSubscriber(t, q2, "parse")
	if _, err := same.Subscribe(context.Background(), "doc.received"); err != nil {
		t.Errorf("Subscribe with the same group on another node: %v", err)
	}
}

func TestDepth(t *testing.T) {
	_, db := newDB(t)
	cfg := fast
	cfg.BatchSize = 1
	q := newQueue(t, db, cfg, "order.parsed")
	ctx := context.Background()
	if n, err := q.Depth(ctx, "order.parsed", "normalize"); err != nil || n != 0 {
		t.Fatalf("Depth of an empty topic = %d, %v", n, err)
	}
	publish(t, q, "order.parsed", ids("d", 5)...)
	if n, err := q.Depth(ctx, "order.parsed", "normalize"); err != nil || n != 5 {
		t.Fatalf("Depth = %d, %v; want 5", n, err)
	}
	sub := newSubscriber(t, q, "normalize")
	msgs, err := sub.Subscribe(ctx, "order.parsed")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		m := <-msgs
		if err := recordEffect(m, ""); err != nil {
			t.Fatal(err)
		}
		m.Ack()
	}
	waitFor(t, 5*time.Second, "depth 3", func() bool {
		n, err := q.Depth(ctx, "order.parsed", "normalize")
		return err == nil && n == 3
	})
	if _, err := q.Depth(ctx, "no-such", "normalize"); err == nil {
		t.Error("Depth of a topic without a table succeeded")
	}
	if _, err := q.Depth(ctx, "bad topic", "normalize"); !errors.Is(err, wsql.ErrInvalidTopicName) {
		t.Errorf("Depth of an invalid topic = %v, want ErrInvalidTopicName", err)
	}
}

func TestRetainKeepsAckedForGrace(t *testing.T) {
	_, db := newDB(t)
	keep := false
	cfg := fast
	cfg.DeleteOnAck = &keep
	cfg.RetainInterval = 20 * time.Millisecond
	cfg.RetainGrace = 300 * time.Millisecond
	q := newQueue(t, db, cfg, "order.accepted")
	want := ids("r", 10)
	publish(t, q, "order.accepted", want...)
	sub := newSubscriber(t, q, "route")
	msgs, err := sub.Subscribe(context.Background(), "order.accepted")
	if err != nil {
		t.Fatal(err)
	}
	wait := consumer(msgs, func(m *message.Message) error { return recordEffect(m, "") })
	waitFor(t, 10*time.Second, "every effect", func() bool { return len(effects(t, db)) == len(want) })
	_ = sub.Close()
	wait()
	table := pgq.MessagesTable("order.accepted")
	if n := countRows(t, db, `SELECT COUNT(*) FROM `+table+` WHERE acked`); n != len(want) {
		t.Fatalf("%d acked rows kept, want %d", n, len(want))
	}
	if n, err := q.Depth(context.Background(), "order.accepted", "route"); err != nil || n != 0 {
		t.Errorf("Depth = %d, %v; want 0", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- q.Retain(ctx, "order.accepted") }()
	waitFor(t, 3*time.Second, "acked rows deleted after the grace", func() bool {
		return countRows(t, db, `SELECT COUNT(*) FROM `+table) == 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Retain = %v", err)
	}

	// Deleted on ack: Retain has nothing to do and returns at once.
	q2 := newQueue(t, db, fast)
	if err := q2.Retain(context.Background(), "order.accepted"); err != nil {
		t.Errorf("Retain with DeleteOnAck = %v", err)
	}
}

func TestInitializeSchemaConcurrentAndTopicNames(t *testing.T) {
	dsn, db := newDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		node := openDB(t, dsn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, err := pgq.New(node, fast, nil)
			if err == nil {
				err = q.InitializeSchema(context.Background(), pipelineTopics...)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent InitializeSchema: %v", err)
		}
	}
	for _, topic := range pipelineTopics {
		name := strings.Trim(pgq.MessagesTable(topic), `"`)
		var typ string
		if err := db.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = 'offset'`,
			name).Scan(&typ); err != nil || typ != "bigint" {
			t.Errorf("table %s: offset column %q, %v; want bigint", name, typ, err)
		}
	}
	q := newQueue(t, db, fast)
	for _, bad := range []string{"with space", "semi;colon", `quo"te`, strings.Repeat("x", 52)} {
		if err := q.InitializeSchema(context.Background(), bad); !errors.Is(err, wsql.ErrInvalidTopicName) {
			t.Errorf("InitializeSchema(%q) = %v, want ErrInvalidTopicName", bad, err)
		}
	}
	if err := q.InitializeSchema(context.Background(), strings.Repeat("x", 51)); err != nil {
		t.Errorf("InitializeSchema of a 51-byte topic: %v", err)
	}
}

func TestInTxRetriesDeadlock(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast)
	if _, err := db.Exec(`CREATE TABLE accounts (id INT PRIMARY KEY, v INT NOT NULL); INSERT INTO accounts VALUES (1, 0), (2, 0)`); err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int64
	var barrier sync.WaitGroup
	barrier.Add(2)
	transfer := func(first, second int) error {
		var once sync.Once
		return q.InTx(context.Background(), func(tx *sql.Tx) error {
			runs.Add(1)
			if _, err := tx.Exec(`UPDATE accounts SET v = v + 1 WHERE id = $1`, first); err != nil {
				return err
			}
			once.Do(func() { barrier.Done(); barrier.Wait() })
			_, err := tx.Exec(`UPDATE accounts SET v = v + 1 WHERE id = $1`, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- transfer(1, 2) }()
	go func() { errs <- transfer(2, 1) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("InTx: %v", err)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Errorf("%d runs of the functions, want 3 (one deadlock victim retried)", n)
	}
	if n := countRows(t, db, `SELECT SUM(v) FROM accounts`); n != 4 {
		t.Errorf("sum %d, want 4: each transfer committed once", n)
	}
	// Errors that are not transient are returned at once.
	var calls int
	err := q.InTx(context.Background(), func(tx *sql.Tx) error {
		calls++
		_, err := tx.Exec(`INSERT INTO accounts VALUES (1, 0)`)
		return err
	})
	if err == nil || calls != 1 {
		t.Errorf("InTx with a unique violation = %v after %d calls, want an error after 1", err, calls)
	}
}

func TestAckDeadline(t *testing.T) {
	_, db := newDB(t)
	cfg := fast
	cfg.AckDeadline = 100 * time.Millisecond
	cfg.HandlerGrace = 50 * time.Millisecond
	q := newQueue(t, db, cfg, "order.parsed")
	want := ids("t", 3)
	publish(t, q, "order.parsed", want...)
	sub := newSubscriber(t, q, "normalize")
	msgs, err := sub.Subscribe(context.Background(), "order.parsed")
	if err != nil {
		t.Fatal(err)
	}
	// The first delivery of t-00001 outlives the deadline and the grace:
	// its batch is rolled back and every message of it delivered again.
	var slow atomic.Int64
	var deliveries atomic.Int64
	wait := consumer(msgs, func(m *message.Message) error {
		deliveries.Add(1)
		if err := recordEffect(m, ""); err != nil {
			return err
		}
		if m.UUID == "t-00001" && slow.Add(1) == 1 {
			<-m.Context().Done() // cancelled when the subscriber gives up
		}
		return nil
	})
	waitFor(t, 10*time.Second, "every effect", func() bool { return len(effects(t, db)) == len(want) })
	_ = sub.Close()
	wait()
	exactlyOnce(t, effects(t, db), want)
	if n := deliveries.Load(); n != 5 {
		t.Errorf("%d deliveries, want 5 (t-00000 and t-00001 twice)", n)
	}
	if _, err := sub.Subscribe(context.Background(), "order.parsed"); !errors.Is(err, pgq.ErrSubscriberClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrSubscriberClosed", err)
	}
}
