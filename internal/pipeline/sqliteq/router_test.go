package sqliteq_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
)

// chain builds a router whose stages read topic[i], write a row
// "<topic>:<payload>" in the message's transaction and publish to
// topic[i+1]; the last stage only records. fail decides whether an attempt
// fails after its write. onRecord runs after the last stage's write.
func chain(t testing.TB, w *sqliteq.Writer, topics []string, fail func(topic string, msg *message.Message) bool, onRecord func()) *message.Router {
	t.Helper()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: time.Minute}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	router.AddMiddleware(
		middleware.Retry{MaxRetries: 3, InitialInterval: time.Millisecond, Multiplier: 1}.Middleware,
		sqliteq.Transactional,
	)
	pub, err := sqliteq.NewPublisher(w, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(topic string, msg *message.Message) error {
		tx, _ := sqliteq.TxFromContext(msg.Context())
		_, err := tx.ExecContext(msg.Context(), `INSERT INTO effects (msg) VALUES (?)`, topic+":"+string(msg.Payload))
		if err != nil {
			return err
		}
		if fail != nil && fail(topic, msg) {
			return errors.New("attempt failed after its write")
		}
		return nil
	}
	for i, topic := range topics {
		sub, err := sqliteq.NewSubscriber(w, sqliteq.Config{ConsumerGroup: "stage-" + topic}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		if i == len(topics)-1 {
			router.AddConsumerHandler(topic, topic, sub, func(msg *message.Message) error {
				if err := write(topic, msg); err != nil {
					return err
				}
				if onRecord != nil {
					onRecord()
				}
				return nil
			})
			continue
		}
		router.AddHandler(topic, topic, sub, topics[i+1], pub, func(msg *message.Message) ([]*message.Message, error) {
			if err := write(topic, msg); err != nil {
				return nil, err
			}
			return []*message.Message{message.NewMessage(watermill.NewUUID(), msg.Payload)}, nil
		})
	}
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

// TestRouterChain: stages on a watermill router, with the retry middleware
// around Transactional and NewPublisher as the router's publisher. An
// attempt that fails after writing leaves nothing behind, and every stage's
// effect and message exist exactly once.
func TestRouterChain(t *testing.T) {
	w, db := openDB(t)
	topics := []string{"doc.received", "order.parsed", "order.normalized"}
	initTopics(t, w, topics...)
	createEffects(t, w)

	var failures atomic.Int32
	fail := func(topic string, msg *message.Message) bool {
		// Every fifth document fails twice in the middle stage.
		return topic == "order.parsed" && string(msg.Payload)[0] == '5' && failures.Add(1)%3 != 0
	}
	const n = 60
	var recorded atomic.Int32
	allRecorded := make(chan struct{})
	router := chain(t, w, topics, fail, func() {
		if recorded.Add(1) == n {
			close(allRecorded)
		}
	})
	stop := runRouter(t, router)

	pub := newPublisher(t, w)
	for i := range n {
		publish(t, pub, "doc.received", fmt.Sprintf("%d-%d", i%10, i))
	}
	select {
	case <-allRecorded:
	case <-time.After(time.Minute):
		t.Fatalf("recorded %d of %d within a minute", recorded.Load(), n)
	}
	stop()

	for _, topic := range topics {
		if got := count(t, db, `SELECT COUNT(*) FROM effects WHERE msg LIKE ? || ':%'`, topic); got != n {
			t.Errorf("%s effects = %d, want %d", topic, got, n)
		}
		if got := count(t, db, `SELECT COUNT(DISTINCT msg) FROM effects WHERE msg LIKE ? || ':%'`, topic); got != n {
			t.Errorf("%s distinct effects = %d, want %d", topic, got, n)
		}
		if got := depth(t, db, topic, "stage-"+topic); got != 0 {
			t.Errorf("%s depth = %d, want 0", topic, got)
		}
	}
	for _, topic := range topics[1:] {
		if got := count(t, db, `SELECT COUNT(*) FROM `+sqliteq.MessagesTable(topic)); got != n {
			t.Errorf("%s messages = %d, want %d", topic, got, n)
		}
	}
	if failures.Load() == 0 {
		t.Error("no attempt failed: the test checks nothing about rollbacks")
	}
}

// BenchmarkChain: orders through a 3-stage chain (publish -> A -> B -> C,
// C records) on a file database with synchronous=FULL. Ingress publishes
// 100 orders per transaction; each stage reads batches of 100.
func BenchmarkChain(b *testing.B) {
	w, _ := openDB(b)
	topics := []string{"a", "b", "c"}
	initTopics(b, w, topics...)
	createEffects(b, w)
	var recorded atomic.Int64
	var target atomic.Int64
	target.Store(-1)
	allRecorded := make(chan struct{})
	router := chain(b, w, topics, nil, func() {
		if recorded.Add(1) == target.Load() {
			close(allRecorded)
		}
	})
	stop := runRouter(b, router)
	defer stop()
	pub, err := sqliteq.NewPublisher(w, watermill.NopLogger{})
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	start := time.Now()
	target.Store(int64(b.N))
	for sent := 0; sent < b.N; {
		batch := make([]*message.Message, 0, 100)
		for ; sent < b.N && len(batch) < 100; sent++ {
			batch = append(batch, message.NewMessage(watermill.NewUUID(), []byte(fmt.Sprintf(`{"order":%d}`, sent))))
		}
		if err := pub.Publish("a", batch...); err != nil {
			b.Fatal(err)
		}
	}
	<-allRecorded
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "orders/s")
	b.ReportMetric(3*float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
