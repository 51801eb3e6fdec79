package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/webhook"
)

// BenchmarkWebhookDeliver delivers signed orders one after the other to a
// local receiver that reads the body and answers 201 with an id; it
// reports orders/s.
func BenchmarkWebhookDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id": "wh-1"}`)
	}))
	defer srv.Close()
	bk := newBackend(b, webhook.Config{URL: srv.URL, Secret: []byte("bench-secret")})
	deliveries := make([]routing.Delivery, 256)
	for i := range deliveries {
		o := &order.Order{ID: fmt.Sprintf("ord_bench_%04d", i), Channel: order.ChannelEDI, Source: order.Source{Standard: "X12"},
			PONumber: fmt.Sprintf("45%08d", i), Currency: "EUR",
			Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustNew(int64(i+1), 0), Unit: "EA", SKU: "SCR-100"}}}
		p, err := routing.RenderJSON(o)
		if err != nil {
			b.Fatal(err)
		}
		if deliveries[i], err = routing.NewDelivery(o, 1, p); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := bk.Deliver(ctx, deliveries[i%len(deliveries)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "orders/s")
}
