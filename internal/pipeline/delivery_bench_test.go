package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	rmqenv "github.com/ordergate/ordergate/internal/testenv/rabbitmq"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/rabbitmq"
	"github.com/ordergate/ordergate/routing/webhook"
)

// BenchmarkDeliveryWorker measures the outbox delivery worker end to
// end: b.N routed orders with one due delivery each are in the store
// (SQLite, as the gateway runs it); the timer runs from the pipeline's
// start until every delivery is sent, each leased, delivered, recorded
// and put on its order's timeline. Run with a fixed count, e.g.
//
//	go test -run '^$' -bench BenchmarkDeliveryWorker -benchtime 5000x ./internal/pipeline
func BenchmarkDeliveryWorker(b *testing.B) {
	b.Run("webhook", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"wms-1"}`)
		}))
		defer srv.Close()
		be, err := webhook.New(webhook.Config{Name: "files", URL: srv.URL, Secret: []byte("bench-secret")}, nil)
		if err != nil {
			b.Fatal(err)
		}
		benchDeliveries(b, be)
	})
	b.Run("rabbitmq", func(b *testing.B) {
		if why := rmqenv.Unavailable(); why != "" {
			b.Skip(why)
		}
		ctx, cancel := context.WithTimeout(context.Background(), rmqenv.StartTimeout)
		defer cancel()
		srv, err := rmqenv.Launch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		be, err := rabbitmq.New(ctx, rabbitmq.Config{Name: "files", URL: srv.URL(), Queue: "bench-orders", DefinitionFlush: 10 * time.Millisecond}, nil)
		if err != nil {
			b.Fatal(err)
		}
		benchDeliveries(b, be)
	})
}

func benchDeliveries(b *testing.B, be routing.Backend) {
	ctx := context.Background()
	dir := b.TempDir()
	cfg, problems := config.Parse("bench.yaml", fmt.Appendf(nil, testConfig, dir, "reject", 5, "  - {name: default, to: [files]}", "", "none", "",
		"initial_backoff: 10ms, max_backoff: 50ms"))
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	for _, d := range []string{"outbox", "outbound", "copies"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(ctx, store.Options{Path: cfg.Store.DSN, ArchiveDir: cfg.Store.ArchiveDir})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	// b.N routed orders, each with its delivery due.
	raw := []byte("ISA*00*bench~")
	h, size, err := st.Archive().Put(ctx, bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < b.N; start += 1000 {
		err := st.Write(ctx, func(tx *store.Tx) error {
			doc, _, err := tx.InsertDocument(ctx, store.DocumentInput{Channel: "inbox", SourceKey: fmt.Sprintf("bench-%d", start),
				SHA256: h, Size: size, Filename: "bench.x12", Standard: "X12"})
			if err != nil {
				return err
			}
			for i := start; i < min(start+1000, b.N); i++ {
				o := &order.Order{Channel: order.ChannelEDI, Source: order.Source{Standard: "X12", SenderID: "BAUMARKTNORD"},
					Purpose: order.PurposeOriginal, PONumber: fmt.Sprintf("PO-%07d", i), Currency: "EUR", Status: order.StatusRouted}
				for l := range 3 {
					o.Lines = append(o.Lines, order.Line{LineNo: fmt.Sprint(l + 1), Quantity: decimal.MustNew(24, 0), Unit: "EA", SKU: "SCR-100"})
				}
				rec, _, err := tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, MessageIndex: i - start, PartnerID: "baumarkt-nord", Order: o})
				if err != nil {
					return err
				}
				if _, _, err := tx.InsertDelivery(ctx, store.DeliveryInput{OrderID: rec.ID, OrderRevision: rec.Revision, Route: "default", Backend: "files"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	p, err := pipeline.New(pipeline.Deps{
		Store: st, Queue: pipeline.NewSQLiteQueue(st, 0, cfg.Pipeline.PollInterval, cfg.Pipeline.BatchSize, nil),
		Config: func() *config.Config { return cfg }, Processor: ediproc.Processor{},
		Backends:  map[string]routing.Backend{"files": be},
		Outbounds: map[string]channels.Outbound{"inbox": &dirdrop.Outbox{Dir: filepath.Join(dir, "outbox")}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	for {
		var sent int
		if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE status = 'sent'`).Scan(&sent); err != nil {
			b.Fatal(err)
		}
		if sent == b.N {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	_ = be.Close(ctx)
}
