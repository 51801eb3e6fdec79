package pipeline_test

import (
	"strings"
	"testing"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// TestCanonicalOrderDocuments: a document holding an order in the
// canonical JSON (web API, order desk, capture) takes the same intake as
// an EDI file and becomes one order with the id it carries; a bad one is
// rejected at its source with the reason, never dropped.
func TestCanonicalOrderDocuments(t *testing.T) { forEachDriver(t, testCanonicalOrderDocuments) }

func testCanonicalOrderDocuments(t *testing.T) {
	const good = `{"id":"ord_01JABCDEFGHJKMNPQRSTVWXYZ0","channel":"phone","source":{"standard":"desk","test":false},
		"po_number":"TEL-1","customer_id":"C-1001","currency":"EUR",
		"lines":[{"line_no":"1","quantity":"3","unit":"EA","unit_price":"12.50","sku":"SKU-1"}]}`
	tests := []struct {
		name       string
		body       string
		wantStatus store.DocumentStatus
		wantError  string
	}{
		{"valid", good, store.DocumentParsed, ""},
		{"unknown field", `{"channel":"web","po_number":"X","lines":[],"colour":"red"}`, store.DocumentRejected, `unknown field "colour"`},
		{"not an order", `{"channel":"web","source":{"standard":"json","test":false},"po_number":"","lines":[]}`, store.DocumentRejected, "po_number"},
		{"bad id", strings.Replace(good, "ord_01JABCDEFGHJKMNPQRSTVWXYZ0", "ord_../../x", 1), store.DocumentRejected, "not an ordergate order id"},
		{"trailing data", good + `{}`, store.DocumentRejected, "after the order object"},
		{"status delivered", strings.Replace(good, `"po_number"`, `"status":"delivered","po_number"`, 1), store.DocumentRejected, `status "delivered"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			h.src.push("j", []byte(tt.body))
			doc := h.documentIn("j", tt.wantStatus)
			if doc.Standard != "ORDER-JSON" {
				t.Errorf("standard = %q, want ORDER-JSON", doc.Standard)
			}
			if !strings.Contains(doc.Error, tt.wantError) {
				t.Errorf("document error = %q, want it to contain %q", doc.Error, tt.wantError)
			}
			if tt.wantStatus == store.DocumentRejected {
				if got := h.sourceResult("j"); got.Outcome != channels.OutcomeRejected {
					t.Errorf("source ack = %+v, want rejected", got)
				}
				if recs, _ := h.st.OrdersOfDocument(h.ctx, doc.ID); len(recs) != 0 {
					t.Errorf("%d orders from a rejected document", len(recs))
				}
				return
			}
			rec := h.orderOf(doc.ID, order.StatusDelivered)
			if rec.ID != "ord_01JABCDEFGHJKMNPQRSTVWXYZ0" {
				t.Errorf("order id = %q, want the one the document carries", rec.ID)
			}
			if rec.Channel != order.ChannelPhone || rec.CustomerID != "C-1001" || rec.PONumber != "TEL-1" {
				t.Errorf("order = %+v", rec)
			}
			if got := h.sourceResult("j"); got.Outcome != channels.OutcomeCommitted {
				t.Errorf("source ack = %+v, want committed", got)
			}
		})
	}
}
