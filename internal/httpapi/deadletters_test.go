package httpapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store"
)

// TestDeadLettersList: each dead letter says which order it belongs to,
// the backend, the attempts, the last error and when it died.
func TestDeadLettersList(t *testing.T) {
	srv, st, _ := fixture(t, 1)
	ctx := context.Background()
	page, err := st.ListOrders(ctx, store.OrderFilter{}, "", 10)
	if err != nil || len(page.Orders) != 1 {
		t.Fatalf("orders = %+v, %v", page, err)
	}
	orderID := page.Orders[0].ID
	var dlvID string
	err = st.Write(ctx, func(tx *store.Tx) error {
		d, _, err := tx.InsertDelivery(ctx, store.DeliveryInput{OrderID: orderID, OrderRevision: page.Orders[0].Revision, Route: "default", Backend: "erp"})
		if err != nil {
			return err
		}
		dlvID = d.ID
		if _, err := tx.StartAttempt(ctx, d.ID, time.Now().Add(time.Minute)); err != nil {
			return err
		}
		_, err = tx.MarkDead(ctx, d.ID, "HTTP 500 from erp")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, srv, "/api/v1/dead-letters", token)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got struct {
		Deliveries []struct {
			ID        string    `json:"id"`
			OrderID   string    `json:"order_id"`
			Backend   string    `json:"backend"`
			Attempts  int       `json:"attempts"`
			LastError string    `json:"last_error"`
			UpdatedAt time.Time `json:"updated_at"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Deliveries) != 1 {
		t.Fatalf("dead letters = %s", body)
	}
	d := got.Deliveries[0]
	if d.ID != dlvID || d.OrderID != orderID || d.Backend != "erp" || d.Attempts != 1 || d.LastError != "HTTP 500 from erp" || d.UpdatedAt.IsZero() {
		t.Errorf("dead letter = %+v, want %s of order %s at erp, 1 attempt, its error and time", d, dlvID, orderID)
	}
}
