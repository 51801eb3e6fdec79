package rabbitmq_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ordergate/ordergate/internal/testenv/rabbitmq"
)

// TestKillKeepsConfirmedMessages starts a broker, publishes a persistent
// message with a confirm, kills the broker and starts it again: the message
// is still in the durable queue.
func TestKillKeepsConfirmedMessages(t *testing.T) {
	began := time.Now()
	srv := rabbitmq.Start(t)
	t.Logf("first start: %v", time.Since(began).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	conn, err := amqp.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare("kept", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	// Publisher confirms cover the message (the message store syncs before
	// it confirms), not the queue's definition: RabbitMQ 3.10 keeps it in
	// Mnesia, whose transaction log goes through disk_log's write cache,
	// flushed within 2 s. A broker killed in that window forgets a queue
	// declared in it; a deployment's queues are declared long before any
	// kill, so the test waits the window out instead of testing Mnesia.
	time.Sleep(3 * time.Second)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", "kept", true, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, MessageId: "m1", Body: []byte("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := dc.WaitContext(ctx); !ok || err != nil {
		t.Fatalf("confirm = %v, %v; want an ack", ok, err)
	}

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(srv.Port()), time.Second); err == nil {
		c.Close()
		t.Fatal("the AMQP port still accepts connections after Kill")
	}
	select {
	case <-conn.NotifyClose(make(chan *amqp.Error, 1)):
	case <-time.After(10 * time.Second):
		t.Error("the client connection was not closed by the kill")
	}

	began = time.Now()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart: %v", time.Since(began).Round(time.Millisecond))
	if err := srv.Start(ctx); err == nil {
		t.Error("Start of a running broker succeeded")
	}
	conn, err = amqp.Dial(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err = conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	msg, ok, err := ch.Get("kept", true)
	if err != nil || !ok {
		t.Fatalf("Get after restart = %v, %v; want the message", ok, err)
	}
	if msg.MessageId != "m1" || string(msg.Body) != "hello" {
		t.Errorf("got message %q %q, want m1 hello", msg.MessageId, msg.Body)
	}
}
