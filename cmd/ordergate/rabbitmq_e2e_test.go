package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ordergate/ordergate/internal/testenv/rabbitmq"
	rmq "github.com/ordergate/ordergate/routing/rabbitmq"
)

// rabbitConfig routes every order to a durable queue on the test's
// RabbitMQ.
const rabbitConfig = backendTestHead + `routes:
  - {name: default, to: [broker]}
backends:
  - {name: broker, type: rabbitmq, url_env: OG_RABBITMQ_URL, queue: e2e-orders, initial_backoff: 50ms, max_backoff: 500ms}
`

// TestRabbitMQEndToEnd: ordergate serve delivers routed orders to a
// durable RabbitMQ queue through the outbox while the broker is killed
// (SIGKILL) a third of the way and started again. Every delivered order
// (an outbox row marked sent only on a publisher confirm) is in the
// queue, and every order is delivered: 0 lost, duplicates allowed.
func TestRabbitMQEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	srv := rabbitmq.Start(t)
	// The queue is declared here first and given the broker's definition
	// flush (routing/rabbitmq doc.go) before anything is killed.
	conn, err := amqp.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("e2e-orders", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	declared := time.Now()

	dir, port := newGatewayDir(t)
	writeFile(t, dir, "config.yaml", fmt.Sprintf(rabbitConfig, port))
	g := start(t, dir, port, "OG_RABBITMQ_URL="+srv.URL())
	const n = 200
	for i := range n / 3 {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	waitFor(t, time.Minute, "a third of the orders delivered", func() bool { return len(g.orders("status=delivered")) >= n/3 })
	time.Sleep(time.Until(declared.Add(3 * time.Second)))
	// The rest arrive, and the broker dies while they are on their way.
	for i := n / 3; i < n; i++ {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	waitFor(t, time.Minute, "deliveries past the first third", func() bool { return len(g.orders("status=delivered")) > n/3 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	sentAtKill := len(g.orders("status=delivered"))
	t0 := time.Now()
	time.Sleep(300 * time.Millisecond) // deliveries fail meanwhile
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Since(t0)
	waitFor(t, time.Minute, fmt.Sprintf("%d delivered orders", n), func() bool {
		return len(g.orders("status=delivered")) == n
	})
	t.Logf("broker back after %v, every order delivered after %v", restarted.Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))

	conn, err = amqp.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err = conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for {
		m, ok, err := ch.Get("e2e-orders", true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		id, _ := m.Headers[rmq.HeaderOrderID].(string)
		seen[id]++
	}
	for _, o := range g.orders("") {
		if o.Status != "delivered" {
			t.Errorf("order %s is %s, want delivered", o.ID, o.Status)
		}
		if seen[o.ID] == 0 {
			t.Errorf("order %s is delivered (sent, confirmed) but not in the queue", o.ID)
		}
	}
	if len(seen) != n {
		t.Errorf("the queue holds %d order ids, want %d", len(seen), n)
	}
	t.Logf("%d delivered when the broker was killed; %d messages for %d orders", sentAtKill, sum(seen), len(seen))
	if os.Getenv("OG_E2E_LOG") != "" {
		t.Log(g.log.String())
	}
	if err := g.stop(30 * time.Second); err != nil {
		t.Errorf("stopping: %v", err)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
