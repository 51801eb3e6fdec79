package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExposition(t *testing.T) {
	m := New(func(context.Context) (map[string]int64, error) {
		return map[string]int64{"doc.received": 7}, nil
	})
	m.Documents.WithLabelValues("inbox", "received").Add(3)
	m.Orders.WithLabelValues("edi", "parse", "received").Inc()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`ordergate_documents_total{channel="inbox",status="received"} 3`,
		`ordergate_orders_total{channel="edi",stage="parse",status="received"} 1`,
		`ordergate_queue_depth{topic="doc.received"} 7`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}
