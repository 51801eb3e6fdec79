package sqliteq_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
)

// receive returns the next message or fails the test after a generous
// deadline (a hang guard, not a timing assertion).
func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("messages channel closed")
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no message within 30s")
	}
	return nil
}

func publish(t *testing.T, pub message.Publisher, topic string, payloads ...string) []string {
	t.Helper()
	var ids []string
	for _, p := range payloads {
		m := message.NewMessage(watermill.NewUUID(), []byte(p))
		if err := pub.Publish(topic, m); err != nil {
			t.Fatalf("publishing %q: %v", p, err)
		}
		ids = append(ids, m.UUID)
	}
	return ids
}

func newPublisher(t *testing.T, w *sqliteq.Writer) message.Publisher {
	t.Helper()
	pub, err := sqliteq.NewPublisher(w, watermill.NopLogger{})
	if err != nil {
		t.Fatalf("NewPublisher: %v", err)
	}
	return pub
}

func depth(t *testing.T, db *sql.DB, topic, group string) int64 {
	t.Helper()
	n, err := sqliteq.Depth(context.Background(), db, topic, group)
	if err != nil {
		t.Fatalf("Depth(%s, %s): %v", topic, group, err)
	}
	return n
}

// TestOutbox: a message published in a caller's transaction is delivered
// if and only if the transaction commits, and then once.
func TestOutbox(t *testing.T) {
	w, db := openDB(t)
	initTopics(t, w, "doc.received")
	ctx := context.Background()

	publishIn := func(payload string, commit bool) {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("BeginTx: %v", err)
		}
		defer tx.Rollback()
		pub, err := sqliteq.NewPublisherInTx(tx.Tx, watermill.NopLogger{})
		if err != nil {
			t.Fatalf("NewPublisherInTx: %v", err)
		}
		if err := pub.Publish("doc.received", message.NewMessage(watermill.NewUUID(), []byte(payload))); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatalf("Commit: %v", err)
			}
		}
	}
	publishIn("rolled back", false)
	if got := depth(t, db, "doc.received", "g"); got != 0 {
		t.Fatalf("depth after rollback = %d, want 0", got)
	}
	publishIn("committed", true)
	if got := depth(t, db, "doc.received", "g"); got != 1 {
		t.Fatalf("depth after commit = %d, want 1", got)
	}

	sub := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: "g"})
	ch, err := sub.Subscribe(ctx, "doc.received")
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	m := receive(t, ch)
	if got := string(m.Payload); got != "committed" {
		t.Fatalf("first message = %q, want %q", got, "committed")
	}
	m.Ack()
	// Delivered once: the next message is the sentinel published after.
	publish(t, newPublisher(t, w), "doc.received", "sentinel")
	s := receive(t, ch)
	if got := string(s.Payload); got != "sentinel" {
		t.Fatalf("after ack got %q, want the sentinel", got)
	}
	s.Ack()
}

// stage is a handler that writes a row and publishes the next message in
// the message's transaction, the way every pipeline stage works.
func stage(t *testing.T, w *sqliteq.Writer, pub message.Publisher, msg *message.Message) {
	t.Helper()
	tx, ok := sqliteq.TxFromContext(msg.Context())
	if !ok {
		t.Fatal("message without transaction")
	}
	if _, err := tx.ExecContext(msg.Context(), `INSERT INTO effects (msg) VALUES (?)`, string(msg.Payload)); err != nil {
		t.Fatalf("writing effect: %v", err)
	}
	next := message.NewMessage(watermill.NewUUID(), msg.Payload)
	next.SetContext(msg.Context()) // joins the message's transaction
	if err := pub.Publish("order.parsed", next); err != nil {
		t.Fatalf("publishing next: %v", err)
	}
}

func createEffects(t testing.TB, w *sqliteq.Writer) {
	t.Helper()
	err := w.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE effects (msg TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExactlyOnceEffectAcrossStop: a stage writes a row and publishes the
// next message in the message's transaction; the subscriber is closed
// before the ack reached it (a crash as far as the queue can tell). After a
// restart the row and the next message exist exactly once.
func TestExactlyOnceEffectAcrossStop(t *testing.T) {
	for _, c := range []struct {
		name  string
		grace time.Duration
		late  func(*message.Message) bool // the handler's verdict after Close started
		kept  bool                        // the delivery counts: no redelivery
	}{
		{name: "never acked, no grace", grace: -1},
		{name: "nacked after close", late: (*message.Message).Nack},
		// The handler acked, but the subscriber had stopped waiting: the
		// ack still counts, with its effects.
		{name: "acked after close", late: (*message.Message).Ack, kept: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, db := openDB(t)
			initTopics(t, w, "doc.received", "order.parsed")
			createEffects(t, w)
			pub := newPublisher(t, w)
			publish(t, pub, "doc.received", "doc-1")

			sub, err := sqliteq.NewSubscriber(w, sqliteq.Config{ConsumerGroup: "parse", HandlerGrace: c.grace}, watermill.NopLogger{})
			if err != nil {
				t.Fatal(err)
			}
			ch, err := sub.Subscribe(context.Background(), "doc.received")
			if err != nil {
				t.Fatal(err)
			}
			m := receive(t, ch)
			stage(t, w, pub, m)
			closed := make(chan error)
			go func() { closed <- sub.Close() }()
			if c.late != nil {
				<-m.Context().Done() // the subscriber has stopped waiting for this ack
				c.late(m)
			}
			if err := <-closed; err != nil {
				t.Fatalf("Close: %v", err)
			}
			want := 0
			if c.kept {
				want = 1
			}
			if got := count(t, db, `SELECT COUNT(*) FROM effects`); got != want {
				t.Fatalf("effects after stop = %d, want %d", got, want)
			}
			if got := depth(t, db, "doc.received", "parse"); got != int64(1-want) {
				t.Fatalf("depth after stop = %d, want %d", got, 1-want)
			}

			// Restart: an uncounted message comes again and is handled once.
			publish(t, pub, "doc.received", "sentinel")
			sub2 := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: "parse"})
			ch2, err := sub2.Subscribe(context.Background(), "doc.received")
			if err != nil {
				t.Fatal(err)
			}
			if !c.kept {
				m2 := receive(t, ch2)
				if got := string(m2.Payload); got != "doc-1" {
					t.Fatalf("redelivered %q, want doc-1", got)
				}
				stage(t, w, pub, m2)
				m2.Ack()
			}
			s := receive(t, ch2)
			if got := string(s.Payload); got != "sentinel" {
				t.Fatalf("got %q, want the sentinel", got)
			}
			s.Ack()
			if err := sub2.Close(); err != nil { // commits the batch
				t.Fatal(err)
			}
			if got := count(t, db, `SELECT COUNT(*) FROM effects WHERE msg = 'doc-1'`); got != 1 {
				t.Errorf("effect rows = %d, want 1", got)
			}
			if got := count(t, db, `SELECT COUNT(*) FROM `+sqliteq.MessagesTable("order.parsed")+` WHERE payload = CAST('doc-1' AS BLOB)`); got != 1 {
				t.Errorf("next messages = %d, want 1", got)
			}
		})
	}
}

// TestNackRollsBackDelivery: the writes of a nacked delivery are rolled
// back before the message comes again.
func TestNackRollsBackDelivery(t *testing.T) {
	w, db := openDB(t)
	initTopics(t, w, "doc.received", "order.parsed")
	createEffects(t, w)
	pub := newPublisher(t, w)
	publish(t, pub, "doc.received", "doc-1", "sentinel")

	sub := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: "parse"})
	ch, err := sub.Subscribe(context.Background(), "doc.received")
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		m := receive(t, ch)
		if got := string(m.Payload); got != "doc-1" {
			t.Fatalf("attempt %d got %q, want doc-1", attempt, got)
		}
		stage(t, w, pub, m)
		if attempt < 3 {
			m.Nack()
			continue
		}
		m.Ack()
	}
	m := receive(t, ch) // the sentinel: its delivery means doc-1's batch moved on
	m.Ack()
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM effects`); got != 1 {
		t.Errorf("effect rows = %d, want 1", got)
	}
	if got := depth(t, db, "order.parsed", "normalize"); got != 1 {
		t.Errorf("next messages = %d, want 1", got)
	}
}

// TestCloseMidBatchLosesNothing: a subscriber closed in the middle of a
// batch keeps what was acked and loses nothing else (watermill-sql's queue
// adapters lost 40 of 50 here).
func TestCloseMidBatchLosesNothing(t *testing.T) {
	w, db := openDB(t)
	initTopics(t, w, "t")
	pub := newPublisher(t, w)
	var payloads []string
	for i := range 50 {
		payloads = append(payloads, fmt.Sprint(i))
	}
	publish(t, pub, "t", payloads...)

	seen := map[string]int{}
	sub, err := sqliteq.NewSubscriber(w, sqliteq.Config{ConsumerGroup: "g", BatchSize: 100}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		m := receive(t, ch)
		seen[string(m.Payload)]++
		m.Ack()
	}
	// The 11th is held unacked: once it is here, the 10th ack has been
	// taken by the subscriber.
	held := receive(t, ch)
	go func() {
		<-held.Context().Done()
		held.Nack()
	}()
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if got := depth(t, db, "t", "g"); got != 40 {
		t.Fatalf("depth after close = %d, want 40", got)
	}

	sub2 := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: "g"})
	ch2, err := sub2.Subscribe(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	for range 40 {
		m := receive(t, ch2)
		seen[string(m.Payload)]++
		m.Ack()
	}
	for _, p := range payloads {
		if seen[p] != 1 {
			t.Errorf("message %s delivered %d times, want 1", p, seen[p])
		}
	}
}

// TestConsumerGroups: every group gets every message.
func TestConsumerGroups(t *testing.T) {
	w, db := openDB(t)
	initTopics(t, w, "t")
	pub := newPublisher(t, w)
	want := publish(t, pub, "t", "a", "b", "c", "d", "e")
	for _, group := range []string{"billing", "audit"} {
		sub := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: group})
		ch, err := sub.Subscribe(context.Background(), "t")
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range want {
			m := receive(t, ch)
			if m.UUID != id {
				t.Fatalf("group %s message %d = %s, want %s", group, i, m.UUID, id)
			}
			m.Ack()
		}
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		if got := depth(t, db, "t", group); got != 0 {
			t.Errorf("group %s depth = %d, want 0", group, got)
		}
	}
}

// consume acks n messages of topic for group and holds the next one
// unacked while closing, so that exactly n are acked.
func consume(t *testing.T, w *sqliteq.Writer, topic, group string, n int, more bool) {
	t.Helper()
	sub, err := sqliteq.NewSubscriber(w, sqliteq.Config{ConsumerGroup: group}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		receive(t, ch).Ack()
	}
	if more {
		held := receive(t, ch)
		go func() {
			<-held.Context().Done()
			held.Nack()
		}()
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTrim: retention deletes only messages every group acked, and offsets
// are not reused after the newest rows were deleted.
func TestTrim(t *testing.T) {
	w, db := openDB(t)
	ctx := context.Background()
	initTopics(t, w, "t")
	pub := newPublisher(t, w)
	publish(t, pub, "t", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
	consume(t, w, "t", "fast", 10, false)
	consume(t, w, "t", "slow", 4, true)
	rows := func() int { return count(t, db, `SELECT COUNT(*) FROM `+sqliteq.MessagesTable("t")) }

	if n, err := sqliteq.Trim(ctx, w, "t", time.Hour); err != nil || n != 0 || rows() != 10 {
		t.Fatalf("Trim with 1h grace = %d, %v (rows %d), want 0 deleted", n, err, rows())
	}
	if n, err := sqliteq.Trim(ctx, w, "t", 0); err != nil || n != 4 || rows() != 6 {
		t.Fatalf("Trim = %d, %v (rows %d), want 4 deleted, 6 left", n, err, rows())
	}
	consume(t, w, "t", "slow", 6, false)
	if n, err := sqliteq.Trim(ctx, w, "t", 0); err != nil || n != 6 || rows() != 0 {
		t.Fatalf("Trim = %d, %v (rows %d), want 6 deleted, 0 left", n, err, rows())
	}
	// AUTOINCREMENT: the next message gets offset 11, so both groups see it.
	publish(t, pub, "t", "11")
	for _, g := range []string{"fast", "slow"} {
		if got := depth(t, db, "t", g); got != 1 {
			t.Errorf("group %s depth after trim and publish = %d, want 1", g, got)
		}
	}
}

// TestNestedWrite: a handler that begins a transaction of its own gets an
// error at once instead of waiting for the lock its message holds.
func TestNestedWrite(t *testing.T) {
	w, _ := openDB(t)
	initTopics(t, w, "t")
	publish(t, newPublisher(t, w), "t", "x")
	sub := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: "g"})
	ch, err := sub.Subscribe(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	m := receive(t, ch)
	defer m.Ack()
	if _, err := w.BeginTx(m.Context(), nil); !errors.Is(err, sqliteq.ErrNestedWrite) {
		t.Fatalf("BeginTx in handler = %v, want ErrNestedWrite", err)
	}
	if _, ok := wsql.TxFromContext(m.Context()); !ok {
		t.Fatal("watermill-sql's TxFromContext finds no transaction")
	}
}

// TestLockTimeout: a second writer gives up after the lock timeout.
func TestLockTimeout(t *testing.T) {
	_, db := openDB(t)
	w := sqliteq.NewWriter(db, time.Millisecond)
	tx, err := w.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := w.BeginTx(context.Background(), nil); !errors.Is(err, sqliteq.ErrLockTimeout) {
		t.Fatalf("second BeginTx = %v, want ErrLockTimeout", err)
	}
}

// TestSharedLock: a Writer built on another lock (the store's) takes it
// for every write transaction and releases it.
func TestSharedLock(t *testing.T) {
	_, db := openDB(t)
	gate := make(chan struct{}, 1)
	var taken int
	w := sqliteq.NewWriterWithLock(db, func(ctx context.Context) (func(), error) {
		select {
		case gate <- struct{}{}:
			taken++
			return func() { <-gate }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, 0)
	initTopics(t, w, "t")
	publish(t, newPublisher(t, w), "t", "x")
	if taken != 2 {
		t.Errorf("lock taken %d times, want 2 (schema, publish)", taken)
	}
	if len(gate) != 0 {
		t.Error("lock still held")
	}
}

// TestTopicNames: topics differing only in case get their own tables;
// topics that cannot name a table are refused.
func TestTopicNames(t *testing.T) {
	w, db := openDB(t)
	initTopics(t, w, "Orders", "orders")
	pub := newPublisher(t, w)
	publish(t, pub, "Orders", "upper")
	if got := count(t, db, `SELECT COUNT(*) FROM `+sqliteq.MessagesTable("orders")); got != 0 {
		t.Errorf("orders has %d messages of Orders", got)
	}
	err := pub.Publish(`x"; DROP TABLE y; --`, message.NewMessage(watermill.NewUUID(), nil))
	if !errors.Is(err, wsql.ErrInvalidTopicName) {
		t.Errorf("Publish to a bad topic = %v, want ErrInvalidTopicName", err)
	}
	if _, err := sqliteq.Depth(context.Background(), db, "", "g"); !errors.Is(err, wsql.ErrInvalidTopicName) {
		t.Errorf("Depth of empty topic = %v, want ErrInvalidTopicName", err)
	}
}

// TestLargePublish: one Publish of more rows than one statement can bind.
func TestLargePublish(t *testing.T) {
	w, db := openDB(t)
	initTopics(t, w, "t")
	msgs := make([]*message.Message, 12000)
	for i := range msgs {
		msgs[i] = message.NewMessage(watermill.NewUUID(), []byte(fmt.Sprint(i)))
	}
	if err := newPublisher(t, w).Publish("t", msgs...); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM `+sqliteq.MessagesTable("t")); got != len(msgs) {
		t.Fatalf("rows = %d, want %d", got, len(msgs))
	}
	var last string
	if err := db.QueryRow(`SELECT CAST(payload AS TEXT) FROM ` + sqliteq.MessagesTable("t") + ` ORDER BY "offset" DESC LIMIT 1`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if last != "11999" {
		t.Errorf("last payload = %s, want 11999 (order kept)", last)
	}
}

// TestPeekKeepsIdlePollsOffTheLock: with Config.Peek, a subscriber whose
// topic has nothing for its group does not take the write lock to find
// that out, and still receives (and acks, once) what is published later.
// Without a peek every poll takes the lock.
func TestPeekKeepsIdlePollsOffTheLock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		peek      bool
		idleLocks func(n int64) bool
		want      string
	}{
		{"peek", true, func(n int64) bool { return n == 0 }, "no lock"},
		{"no peek", false, func(n int64) bool { return n >= 1 }, "some"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _, db := openDBAt(t)
			var taken atomic.Int64
			var mu sync.Mutex
			w := sqliteq.NewWriterWithLock(db, func(ctx context.Context) (func(), error) {
				mu.Lock()
				taken.Add(1)
				return mu.Unlock, nil
			}, 0)
			initTopics(t, w, "t")
			cfg := sqliteq.Config{ConsumerGroup: "g", PollInterval: time.Millisecond}
			if tc.peek {
				// Another pool, as the store's read pool is.
				reader, err := sql.Open("sqlite3", "file:"+path+"?_query_only=1")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { reader.Close() })
				cfg.Peek = reader
			}
			sub := newSubscriber(t, w, cfg)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ch, err := sub.Subscribe(ctx, "t")
			if err != nil {
				t.Fatal(err)
			}
			start := taken.Load() // Subscribe registers the group under the lock
			time.Sleep(50 * time.Millisecond)
			if idle := taken.Load() - start; !tc.idleLocks(idle) {
				t.Errorf("an idle topic took the write lock %d times in 50 polls, want %s", idle, tc.want)
			}
			publish(t, newPublisher(t, w), "t", "a", "b")
			for _, want := range []string{"a", "b"} {
				m := receive(t, ch)
				if string(m.Payload) != want {
					t.Fatalf("received %q, want %q", m.Payload, want)
				}
				m.Ack()
			}
			deadline := time.Now().Add(30 * time.Second)
			for depth(t, db, "t", "g") != 0 {
				if time.Now().After(deadline) {
					t.Fatal("the acks were not committed within 30s")
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// TestChangedWakesIdlePolls: Writer.Changed is closed by a commit, not by
// a rollback; an idle subscriber with Peek waits for it, so a message
// published through the Writer is delivered at once although the idle
// wait is long, and one written behind the Writer's back is found after
// the idle wait.
func TestChangedWakesIdlePolls(t *testing.T) {
	path, w, _ := openDBAt(t)
	initTopics(t, w, "t")

	changed := w.Changed()
	if err := w.InTx(context.Background(), func(tx *sql.Tx) error { return errors.New("roll back") }); err == nil {
		t.Fatal("InTx with a failing function succeeded")
	}
	select {
	case <-changed:
		t.Fatal("a rollback closed Changed")
	default:
	}
	if err := w.InTx(context.Background(), func(tx *sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("a commit did not close Changed")
	}

	reader, err := sql.Open("sqlite3", "file:"+path+"?_query_only=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	const idle = 2 * time.Second
	sub := newSubscriber(t, w, sqliteq.Config{ConsumerGroup: "g", PollInterval: time.Millisecond, Peek: reader, IdleWait: idle})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := sub.Subscribe(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // idle: the poll waits
	start := time.Now()
	publish(t, newPublisher(t, w), "t", "a")
	m := receive(t, ch)
	m.Ack()
	if d := time.Since(start); d >= idle/2 {
		t.Errorf("a message published through the writer took %s, want well under the idle wait %s", d, idle)
	}

	// Behind the writer's back (another process): found after the idle
	// wait at the latest.
	time.Sleep(50 * time.Millisecond)
	other, err := sql.Open("sqlite3", "file:"+path+writerDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	otherW := sqliteq.NewWriter(other, 0)
	start = time.Now()
	publish(t, newPublisher(t, otherW), "t", "b")
	m = receive(t, ch)
	m.Ack()
	if d := time.Since(start); d > idle+time.Second {
		t.Errorf("a message written by another writer took %s, want at most about the idle wait %s", d, idle)
	}
}
