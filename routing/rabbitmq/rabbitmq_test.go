package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govalues/decimal"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ordergate/ordergate/internal/testenv"
	rmqenv "github.com/ordergate/ordergate/internal/testenv/rabbitmq"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/rabbitmq"
	"github.com/ordergate/ordergate/routing/routingtest"
)

// One broker for the package: it takes about 10 s to start.
var (
	sharedOnce sync.Once
	sharedSrv  *rmqenv.Server
	sharedErr  error
	queueSeq   atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedSrv != nil {
		if err := sharedSrv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the test broker:", err)
		}
	}
	os.Exit(code)
}

func broker(tb testing.TB) *rmqenv.Server {
	tb.Helper()
	if why := rmqenv.Unavailable(); why != "" {
		testenv.Unavailable(tb, why)
	}
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), rmqenv.StartTimeout)
		defer cancel()
		began := time.Now()
		sharedSrv, sharedErr = rmqenv.Launch(ctx)
		tb.Logf("broker start-up took %v", time.Since(began).Round(time.Millisecond))
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return sharedSrv
}

// noKillFlush shortens the wait for a declared queue's definition in
// tests that never kill the broker (the default is 3 s per new queue).
const noKillFlush = 10 * time.Millisecond

func newQueue(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, queueSeq.Add(1))
}

func open(tb testing.TB, cfg rabbitmq.Config) *rabbitmq.Backend {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := rabbitmq.New(ctx, cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// drain consumes everything in queue.
func drain(tb testing.TB, url, queue string) []amqp.Delivery {
	tb.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		tb.Fatalf("queue %s: %v", queue, err)
	}
	if q.Messages == 0 {
		return nil
	}
	if err := ch.Qos(2000, 0, false); err != nil {
		tb.Fatal(err)
	}
	msgs, err := ch.Consume(queue, "", true, true, false, false, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var got []amqp.Delivery
	timeout := time.After(60 * time.Second)
	for len(got) < q.Messages {
		select {
		case m := <-msgs:
			got = append(got, m)
		case <-timeout:
			tb.Fatalf("queue %s: read %d of %d messages", queue, len(got), q.Messages)
		}
	}
	return got
}

func TestConformance(t *testing.T) {
	srv := broker(t)
	routingtest.Run(t, func(t *testing.T) routingtest.Destination {
		queue := newQueue("conformance")
		var arts []routingtest.Artifact
		return routingtest.Destination{
			Open: func(t *testing.T) routing.Backend {
				return open(t, rabbitmq.Config{Name: "broker", URL: srv.URL(), Queue: queue, DefinitionFlush: noKillFlush})
			},
			Artifacts: func(t *testing.T) []routingtest.Artifact {
				for _, m := range drain(t, srv.URL(), queue) {
					if h := m.Headers[rabbitmq.HeaderKey]; h != m.MessageId {
						t.Errorf("message %s has key header %v", m.MessageId, h)
					}
					arts = append(arts, routingtest.Artifact{Key: m.MessageId, Body: m.Body})
				}
				return arts
			},
			Dedupes: false,
		}
	})
}

func TestMessageProperties(t *testing.T) {
	srv := broker(t)
	tests := []struct {
		name  string
		cfg   rabbitmq.Config
		queue string
	}{
		{"queue", rabbitmq.Config{Queue: "props-q"}, "props-q"},
		{"exchange and routing key", rabbitmq.Config{Queue: "props-xq", Exchange: "props-x", ExchangeType: "topic", RoutingKey: "orders.accepted"}, "props-xq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Name, cfg.URL, cfg.DefinitionFlush = "broker", srv.URL(), noKillFlush
			at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
			cfg.Clock = func() time.Time { return at }
			b := open(t, cfg)
			defer b.Close(context.Background())
			d := routingtest.Delivery(t, 1, 2)
			r, err := b.Deliver(context.Background(), d)
			if err != nil {
				t.Fatal(err)
			}
			if r.ExternalRef != d.Key || !r.At.Equal(at) || r.Duplicate || !strings.Contains(r.Detail, "confirmed") {
				t.Errorf("receipt = %+v", r)
			}
			msgs := drain(t, srv.URL(), tt.queue)
			if len(msgs) != 1 {
				t.Fatalf("%d messages in %s, want 1", len(msgs), tt.queue)
			}
			m := msgs[0]
			checks := []struct {
				what      string
				got, want any
			}{
				{"delivery mode", m.DeliveryMode, amqp.Persistent},
				{"content type", m.ContentType, d.Payload.ContentType},
				{"message id", m.MessageId, d.Key},
				{"key header", m.Headers[rabbitmq.HeaderKey], d.Key},
				{"order id header", m.Headers[rabbitmq.HeaderOrderID], d.OrderID},
				{"revision header", m.Headers[rabbitmq.HeaderRevision], int64(2)},
				{"format header", m.Headers[rabbitmq.HeaderFormat], string(d.Payload.Format)},
				{"timestamp", m.Timestamp.UTC(), at},
				{"body", string(m.Body), string(d.Payload.Body)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

// TestExistingQueueKept: a queue that exists with other arguments (a
// quorum queue) is used as it is, not redeclared.
func TestExistingQueueKept(t *testing.T) {
	srv := broker(t)
	conn, err := amqp.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("quorum-orders", true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	b := open(t, rabbitmq.Config{Name: "broker", URL: srv.URL(), Queue: "quorum-orders"})
	defer b.Close(context.Background())
	d := routingtest.Delivery(t, 1, 1)
	if _, err := b.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if msgs := drain(t, srv.URL(), "quorum-orders"); len(msgs) != 1 || msgs[0].MessageId != d.Key {
		t.Errorf("quorum queue holds %d messages, want %s", len(msgs), d.Key)
	}
}

// TestNackIsAnError: a queue that rejects publishes beyond its length
// makes the broker nack; Deliver fails (retryably) instead of reporting
// success.
func TestNackIsAnError(t *testing.T) {
	srv := broker(t)
	conn, err := amqp.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("full", true, false, false, false, amqp.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"}); err != nil {
		t.Fatal(err)
	}
	b := open(t, rabbitmq.Config{Name: "broker", URL: srv.URL(), Queue: "full"})
	defer b.Close(context.Background())
	if _, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1)); err != nil {
		t.Fatalf("first Deliver into an empty queue: %v", err)
	}
	_, err = b.Deliver(context.Background(), routingtest.Delivery(t, 2, 1))
	if err == nil || !strings.Contains(err.Error(), "nacked") {
		t.Errorf("Deliver into a full reject-publish queue = %v, want a nack error", err)
	}
	if errors.Is(err, routing.ErrPermanent) {
		t.Errorf("a nack must stay retryable: %v", err)
	}
	// The backend goes on working once there is room.
	if _, err := ch.QueuePurge("full", false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Deliver(context.Background(), routingtest.Delivery(t, 2, 1)); err != nil {
		t.Errorf("Deliver after the queue drained: %v", err)
	}
}

// TestUnroutableIsAnError: a message no queue takes is returned by the
// broker, and Deliver fails (retryably) instead of reporting success.
func TestUnroutableIsAnError(t *testing.T) {
	srv := broker(t)
	b := open(t, rabbitmq.Config{Name: "broker", URL: srv.URL(), Exchange: "nowhere", RoutingKey: "unbound"})
	defer b.Close(context.Background())
	for i := range 3 {
		_, err := b.Deliver(context.Background(), routingtest.Delivery(t, i, 1))
		if err == nil || !strings.Contains(err.Error(), "unroutable") {
			t.Errorf("Deliver to an unbound routing key = %v, want an unroutable error", err)
		}
		if errors.Is(err, routing.ErrPermanent) {
			t.Errorf("unroutable must stay retryable (a binding may be added): %v", err)
		}
	}
}

func TestNewFailsWhenUnreachableWithoutLeakingPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = rabbitmq.New(ctx, rabbitmq.Config{Name: "broker", URL: "amqp://ordergate:s3cret-pw@127.0.0.1:" + strconv.Itoa(port) + "/", Queue: "q"}, nil)
	if err == nil {
		t.Fatal("New with no broker listening succeeded")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  rabbitmq.Config
		want []string
	}{
		{rabbitmq.Config{Name: "a", URL: "amqp://u:p@h:5672/", Queue: "q"}, nil},
		{rabbitmq.Config{Name: "a", URL: "amqps://u:p@h/vh", Exchange: "x"}, nil},
		{rabbitmq.Config{}, []string{"name is required", "url is required", "queue or exchange is required"}},
		{rabbitmq.Config{Name: "a", URL: "http://u:s3cret@h/", Queue: "q"}, []string{"not an AMQP URI"}},
		{rabbitmq.Config{Name: "a", URL: "amqp://u:s3cret@h:%zz/", Queue: "q"}, []string{"not an AMQP URI"}},
		{rabbitmq.Config{Name: "a", URL: "amqp://h/", Queue: "q", ConfirmTimeout: -1}, []string{"confirm timeout -1ns is negative"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == nil) {
			t.Fatalf("Validate(%+v) = %v, want errors %q", tt.cfg.Name, err, tt.want)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate = %q, want it to contain %q", err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Validate leaks the password: %v", err)
		}
	}
}

// TestKilledRightAfterDeclare: RabbitMQ keeps a new queue's definition
// in Mnesia's log cache for up to 2 s, and a publisher confirm covers only
// the message, so a backend that reported a delivery into a queue it had
// just declared could lose both to a crash. Two backends declare a queue
// each; the broker is killed with SIGKILL the moment the first one's
// Deliver returns, while the second one's queue is still inside its
// window. After the restart the first queue holds its confirmed message,
// and the second Deliver failed (retryably) instead of reporting success.
func TestKilledRightAfterDeclare(t *testing.T) {
	srv := broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := func(queue string) rabbitmq.Config {
		return rabbitmq.Config{Name: "broker", URL: srv.URL(), Queue: queue, DialTimeout: 2 * time.Second}
	}

	kept, late := newQueue("declared"), newQueue("declared-late")
	began := time.Now()
	first := open(t, cfg(kept))
	defer first.Close(ctx)
	d := routingtest.Delivery(t, 1, 1)
	firstErr := make(chan error, 1)
	go func() {
		_, err := first.Deliver(ctx, d)
		firstErr <- err
	}()
	secondErr := make(chan error, 1)
	go func() {
		time.Sleep(rabbitmq.DefaultDefinitionFlush / 3)
		second, err := rabbitmq.New(ctx, cfg(late), nil)
		if err != nil {
			secondErr <- err
			return
		}
		defer second.Close(ctx)
		_, err = second.Deliver(ctx, routingtest.Delivery(t, 2, 1))
		secondErr <- err
	}()

	err := <-firstErr
	waited := time.Since(began)
	if killErr := srv.Kill(); killErr != nil {
		t.Fatal(killErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if waited < rabbitmq.DefaultDefinitionFlush {
		t.Errorf("the first Deliver into a new queue returned after %v, inside the %v window", waited, rabbitmq.DefaultDefinitionFlush)
	}
	if err := <-secondErr; err == nil || errors.Is(err, routing.ErrPermanent) {
		t.Errorf("Deliver with the broker killed inside the window = %v, want a retryable error", err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := drain(t, srv.URL(), kept)
	if len(msgs) != 1 || msgs[0].MessageId != d.Key {
		t.Errorf("after the kill queue %s holds %d messages, want the confirmed %s", kept, len(msgs), d.Key)
	}
	// Later deliveries do not wait: the definition is stored.
	start := time.Now()
	if _, err := first.Deliver(ctx, routingtest.Delivery(t, 3, 1)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a Deliver into the stored queue took %v", took)
	}
}

// TestBrokerKilledTwice delivers 10,000 orders with a few workers that
// retry on error, as the pipeline does, while the broker is killed with
// SIGKILL and restarted at 1/3 and at 1/2. Every key is in the queue
// afterwards (duplicates allowed), above all every key whose Deliver
// returned nil.
func TestBrokerKilledTwice(t *testing.T) {
	srv := broker(t)
	const (
		n       = 10000
		workers = 8
	)
	queue := newQueue("killed")
	b := open(t, rabbitmq.Config{Name: "broker", URL: srv.URL(), Queue: queue,
		DialTimeout: 2 * time.Second, MaxBackoff: 300 * time.Millisecond, ConfirmTimeout: 10 * time.Second})
	defer b.Close(context.Background())
	ds := make([]routing.Delivery, n)
	for i := range ds {
		ds[i] = routingtest.Delivery(t, i, 1)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var (
		confirmed = make([]atomic.Bool, n)
		done      atomic.Int64
		failures  atomic.Int64
		wg        sync.WaitGroup
		jobs      = make(chan int)
	)
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				d := ds[i]
				for {
					_, err := b.Deliver(ctx, d)
					if err == nil {
						confirmed[i].Store(true)
						done.Add(1)
						break
					}
					if ctx.Err() != nil {
						return
					}
					if errors.Is(err, routing.ErrPermanent) {
						t.Errorf("%s: permanent error: %v", d.Key, err)
						break
					}
					failures.Add(1)
					d.Attempt++
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}

	for k, at := range []int64{n / 3, n / 2} {
		for done.Load() < at && ctx.Err() == nil {
			time.Sleep(2 * time.Millisecond)
		}
		if err := srv.Kill(); err != nil {
			t.Fatal(err)
		}
		t.Logf("kill %d at %d confirmed", k+1, done.Load())
		if k == 0 {
			// While the broker is down, Deliver fails, retryably.
			dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := b.Deliver(dctx, routingtest.Delivery(t, n+1, 1))
			dcancel()
			if err == nil || errors.Is(err, routing.ErrPermanent) {
				t.Errorf("Deliver while the broker is down = %v, want a retryable error", err)
			}
		}
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("deliveries did not finish: %d of %d confirmed", done.Load(), n)
	}

	seen := map[string]int{}
	for _, m := range drain(t, srv.URL(), queue) {
		seen[m.MessageId]++
	}
	var missing, lostConfirmed, dups int
	for i, d := range ds {
		c := seen[d.Key]
		if c == 0 {
			missing++
			if confirmed[i].Load() {
				lostConfirmed++
			}
		}
		if c > 1 {
			dups += c - 1
		}
	}
	t.Logf("%d orders, %d confirmed, %d failed attempts retried, %d duplicates in the queue", n, done.Load(), failures.Load(), dups)
	if missing > 0 || lostConfirmed > 0 {
		t.Errorf("%d keys missing from the queue, %d of them confirmed (Deliver returned nil)", missing, lostConfirmed)
	}
	if done.Load() != n {
		t.Errorf("%d of %d deliveries confirmed", done.Load(), n)
	}
	if failures.Load() == 0 {
		t.Error("no Deliver failed across two broker kills")
	}
	for k, c := range seen {
		if !strings.HasPrefix(k, "ord_test_") {
			t.Errorf("unexpected message %q (x%d)", k, c)
		}
	}
}

// BenchmarkRabbitMQDeliver delivers orders with confirms from concurrent
// workers, like the pipeline's delivery workers, into one durable queue.
func BenchmarkRabbitMQDeliver(b *testing.B) {
	srv := broker(b)
	d := benchDelivery(b)
	for _, workers := range []int{8, 16, 32} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			be := open(b, rabbitmq.Config{Name: "broker", URL: srv.URL(), Queue: newQueue("bench")})
			defer be.Close(context.Background())
			b.SetBytes(int64(len(d.Payload.Body)))
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := be.Deliver(context.Background(), d); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
		})
	}
}

// benchDelivery is an order of 3 lines rendered as JSON.
func benchDelivery(tb testing.TB) routing.Delivery {
	o := &order.Order{ID: "ord_bench_0001", Channel: order.ChannelEDI, Purpose: order.PurposeOriginal,
		Source: order.Source{Standard: "X12", SenderID: "BAUMARKTNORD"}, PONumber: "4500012345", Currency: "EUR"}
	for i := range 3 {
		o.Lines = append(o.Lines, order.Line{LineNo: strconv.Itoa(i + 1), Quantity: decimal.MustNew(24, 0), Unit: "EA", SKU: "SCR-100"})
	}
	p, err := routing.RenderJSON(o)
	if err != nil {
		tb.Fatal(err)
	}
	d, err := routing.NewDelivery(o, 1, p)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
