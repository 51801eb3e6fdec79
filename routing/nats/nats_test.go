package nats_test

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
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ordergate/ordergate/internal/testenv"
	"github.com/ordergate/ordergate/internal/testenv/natsserver"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/nats"
	"github.com/ordergate/ordergate/routing/routingtest"
)

var (
	sharedOnce sync.Once
	sharedSrv  *natsserver.Server
	sharedErr  error
	seq        atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedSrv != nil {
		if err := sharedSrv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "closing the test server:", err)
		}
	}
	os.Exit(code)
}

// server returns the package's shared server.
func server(tb testing.TB) *natsserver.Server {
	tb.Helper()
	if _, err := natsserver.Binary(); err != nil {
		testenv.Unavailable(tb, err.Error())
	}
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), natsserver.StartTimeout)
		defer cancel()
		sharedSrv, sharedErr = natsserver.Launch(ctx)
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return sharedSrv
}

// names returns a fresh stream name and subject.
func names() (stream, subject string) {
	n := seq.Add(1)
	return fmt.Sprintf("ORDERS_%d", n), fmt.Sprintf("orders.t%d.accepted", n)
}

func open(tb testing.TB, cfg nats.Config) *nats.Backend {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := nats.New(ctx, cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func jsClient(tb testing.TB, url string) jetstream.JetStream {
	tb.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

type stored struct {
	seq    uint64
	header natsgo.Header
	data   []byte
}

// readStream returns every message of the stream, in order.
func readStream(tb testing.TB, js jetstream.JetStream, stream string) []stored {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	n := int(info.State.Msgs)
	if n == 0 {
		return nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []stored
	for len(out) < n {
		batch, err := cons.Fetch(min(n-len(out), 1000), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			tb.Fatal(err)
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, stored{seq: md.Sequence.Stream, header: m.Headers(), data: m.Data()})
		}
		if err := batch.Error(); err != nil {
			tb.Fatalf("reading stream %s: %v (read %d of %d)", stream, err, len(out), n)
		}
	}
	return out
}

func TestConformance(t *testing.T) {
	srv := server(t)
	js := jsClient(t, srv.URL())
	routingtest.Run(t, func(t *testing.T) routingtest.Destination {
		stream, subject := names()
		return routingtest.Destination{
			Open: func(t *testing.T) routing.Backend {
				return open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: subject, Stream: stream})
			},
			Artifacts: func(t *testing.T) []routingtest.Artifact {
				var arts []routingtest.Artifact
				for _, m := range readStream(t, js, stream) {
					arts = append(arts, routingtest.Artifact{Key: m.header.Get(natsgo.MsgIdHdr), Body: m.data})
				}
				return arts
			},
			Dedupes: true,
		}
	})
}

func TestMessageHeaders(t *testing.T) {
	srv := server(t)
	stream, subject := names()
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	b := open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: subject, Stream: stream, Clock: func() time.Time { return at }})
	defer b.Close(context.Background())
	d := routingtest.Delivery(t, 3, 2)
	r, err := b.Deliver(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	if want := stream + ":1"; r.ExternalRef != want || !r.At.Equal(at) || r.Duplicate {
		t.Errorf("receipt = %+v, want ExternalRef %s at %v", r, want, at)
	}
	msgs := readStream(t, jsClient(t, srv.URL()), stream)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	h := msgs[0].header
	for _, c := range []struct{ name, want string }{
		{natsgo.MsgIdHdr, d.Key},
		{nats.HeaderContentType, d.Payload.ContentType},
		{nats.HeaderKey, d.Key},
		{nats.HeaderOrderID, d.OrderID},
		{nats.HeaderRevision, "2"},
		{nats.HeaderFormat, string(d.Payload.Format)},
	} {
		if got := h.Get(c.name); got != c.want {
			t.Errorf("header %s = %q, want %q", c.name, got, c.want)
		}
	}
	if string(msgs[0].data) != string(d.Payload.Body) {
		t.Error("data differs from the payload")
	}
}

// TestStreams: a stream New creates, one that exists and captures the
// subject through a wildcard, one that does not capture it, and no stream
// at all.
func TestStreams(t *testing.T) {
	srv := server(t)
	js := jsClient(t, srv.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EXISTING", Subjects: []string{"shop.*.orders"}, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}

	t.Run("created with the duplicate window", func(t *testing.T) {
		stream, subject := names()
		b := open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: subject, Stream: stream, DuplicateWindow: 5 * time.Minute})
		defer b.Close(ctx)
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		c := s.CachedInfo().Config
		if c.Duplicates != 5*time.Minute || c.Storage != jetstream.FileStorage || len(c.Subjects) != 1 || c.Subjects[0] != subject {
			t.Errorf("created stream config: duplicates %v, storage %v, subjects %q", c.Duplicates, c.Storage, c.Subjects)
		}
	})
	t.Run("existing stream with a wildcard", func(t *testing.T) {
		b := open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: "shop.eu.orders", Stream: "EXISTING"})
		defer b.Close(ctx)
		r, err := b.Deliver(ctx, routingtest.Delivery(t, 1, 1))
		if err != nil || !strings.HasPrefix(r.ExternalRef, "EXISTING:") {
			t.Errorf("Deliver = %+v, %v; want stored in EXISTING", r, err)
		}
	})
	t.Run("existing stream that does not capture the subject", func(t *testing.T) {
		_, err := nats.New(ctx, nats.Config{Name: "bus", URL: srv.URL(), Subject: "other.orders", Stream: "EXISTING"}, nil)
		if err == nil || !strings.Contains(err.Error(), "does not capture") {
			t.Errorf("New = %v, want a does-not-capture error", err)
		}
	})
	t.Run("no stream configured, subject in a stream", func(t *testing.T) {
		b := open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: "shop.us.orders"})
		defer b.Close(ctx)
		if r, err := b.Deliver(ctx, routingtest.Delivery(t, 2, 1)); err != nil || !strings.HasPrefix(r.ExternalRef, "EXISTING:") {
			t.Errorf("Deliver = %+v, %v; want stored in EXISTING", r, err)
		}
	})
	t.Run("no stream takes the subject", func(t *testing.T) {
		b := open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: "nobody.listens"})
		defer b.Close(ctx)
		dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
		defer dcancel()
		_, err := b.Deliver(dctx, routingtest.Delivery(t, 3, 1))
		if err == nil || errors.Is(err, routing.ErrPermanent) {
			t.Errorf("Deliver to a subject no stream takes = %v, want a retryable error", err)
		}
	})
}

func TestSubjectMatches(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"orders.accepted", "orders.accepted", true},
		{"orders.accepted", "orders.rejected", false},
		{"orders.*", "orders.accepted", true},
		{"orders.*", "orders.accepted.eu", false},
		{"orders.>", "orders.accepted.eu", true},
		{"orders.>", "orders", false},
		{"*.accepted", "orders.accepted", true},
		{">", "orders", true},
		{"orders.accepted.eu", "orders.accepted", false},
	}
	for _, tt := range tests {
		if got := nats.SubjectMatches(tt.pattern, tt.subject); got != tt.want {
			t.Errorf("SubjectMatches(%q, %q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  nats.Config
		want []string
	}{
		{nats.Config{Name: "a", URL: "nats://127.0.0.1:4222", Subject: "orders.accepted", Stream: "ORDERS"}, nil},
		{nats.Config{Name: "a", URL: "nats://h1:4222,nats://h2:4222", Subject: "orders"}, nil},
		{nats.Config{}, []string{"name is required", "url is required", "subject is required"}},
		{nats.Config{Name: "a", URL: "http://h", Subject: "orders.*"}, []string{`scheme "http"`, "not a valid subject"}},
		{nats.Config{Name: "a", URL: "nats://h", Subject: "orders..x", Stream: "A.B"}, []string{"not a valid subject", "not a valid stream name"}},
		{nats.Config{Name: "a", URL: "nats://h", Subject: "o", AckTimeout: -time.Second}, []string{"ack timeout -1s is negative"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == nil) {
			t.Fatalf("Validate(%+v) = %v, want errors %q", tt.cfg, err, tt.want)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate = %q, want it to contain %q", err, w)
			}
		}
	}
}

func TestNewFailsWhenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := nats.New(ctx, nats.Config{Name: "bus", URL: "nats://127.0.0.1:" + strconv.Itoa(port), Subject: "orders"}, nil); err == nil {
		t.Fatal("New with no server listening succeeded")
	}
}

// TestServerKilled delivers 10,000 orders with workers that retry on error
// while the server is killed with SIGKILL and restarted in the middle:
// the stream holds every key exactly once.
func TestServerKilled(t *testing.T) {
	srv := natsserver.Start(t) // its own: the others share one
	const (
		n       = 10000
		workers = 8
	)
	stream, subject := names()
	b := open(t, nats.Config{Name: "bus", URL: srv.URL(), Subject: subject, Stream: stream, AckTimeout: 5 * time.Second})
	defer b.Close(context.Background())
	ds := make([]routing.Delivery, n)
	for i := range ds {
		ds[i] = routingtest.Delivery(t, i, 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		acked    = make([]atomic.Bool, n)
		done     atomic.Int64
		failures atomic.Int64
		dupAcks  atomic.Int64
		wg       sync.WaitGroup
		jobs     = make(chan int)
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
					r, err := b.Deliver(ctx, d)
					if err == nil {
						if r.Duplicate {
							dupAcks.Add(1)
						}
						acked[i].Store(true)
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
	for done.Load() < n/2 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed at %d acked", done.Load())
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	began := time.Now()
	_, err := b.Deliver(dctx, routingtest.Delivery(t, n+1, 1))
	if err == nil || errors.Is(err, routing.ErrPermanent) {
		t.Errorf("Deliver while the server is down = %v, want a retryable error", err)
	}
	t.Logf("Deliver while down failed after %v: %v", time.Since(began), err)
	dcancel()
	time.Sleep(500 * time.Millisecond) // let the workers fail for a while
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("deliveries did not finish: %d of %d acked", done.Load(), n)
	}

	seen := map[string]int{}
	for _, m := range readStream(t, jsClient(t, srv.URL()), stream) {
		seen[m.header.Get(natsgo.MsgIdHdr)]++
	}
	var missing, lostAcked, dups int
	for i, d := range ds {
		switch c := seen[d.Key]; {
		case c == 0:
			missing++
			if acked[i].Load() {
				lostAcked++
			}
		case c > 1:
			dups += c - 1
		}
		delete(seen, d.Key)
	}
	t.Logf("%d orders, %d acked (%d as duplicates), %d failed attempts retried", n, done.Load(), dupAcks.Load(), failures.Load())
	if missing > 0 || dups > 0 {
		t.Errorf("stream: %d keys missing (%d of them acked), %d duplicates; want every key exactly once", missing, lostAcked, dups)
	}
	if len(seen) > 0 {
		t.Errorf("stream holds %d unexpected keys", len(seen))
	}
	if failures.Load() == 0 {
		t.Error("no Deliver failed across a server kill")
	}
}

// BenchmarkNATSDeliver delivers distinct orders from concurrent workers,
// each waiting for its PubAck, into a file-backed stream with
// sync_interval always.
func BenchmarkNATSDeliver(b *testing.B) {
	srv := server(b)
	o := &order.Order{ID: "ord_bench", Channel: order.ChannelEDI, Purpose: order.PurposeOriginal,
		Source: order.Source{Standard: "X12", SenderID: "BAUMARKTNORD"}, PONumber: "4500012345", Currency: "EUR"}
	for i := range 3 {
		o.Lines = append(o.Lines, order.Line{LineNo: strconv.Itoa(i + 1), Quantity: decimal.MustNew(24, 0), Unit: "EA", SKU: "SCR-100"})
	}
	p, err := routing.RenderJSON(o)
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{8, 32} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			stream, subject := names()
			be := open(b, nats.Config{Name: "bus", URL: srv.URL(), Subject: subject, Stream: stream})
			defer be.Close(context.Background())
			b.SetBytes(int64(len(p.Body)))
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						oi := *o
						oi.ID = "ord_bench_" + strconv.FormatInt(i, 10)
						d := routing.Delivery{Key: routing.DeliveryKey(oi.ID, 1), OrderID: oi.ID, Revision: 1, Order: &oi, Payload: p, Attempt: 1}
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
