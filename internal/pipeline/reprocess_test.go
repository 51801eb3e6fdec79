package pipeline_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestReprocess: a dead letter is retried after the backend recovers (by
// order id and by delivery id), and an order is routed again as a new
// revision; each is on the timeline, and ids with nothing to do say so.
func TestReprocess(t *testing.T) { forEachDriver(t, testReprocess) }

func testReprocess(t *testing.T) {
	tests := []struct {
		name      string
		byDeliv   bool
		reroute   bool
		wantKeyRv int64 // the revision in the delivery key the backend got
	}{
		{name: "retry by order id"},
		{name: "retry by delivery id", byDeliv: true},
		{name: "reroute", reroute: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &flakyBackend{permanent: true}
			h := newHarness(t, harnessOptions{backend: b, maxAttempts: 2})
			h.src.push("a", fixtures.X12850(4711, "PO-4711", 1))
			doc := h.documentIn("a", store.DocumentParsed)
			rec := h.orderOf(doc.ID, order.StatusFailed)
			dels, err := h.st.DeliveriesOfOrder(h.ctx, rec.ID)
			if err != nil || len(dels) != 1 || dels[0].Status != store.DeliveryDead {
				t.Fatalf("deliveries = %+v, %v; want one dead", dels, err)
			}
			b.recovered.Store(true)
			id := rec.ID
			if tt.byDeliv {
				id = dels[0].ID
			}
			res := h.p.Reprocess(h.ctx, []string{id}, pipeline.ReprocessOptions{Reroute: tt.reroute, Actor: "tester", Comment: "ERP fixed"})
			if len(res) != 1 || res[0].Error != "" || res[0].OrderID != rec.ID || len(res[0].Deliveries) != 1 {
				t.Fatalf("Reprocess = %+v", res)
			}
			h.orderOf(doc.ID, order.StatusDelivered)
			if !slices.Contains(h.orderKinds(rec.ID), "reprocess") {
				t.Errorf("timeline %v lacks reprocess", h.orderKinds(rec.ID))
			}
			after, err := h.st.DeliveriesOfOrder(h.ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantDels := 1
			if tt.reroute {
				wantDels = 2
			}
			if len(after) != wantDels || after[len(after)-1].Status != store.DeliverySent {
				t.Errorf("deliveries after = %+v", after)
			}
			taken := 0
			b.keys.Range(func(k, v any) bool {
				taken++
				if tt.reroute == (k.(string) == after[0].OrderID+".r"+strconv.FormatInt(after[0].OrderRevision, 10)) {
					t.Errorf("delivered key %s: a reroute must use the new revision's key, a retry the old one", k)
				}
				return true
			})
			if taken != 1 {
				t.Errorf("backend took %d keys, want 1", taken)
			}
			// Again: nothing is dead any more.
			again := h.p.Reprocess(h.ctx, []string{rec.ID}, pipeline.ReprocessOptions{})
			if again[0].Error == "" || !strings.Contains(again[0].Error, "no dead delivery") {
				t.Errorf("second retry = %+v, want nothing to reprocess", again[0])
			}
			// A sent delivery is not sent again by a retry (a reroute is
			// the explicit way).
			sent := after[len(after)-1]
			byID := h.p.Reprocess(h.ctx, []string{sent.ID}, pipeline.ReprocessOptions{})
			if byID[0].Error == "" || !strings.Contains(byID[0].Error, "is sent") {
				t.Errorf("retry of sent delivery %s = %+v, want nothing to reprocess", sent.ID, byID[0])
			}
			if d, err := h.st.GetDelivery(h.ctx, sent.ID); err != nil || d.Status != store.DeliverySent {
				t.Errorf("delivery %s after a retry of it: %+v, %v; want it left sent", sent.ID, d, err)
			}
		})
	}
	t.Run("unknown ids", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		res := h.p.Reprocess(h.ctx, []string{"ord_01JABCDEFGHJKMNPQRSTVWXYZ0", "xyz"}, pipeline.ReprocessOptions{})
		if !strings.Contains(res[0].Error, "not found") || !strings.Contains(res[1].Error, "neither an order id") {
			t.Errorf("Reprocess = %+v", res)
		}
	})
}
