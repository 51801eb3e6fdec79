package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// bigOrder is an order whose JSON is well over compressAbove.
func bigOrder(po string) *order.Order {
	o := testOrder(po)
	o.Lines = nil
	for i := range 40 {
		o.Lines = append(o.Lines, order.Line{LineNo: fmt.Sprint(i + 1), Quantity: decimal.MustNew(int64(i+1), 0), Unit: "EA",
			BuyerPart: fmt.Sprintf("BP-%05d", i), Description: "Schraube M8 \u00fc <b> & \"c\""})
		o.SetProvenance(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("segment %d PO102", 10+i))
	}
	return o
}

// TestCanonicalCompressed: on SQLite a large order's JSON is stored as a
// zstd frame, a small one's as text; every read gives the JSON text, the
// status changes patch the compressed JSON, and a large row stored as
// text (before compression) is read and patched as well.
func TestCanonicalCompressed(t *testing.T) {
	ctx := context.Background()
	s := testStore(t, newFakeClock())
	column := func(id string) (typ string, size int) {
		t.Helper()
		if err := s.testDB().QueryRow(`SELECT typeof(canonical), length(canonical) FROM orders WHERE id = ?`, id).Scan(&typ, &size); err != nil {
			t.Fatal(err)
		}
		return typ, size
	}
	small := insertOrder(t, s, "small", testOrder("PO-S"))
	big := insertOrder(t, s, "big", bigOrder("PO-B"))
	if len(big.Canonical) <= compressAbove || len(small.Canonical) > compressAbove {
		t.Fatalf("orders of %d and %d bytes of JSON; the test wants one over %d and one under", len(big.Canonical), len(small.Canonical), compressAbove)
	}
	if typ, _ := column(small.ID); typ != "text" {
		t.Errorf("small order stored as %s, want text", typ)
	}
	typ, size := column(big.ID)
	if typ != "blob" || size*3 > len(big.Canonical) {
		t.Errorf("large order stored as %s of %d bytes (JSON %d), want a blob of under a third", typ, size, len(big.Canonical))
	}
	for _, want := range []OrderRecord{small, big} {
		got := getOrderT(t, s, want.ID)
		if string(got.Canonical) != string(want.Canonical) {
			t.Errorf("order %s read back:\n%s\nwant\n%s", want.ID, got.Canonical, want.Canonical)
		}
	}
	// A large row stored as text, as before compression.
	legacy := insertOrder(t, s, "legacy", bigOrder("PO-L"))
	if _, err := s.testDB().Exec(`UPDATE orders SET canonical = ? WHERE id = ?`, string(legacy.Canonical), legacy.ID); err != nil {
		t.Fatal(err)
	}
	if typ, _ := column(legacy.ID); typ != "text" {
		t.Fatalf("legacy row stored as %s", typ)
	}
	for _, rec := range []OrderRecord{big, legacy} {
		var rev int64
		write(t, s, func(tx *Tx) (err error) {
			rev, err = tx.SetOrderStatusRevision(ctx, rec.ID, rec.Revision, order.StatusRouted)
			return err
		})
		var routed OrderRecord
		write(t, s, func(tx *Tx) (err error) {
			routed, err = tx.SetOrderStatus(ctx, rec.ID, rev, order.StatusDelivered)
			return err
		})
		got := getOrderT(t, s, rec.ID)
		want := strings.Replace(string(rec.Canonical), `"status":"received"`, `"status":"delivered"`, 1)
		if string(got.Canonical) != want || string(routed.Canonical) != want || got.Status != order.StatusDelivered || got.Revision != rec.Revision+2 {
			t.Errorf("order %s after two status changes: revision %d, status %s,\n%s\nwant revision %d, delivered,\n%s",
				rec.ID, got.Revision, got.Status, got.Canonical, rec.Revision+2, want)
		}
		if typ, _ := column(rec.ID); typ != "blob" {
			t.Errorf("order %s stored as %s after a status change, want blob", rec.ID, typ)
		}
	}
}

// TestSetPreparedStatus: a status change prepared from a record applies
// while the order is at that revision and, when asked, has no open
// delivery; otherwise it writes nothing.
func TestSetPreparedStatus(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		rec := insertOrder(t, s, "prep", bigOrder("PO-P"))
		var deliveryID string
		write(t, s, func(tx *Tx) error {
			d, _, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: rec.ID, OrderRevision: rec.Revision, Route: "all", Backend: "files"})
			deliveryID = d.ID
			return err
		})
		c, err := s.PrepareStatus(rec, order.StatusDelivered)
		if err != nil {
			t.Fatal(err)
		}
		apply := func(unlessOpen bool) (applied bool) {
			write(t, s, func(tx *Tx) (err error) {
				applied, err = tx.SetPreparedStatus(ctx, c, unlessOpen)
				return err
			})
			return applied
		}
		if apply(true) {
			t.Errorf("applied with a delivery pending")
		}
		write(t, s, func(tx *Tx) error {
			if _, err := tx.StartAttempt(ctx, deliveryID, time.Now().Add(time.Minute)); err != nil {
				return err
			}
			_, err := tx.MarkDelivered(ctx, deliveryID, "ref")
			return err
		})
		if got := getOrderT(t, s, rec.ID); got.Revision != rec.Revision || got.Status != rec.Status {
			t.Fatalf("after a change not applied: revision %d, status %s", got.Revision, got.Status)
		}
		if !apply(true) {
			t.Fatalf("not applied at the revision read, no delivery open")
		}
		got := getOrderT(t, s, rec.ID)
		want := strings.Replace(string(rec.Canonical), `"status":"received"`, `"status":"delivered"`, 1)
		if got.Revision != rec.Revision+1 || got.Status != order.StatusDelivered || string(got.Canonical) != want {
			t.Errorf("applied: revision %d, status %s,\n%s\nwant revision %d, delivered,\n%s", got.Revision, got.Status, got.Canonical, rec.Revision+1, want)
		}
		if apply(false) {
			t.Errorf("applied again, the order having moved on a revision")
		}
		if again := getOrderT(t, s, rec.ID); again.Revision != rec.Revision+1 {
			t.Errorf("a change not applied wrote revision %d", again.Revision)
		}
	})
}
