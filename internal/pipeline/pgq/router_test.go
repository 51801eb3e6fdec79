package pgq_test

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
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/ordergate/ordergate/internal/pipeline/pgq"
)

// queue is the pipeline's Queue interface (internal/pipeline/queue.go),
// which *pgq.Queue implements.
type queue interface {
	InitializeSchema(ctx context.Context, topics ...string) error
	InTx(ctx context.Context, fn func(tx *sql.Tx) error) error
	NewPublisherInTx(tx *sql.Tx) (message.Publisher, error)
	NewSubscriber(group string) (message.Subscriber, error)
	Transactional(h message.HandlerFunc) message.HandlerFunc
	TxFromContext(ctx context.Context) (*sql.Tx, bool)
	Depth(ctx context.Context, topic, group string) (int64, error)
	Retain(ctx context.Context, topics ...string) error
}

var _ queue = (*pgq.Queue)(nil)

// writeEffect records "<topic>:<payload>" once in the message's
// transaction (a second commit of the same effect fails the test through
// the count).
func writeEffect(q *pgq.Queue, topic string, msg *message.Message) error {
	tx, ok := q.TxFromContext(msg.Context())
	if !ok {
		return pgq.ErrNoTx
	}
	_, err := tx.ExecContext(msg.Context(), `INSERT INTO effects (id, n) VALUES ($1, 1)
ON CONFLICT (id) DO UPDATE SET n = effects.n + 1`, topic+":"+string(msg.Payload))
	return err
}

// chain builds a router on q with two stages: "doc.received" writes its
// effect and returns the next message (published by q.NewPublisher in the
// same transaction) to "order.parsed"; "order.parsed" writes its effect
// and publishes to "order.normalized" with NewPublisherInTx, as the
// pipeline's stages do. fail decides whether an attempt fails after its
// write.
func chain(t testing.TB, q *pgq.Queue, fail func(topic string, msg *message.Message) bool) *message.Router {
	t.Helper()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	router.AddMiddleware(
		middleware.Retry{MaxRetries: 3, InitialInterval: time.Millisecond, Multiplier: 1}.Middleware,
		q.Transactional,
	)
	attempt := func(topic string, msg *message.Message) error {
		if err := writeEffect(q, topic, msg); err != nil {
			return err
		}
		if fail != nil && fail(topic, msg) {
			return errors.New("attempt failed after its write")
		}
		return nil
	}
	parse, err := q.NewSubscriber("parse")
	if err != nil {
		t.Fatal(err)
	}
	router.AddHandler("parse", "doc.received", parse, "order.parsed", q.NewPublisher(),
		func(msg *message.Message) ([]*message.Message, error) {
			if err := attempt("doc.received", msg); err != nil {
				return nil, err
			}
			return []*message.Message{message.NewMessage(watermill.NewUUID(), msg.Payload)}, nil
		})
	normalize, err := q.NewSubscriber("normalize")
	if err != nil {
		t.Fatal(err)
	}
	router.AddConsumerHandler("normalize", "order.parsed", normalize, func(msg *message.Message) error {
		if err := attempt("order.parsed", msg); err != nil {
			return err
		}
		tx, _ := q.TxFromContext(msg.Context())
		pub, err := q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		return pub.Publish("order.normalized", message.NewMessage(watermill.NewUUID(), msg.Payload))
	})
	return router
}

func runRouter(t testing.TB, router *message.Router) (stop func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- router.Run(context.Background()) }()
	<-router.Running()
	return func() {
		if err := router.Close(); err != nil {
			t.Errorf("closing router: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("router: %v", err)
		}
	}
}

// failOnce fails the first attempt of every 7th message ("o-00007") in
// each stage, after its write: the write is rolled back with the attempt's
// savepoint and the retry's is kept.
func failOnce(failures *atomic.Int64) func(topic string, msg *message.Message) bool {
	var seen sync.Map
	return func(topic string, msg *message.Message) bool {
		var n int
		if _, err := fmt.Sscanf(string(msg.Payload), "o-%d", &n); err != nil || n%7 != 0 {
			return false
		}
		if _, again := seen.LoadOrStore(topic+":"+string(msg.Payload), true); again {
			return false
		}
		failures.Add(1)
		return true
	}
}

var chainTopics = []string{"doc.received", "order.parsed", "order.normalized"}

func TestRouterChain(t *testing.T) {
	_, db := newDB(t)
	q := newQueue(t, db, fast, chainTopics...)
	want := ids("o", 200)
	var failures atomic.Int64
	stop := runRouter(t, chain(t, q, failOnce(&failures)))
	publish(t, q, "doc.received", want...)
	ctx := context.Background()
	waitFor(t, 20*time.Second, "both stages done", func() bool {
		n, err := q.Depth(ctx, "order.normalized", "decide")
		return err == nil && n == int64(len(want))
	})
	stop()
	got := effects(t, db)
	var all []string
	for _, id := range want {
		all = append(all, "doc.received:"+id, "order.parsed:"+id)
	}
	exactlyOnce(t, got, all)
	if n := failures.Load(); n != 2*29 {
		t.Errorf("%d failed attempts, want 58 (o-00000, o-00007, ... o-00196 in both stages)", n)
	}
	for _, topic := range []string{"doc.received", "order.parsed"} {
		if n, err := q.Depth(ctx, topic, map[string]string{"doc.received": "parse", "order.parsed": "normalize"}[topic]); err != nil || n != 0 {
			t.Errorf("Depth(%s) = %d, %v; want 0", topic, n, err)
		}
	}
}
