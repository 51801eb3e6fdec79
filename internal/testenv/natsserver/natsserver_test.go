package natsserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ordergate/ordergate/internal/testenv/natsserver"
)

// TestKillKeepsAcknowledgedMessages stores a message, kills the server
// with SIGKILL, starts it again and finds the message in the stream.
func TestKillKeepsAcknowledgedMessages(t *testing.T) {
	srv := natsserver.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.a", []byte("hello"), jetstream.WithMsgID("m1")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err == nil {
		t.Error("Start of a running server succeeded")
	}
	var msg *jetstream.RawStreamMsg
	for {
		s, err := js.Stream(ctx, "T")
		if err == nil {
			msg, err = s.GetMsg(ctx, 1)
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("reading the stream after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if string(msg.Data) != "hello" || msg.Header.Get(nats.MsgIdHdr) != "m1" {
		t.Errorf("got %q with id %q, want hello with id m1", msg.Data, msg.Header.Get(nats.MsgIdHdr))
	}
	// The duplicate window survives the restart.
	ack, err := js.Publish(ctx, "t.a", []byte("hello"), jetstream.WithMsgID("m1"))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate || ack.Sequence != 1 {
		t.Errorf("republish after restart: ack %+v, want a duplicate of sequence 1", ack)
	}
}
