package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// heldOrderSteps are the automatic path's writes of one order in one
// transaction (normalize, decide, route), rec being the order as read,
// and the order read after them.
func heldOrderSteps(ctx context.Context, tx *Tx, rec OrderRecord) (OrderRecord, error) {
	if err := heldOrderWrites(ctx, tx, rec); err != nil {
		return OrderRecord{}, err
	}
	return tx.GetOrder(ctx, rec.ID)
}

// heldOrderWrites are heldOrderSteps' writes.
func heldOrderWrites(ctx context.Context, tx *Tx, rec OrderRecord) error {
	o, err := rec.Order()
	if err != nil {
		return err
	}
	o.CustomerID = "C-2000"
	o.Lines[0].SKU = "SKU-<1>"
	normalized, err := tx.UpdateOrder(ctx, OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o,
		Read: &rec, ContentHash: "hash-1"})
	if err != nil {
		return err
	}
	o.Status = order.StatusAccepted
	o.Notes = append(o.Notes, "ändern & \"prüfen\"")
	accepted, err := tx.UpdateOrder(ctx, OrderUpdate{ID: rec.ID, Revision: normalized.Revision, PartnerID: rec.PartnerID, Order: o,
		Read: &normalized})
	if err != nil {
		return err
	}
	_, err = tx.SetOrderStatusRevision(ctx, rec.ID, accepted.Revision, order.StatusRouted)
	return err
}

// TestDeferOrderWritesSameRow: the writes of an order held back and
// flushed once leave the row (every column, the canonical JSON byte for
// byte, the content hash, the revision) as the same writes made one by
// one do, and a read in the transaction sees them.
func TestDeferOrderWritesSameRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		o := testOrder("PO-<&>-1")
		qty := decimal.MustParse("12.5")
		o.Lines[0].Quantity = qty
		o.Lines[0].Description = "Schraube M8 \u00fc <b>"
		direct := insertOrder(t, s, "direct", o)
		held := insertOrder(t, s, "held", o)
		var viaDirect, viaHeld, readInTx OrderRecord
		write(t, s, func(tx *Tx) (err error) {
			viaDirect, err = heldOrderSteps(ctx, tx, direct)
			return err
		})
		write(t, s, func(tx *Tx) (err error) {
			tx.DeferOrderWrites(held.ID)
			if readInTx, err = heldOrderSteps(ctx, tx, held); err != nil {
				return err
			}
			return tx.FlushOrderWrites(ctx)
		})
		viaHeld = getOrderT(t, s, held.ID)
		if readInTx.Revision != 4 || readInTx.Status != order.StatusRouted {
			t.Errorf("read in the transaction: revision %d, status %s; want 4, routed", readInTx.Revision, readInTx.Status)
		}
		same := func(r OrderRecord) OrderRecord {
			r.ID, r.DocumentID = "", ""
			r.Canonical = []byte(strings.ReplaceAll(string(r.Canonical), `"`+held.ID+`"`, `"`+direct.ID+`"`))
			return r
		}
		d, h := same(viaDirect), same(viaHeld)
		if string(d.Canonical) != string(h.Canonical) {
			t.Errorf("canonical JSON differs:\ndirect %s\nheld   %s", d.Canonical, h.Canonical)
		}
		d.Canonical, h.Canonical = nil, nil
		if !d.CreatedAt.Equal(h.CreatedAt) || !d.UpdatedAt.Equal(h.UpdatedAt) {
			t.Errorf("times differ: direct %v/%v, held %v/%v", d.CreatedAt, d.UpdatedAt, h.CreatedAt, h.UpdatedAt)
		}
		d.CreatedAt, d.UpdatedAt = h.CreatedAt, h.UpdatedAt
		if fmt.Sprintf("%+v", d) != fmt.Sprintf("%+v", h) {
			t.Errorf("rows differ:\ndirect %+v\nheld   %+v", d, h)
		}
		var hashDirect, hashHeld string
		db := s.testDB()
		if err := db.QueryRow(`SELECT content_hash FROM orders WHERE id = ?`, direct.ID).Scan(&hashDirect); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT content_hash FROM orders WHERE id = ?`, held.ID).Scan(&hashHeld); err != nil {
			t.Fatal(err)
		}
		if hashDirect != "hash-1" || hashHeld != hashDirect {
			t.Errorf("content hash: direct %q, held %q; want hash-1 both", hashDirect, hashHeld)
		}
	})
}

// TestDeferOrderWritesReadsAndConflicts: every transaction method that
// reads the orders table sees the held writes; a held write whose base
// revision moved under it fails with ErrConflict at the flush; a
// transaction that ends without the flush leaves the row alone.
func TestDeferOrderWritesReadsAndConflicts(t *testing.T) {
	ctx := context.Background()
	s := testStore(t, newFakeClock())
	base := insertOrder(t, s, "reads", testOrder("PO-R"))
	hold := func(tx *Tx) OrderRecord {
		t.Helper()
		tx.DeferOrderWrites(base.ID)
		o, err := base.Order()
		if err != nil {
			t.Fatal(err)
		}
		o.CustomerID, o.Status = "C-HELD", order.StatusAccepted
		rec, err := tx.UpdateOrder(ctx, OrderUpdate{ID: base.ID, Revision: base.Revision, PartnerID: base.PartnerID, Order: o, Read: &base})
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	reads := []struct {
		name string
		see  func(tx *Tx) (bool, error)
	}{
		{"GetOrder", func(tx *Tx) (bool, error) {
			r, err := tx.GetOrder(ctx, base.ID)
			return r.CustomerID == "C-HELD", err
		}},
		{"OrdersOfDocument", func(tx *Tx) (bool, error) {
			rs, err := tx.OrdersOfDocument(ctx, base.DocumentID)
			return len(rs) == 1 && rs[0].CustomerID == "C-HELD", err
		}},
		{"ListOrders", func(tx *Tx) (bool, error) {
			p, err := tx.ListOrders(ctx, OrderFilter{CustomerID: "C-HELD"}, "", 10)
			return len(p.Orders) == 1, err
		}},
		{"OrdersOfCustomerPO", func(tx *Tx) (bool, error) {
			rs, err := tx.OrdersOfCustomerPO(ctx, "C-HELD", "PO-R", "none")
			return len(rs) == 1, err
		}},
		{"CustomerHasOtherOrders", func(tx *Tx) (bool, error) {
			return tx.CustomerHasOtherOrders(ctx, "C-HELD", "none")
		}},
		{"OpenOrderTotals", func(tx *Tx) (bool, error) {
			_, curs, err := tx.OpenOrderTotals(ctx, "C-HELD", base.CreatedAt.Add(-1), "none")
			return len(curs) == 1, err
		}},
		{"SetOrderStatus", func(tx *Tx) (bool, error) {
			r, err := tx.SetOrderStatus(ctx, base.ID, base.Revision+1, order.StatusRouted)
			return r.CustomerID == "C-HELD" && r.Revision == base.Revision+2, err
		}},
	}
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			err := s.Write(ctx, func(tx *Tx) error {
				hold(tx)
				saw, err := rd.see(tx)
				if err != nil {
					return err
				}
				if !saw {
					t.Errorf("%s did not see the held write", rd.name)
				}
				return errRollback
			})
			if !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
		})
	}
	t.Run("conflict at the flush", func(t *testing.T) {
		err := s.Write(ctx, func(tx *Tx) error {
			hold(tx)
			// Another writer of the row, past the held writes' back.
			if _, err := tx.tx.ExecContext(ctx, `UPDATE orders SET revision = revision + 1 WHERE id = ?`, base.ID); err != nil {
				return err
			}
			return tx.FlushOrderWrites(ctx)
		})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("flush after the row moved = %v, want ErrConflict", err)
		}
	})
	t.Run("no flush, no write", func(t *testing.T) {
		err := s.Write(ctx, func(tx *Tx) error {
			hold(tx)
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if r := getOrderT(t, s, base.ID); r.Revision != base.Revision || r.CustomerID != base.CustomerID {
			t.Errorf("row changed: revision %d, customer %s", r.Revision, r.CustomerID)
		}
	})
	t.Run("held revision checked", func(t *testing.T) {
		err := s.Write(ctx, func(tx *Tx) error {
			rec := hold(tx)
			_, err := tx.SetOrderStatusRevision(ctx, base.ID, rec.Revision-1, order.StatusRouted)
			return err
		})
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("status change at a stale revision = %v, want ErrConflict", err)
		}
	})
}

var errRollback = errors.New("roll back")

func getOrderT(t *testing.T, s *Store, id string) OrderRecord {
	t.Helper()
	r, err := s.GetOrder(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDeferOrderWritesOtherOrders: the queries of a customer's other
// orders, which leave the held order out, do not write it early (the
// decide stage asks them between the normalize and decide writes).
func TestDeferOrderWritesOtherOrders(t *testing.T) {
	ctx := context.Background()
	s := testStore(t, newFakeClock())
	rec := insertOrder(t, s, "other", testOrder("PO-O"))
	write(t, s, func(tx *Tx) error {
		tx.DeferOrderWrites(rec.ID)
		o, err := rec.Order()
		if err != nil {
			return err
		}
		if _, err := tx.UpdateOrder(ctx, OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o, Read: &rec}); err != nil {
			return err
		}
		if _, err := tx.OrdersOfCustomerPO(ctx, o.CustomerID, o.PONumber, rec.ID); err != nil {
			return err
		}
		if _, err := tx.CustomerHasOtherOrders(ctx, o.CustomerID, rec.ID); err != nil {
			return err
		}
		if _, _, err := tx.OpenOrderTotals(ctx, o.CustomerID, rec.CreatedAt, rec.ID); err != nil {
			return err
		}
		if tx.held == nil {
			t.Error("a query leaving the held order out wrote it")
		}
		return tx.FlushOrderWrites(ctx)
	})
	if r := getOrderT(t, s, rec.ID); r.Revision != rec.Revision+1 {
		t.Errorf("revision %d after the flush, want %d", r.Revision, rec.Revision+1)
	}
}

// TestOrdersByIDAndOrderState: the worker's reads of orders by id (one
// snapshot) and of an order's revision and status (which sees a held
// write).
func TestOrdersByIDAndOrderState(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		a := insertOrder(t, s, "a", testOrder("PO-A"))
		b := insertOrder(t, s, "b", testOrder("PO-B"))
		got, err := s.OrdersByID(ctx, []string{a.ID, "ord_none", b.ID, a.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[a.ID].PONumber != "PO-A" || got[b.ID].PONumber != "PO-B" || string(got[b.ID].Canonical) != string(b.Canonical) {
			t.Errorf("OrdersByID = %d orders %+v", len(got), got)
		}
		write(t, s, func(tx *Tx) error {
			if _, _, _, err := tx.OrderState(ctx, "ord_none"); !errors.Is(err, ErrNotFound) {
				t.Errorf("OrderState of no order = %v, want ErrNotFound", err)
			}
			tx.DeferOrderWrites(a.ID)
			if _, err := tx.SetOrderStatusRevision(ctx, a.ID, a.Revision, order.StatusHeld); err != nil {
				return err
			}
			o, err := a.Order()
			if err != nil {
				return err
			}
			o.Status = order.StatusAccepted
			read := getOrderInTx(t, tx, a.ID)
			if _, err := tx.UpdateOrder(ctx, OrderUpdate{ID: a.ID, Revision: read.Revision, PartnerID: read.PartnerID, Order: o, Read: &read}); err != nil {
				return err
			}
			for i, backend := range []string{"files", "copies", "wms"} {
				if _, _, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: a.ID, OrderRevision: a.Revision + 2, Route: "all", Backend: backend}); err != nil {
					return err
				}
				if i == 0 {
					if _, err := tx.StartAttempt(ctx, mustDeliveryOf(t, tx, a.ID, backend), time.Now().Add(time.Minute)); err != nil {
						return err
					}
				}
			}
			if _, err := tx.MarkDead(ctx, mustDeliveryOf(t, tx, a.ID, "wms"), "gone"); err != nil {
				return err
			}
			rev, st, open, err := tx.OrderState(ctx, a.ID)
			if err != nil {
				return err
			}
			if rev != a.Revision+2 || st != order.StatusAccepted || open != 2 {
				t.Errorf("OrderState = %d, %s, %d open; want %d, accepted, 2 open (one pending, one being sent, one dead)", rev, st, open, a.Revision+2)
			}
			return tx.FlushOrderWrites(ctx)
		})
	})
}

func getOrderInTx(t *testing.T, tx *Tx, id string) OrderRecord {
	t.Helper()
	r, err := tx.GetOrder(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustDeliveryOf returns the id of the order's delivery to backend.
func mustDeliveryOf(t *testing.T, tx *Tx, orderID, backend string) string {
	t.Helper()
	ds, err := tx.DeliveriesOfOrder(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Backend == backend {
			return d.ID
		}
	}
	t.Fatalf("order %s has no delivery to %s", orderID, backend)
	return ""
}
