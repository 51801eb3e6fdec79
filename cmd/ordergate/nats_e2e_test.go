package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ordergate/ordergate/internal/testenv/natsserver"
)

// natsConfig routes every order to a JetStream stream on the test's
// nats-server.
const natsConfig = backendTestHead + `routes:
  - {name: default, to: [bus]}
backends:
  - {name: bus, type: nats, url: "%s", subject: orders.accepted, stream: ORDERS, initial_backoff: 50ms, max_backoff: 500ms}
`

// TestNATSEndToEnd: `ordergate serve` delivers routed orders to a
// JetStream stream through the outbox; the server is killed and started
// again (its file store kept) while orders are on their way. Every order
// is delivered, and the stream holds every order id.
func TestNATSEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	srv := natsserver.Start(t)
	dir, port := newGatewayDir(t)
	writeFile(t, dir, "config.yaml", fmt.Sprintf(natsConfig, port, srv.URL()))
	g := start(t, dir, port)
	const n = 120
	for i := range n / 2 {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	waitFor(t, time.Minute, "the first orders delivered", func() bool { return len(g.orders("status=delivered")) >= n/4 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := n / 2; i < n; i++ {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	time.Sleep(300 * time.Millisecond) // deliveries fail meanwhile
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d delivered orders", n), func() bool {
		return len(g.orders("status=delivered")) == n
	})

	nc, err := natsgo.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for read := uint64(0); read < info.State.Msgs; {
		batch, err := cons.Fetch(int(info.State.Msgs-read), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			seen[m.Headers().Get("Ordergate-Order-Id")]++
			read++
		}
		if err := batch.Error(); err != nil {
			t.Fatalf("reading the stream: %v (read %d of %d)", err, read, info.State.Msgs)
		}
	}
	for _, o := range g.orders("") {
		if seen[o.ID] == 0 {
			t.Errorf("order %s is delivered but not in the stream", o.ID)
		}
	}
	if len(seen) != n {
		t.Errorf("the stream holds %d order ids, want %d", len(seen), n)
	}
	if os.Getenv("OG_E2E_LOG") != "" {
		t.Log(g.log.String())
	}
	if err := g.stop(30 * time.Second); err != nil {
		t.Errorf("stopping: %v", err)
	}
}
