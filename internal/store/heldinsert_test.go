package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/normalize/order"
)

// rowsOf counts the orders rows of document docID as the transaction has
// written them (without writing what it holds back).
func rowsOf(t *testing.T, tx *Tx, docID string) int {
	t.Helper()
	var n int
	if err := tx.tx.QueryRowContext(context.Background(), `SELECT count(*) FROM orders WHERE document_id = ?`, docID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInsertOrderHoldSameRow: an order inserted with Hold and then
// written by the automatic path's steps is written once, at the flush,
// and leaves the row (every column, the canonical JSON byte for byte, the
// content hash, the revision) as an insert and the same steps made one by
// one do.
func TestInsertOrderHoldSameRow(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		o := testOrder("PO-<&>-H")
		o.Lines[0].Description = "Schraube M8 \u00fc <b>"
		direct := insertOrder(t, s, "direct", o)
		var viaDirect OrderRecord
		write(t, s, func(tx *Tx) (err error) {
			viaDirect, err = heldOrderSteps(ctx, tx, direct)
			return err
		})
		doc := insertDoc(t, s, "edi", "held")
		var heldID string
		write(t, s, func(tx *Tx) error {
			rec, created, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, Order: o, PartnerID: "baumarkt-nord", Hold: true})
			if err != nil || !created {
				return fmt.Errorf("InsertOrder with Hold: %v, created %t", err, created)
			}
			heldID = rec.ID
			if n := rowsOf(t, tx, doc.ID); n != 0 {
				t.Errorf("after InsertOrder with Hold: %d rows written, want 0", n)
			}
			tx.DeferOrderWrites(rec.ID)
			if err := heldOrderWrites(ctx, tx, rec); err != nil {
				return err
			}
			if n := rowsOf(t, tx, doc.ID); n != 0 {
				t.Errorf("before the flush: %d rows written, want 0", n)
			}
			if err := tx.FlushOrderWrites(ctx); err != nil {
				return err
			}
			if n := rowsOf(t, tx, doc.ID); n != 1 {
				t.Errorf("after the flush: %d rows written, want 1", n)
			}
			return nil
		})
		viaHeld := getOrderT(t, s, heldID)
		same := func(r OrderRecord) OrderRecord {
			r.ID, r.DocumentID = "", ""
			r.Canonical = []byte(strings.ReplaceAll(string(r.Canonical), `"`+heldID+`"`, `"`+direct.ID+`"`))
			return r
		}
		d, h := same(viaDirect), same(viaHeld)
		if string(d.Canonical) != string(h.Canonical) {
			t.Errorf("canonical JSON differs:\ndirect %s\nheld   %s", d.Canonical, h.Canonical)
		}
		d.Canonical, h.Canonical = nil, nil
		d.CreatedAt, d.UpdatedAt = h.CreatedAt, h.UpdatedAt // other transactions, same fake clock
		if fmt.Sprintf("%+v", d) != fmt.Sprintf("%+v", h) {
			t.Errorf("rows differ:\ndirect %+v\nheld   %+v", d, h)
		}
		if h.Revision != 4 || h.Status != order.StatusRouted {
			t.Errorf("held row: revision %d, status %s; want 4, routed", h.Revision, h.Status)
		}
		var hash string
		if err := s.testDB().QueryRow(`SELECT content_hash FROM orders WHERE id = ?`, heldID).Scan(&hash); err != nil || hash != "hash-1" {
			t.Errorf("content hash of the held row: %q %v, want hash-1", hash, err)
		}
	})
}

// TestInsertOrderHoldFlushedBeforeUse: a held row is written before a
// read of it, before a row that refers to it (delivery, approval, task,
// event), and before a savepoint; an order of the document's message
// already there fails the flush with ErrConflict.
func TestInsertOrderHoldFlushedBeforeUse(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		ctx := context.Background()
		s := drv.open(t, newFakeClock())
		uses := []struct {
			name string
			use  func(tx *Tx, id string) error
		}{
			{"GetOrder", func(tx *Tx, id string) error { _, err := tx.GetOrder(ctx, id); return err }},
			{"InsertDelivery", func(tx *Tx, id string) error {
				_, _, err := tx.InsertDelivery(ctx, DeliveryInput{OrderID: id, OrderRevision: 1, Route: "r", Backend: "b"})
				return err
			}},
			{"PutApproval", func(tx *Tx, id string) error { return tx.PutApproval(ctx, id, ApprovalPending, []byte(`{}`)) }},
			{"InsertTask", func(tx *Tx, id string) error {
				_, _, err := tx.InsertTask(ctx, TaskInput{OrderID: id, Text: "call the customer"})
				return err
			}},
			{"AddEvent", func(tx *Tx, id string) error {
				_, err := tx.AddEvent(ctx, EventInput{OrderID: id, Actor: "system", Kind: "note"})
				return err
			}},
			{"deferred AddEvent", func(tx *Tx, id string) error {
				tx.DeferEvents()
				if _, err := tx.AddEvent(ctx, EventInput{OrderID: id, Actor: "system", Kind: "note"}); err != nil {
					return err
				}
				return tx.FlushEvents(ctx)
			}},
			{"Attempt", func(tx *Tx, id string) error {
				failed, err := tx.Attempt(ctx, func() error { return errors.New("rolled back") })
				if failed == nil {
					return errors.New("the attempt did not fail")
				}
				return err
			}},
		}
		for _, u := range uses {
			doc := insertDoc(t, s, "edi", "use-"+u.name)
			write(t, s, func(tx *Tx) error {
				rec, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, Order: testOrder("PO-" + u.name), Hold: true})
				if err != nil {
					return err
				}
				if err := u.use(tx, rec.ID); err != nil {
					return fmt.Errorf("%s: %w", u.name, err)
				}
				if n := rowsOf(t, tx, doc.ID); n != 1 {
					t.Errorf("%s: %d rows written, want 1", u.name, n)
				}
				return nil
			})
		}
		doc := insertDoc(t, s, "edi", "conflict")
		err := s.Write(ctx, func(tx *Tx) error {
			if _, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, Order: testOrder("PO-1")}); err != nil {
				return err
			}
			if _, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, Order: testOrder("PO-1"), Hold: true}); err != nil {
				return err
			}
			return tx.FlushOrderWrites(ctx)
		})
		if !errors.Is(err, ErrConflict) {
			t.Errorf("a held order of a message with an order: %v, want ErrConflict", err)
		}
	})
}

// TestHeldRecordsDecodeAsStored: the records InsertOrder with Hold and a
// held UpdateOrder return have no canonical JSON yet (it is written once,
// at the flush), yet Order and OrderFrom give what decoding the row's
// JSON gives, also for the orders whose JSON does not bring them back as
// they are (a byte that is not UTF-8, an empty list).
func TestHeldRecordsDecodeAsStored(t *testing.T) {
	cases := map[string]func(o *order.Order){
		"plain":       func(o *order.Order) {},
		"not UTF-8":   func(o *order.Order) { o.Lines[0].Description = "Schraube \xff M8" },
		"empty notes": func(o *order.Order) { o.Notes = []string{} },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := testStore(t, newFakeClock())
			doc := insertDoc(t, s, "edi", "held-"+name)
			o := testOrder("PO-DEC")
			change(o)
			var inserted, updated *order.Order
			var insertedRec, updatedRec OrderRecord
			write(t, s, func(tx *Tx) error {
				rec, _, err := tx.InsertOrder(ctx, OrderInput{DocumentID: doc.ID, Order: o, Hold: true})
				if err != nil {
					return err
				}
				if rec.Canonical != nil {
					t.Errorf("InsertOrder with Hold wrote the JSON before the flush")
				}
				insertedRec = rec
				if inserted, err = rec.Order(); err != nil {
					return err
				}
				tx.DeferOrderWrites(rec.ID)
				n := *o
				n.CustomerID = "C-9"
				up, err := tx.UpdateOrder(ctx, OrderUpdate{ID: rec.ID, Revision: rec.Revision, Order: &n, Read: &rec})
				if err != nil {
					return err
				}
				if up.Canonical != nil {
					t.Errorf("a held UpdateOrder wrote the JSON before the flush")
				}
				updatedRec = up
				if updated, err = up.OrderFrom(&n); err != nil {
					return err
				}
				if _, err := tx.SetOrderStatusRevision(ctx, rec.ID, up.Revision, order.StatusRouted); err != nil {
					return err
				}
				return tx.FlushOrderWrites(ctx)
			})
			stored := getOrderT(t, s, insertedRec.ID)
			want, err := stored.Order()
			if err != nil {
				t.Fatal(err)
			}
			if want.Status != order.StatusRouted || want.CustomerID != "C-9" {
				t.Errorf("stored: status %s, customer %s; want routed, C-9", want.Status, want.CustomerID)
			}
			want.Status = updatedRec.Status
			if fmt.Sprintf("%#v", updated) != fmt.Sprintf("%#v", want) {
				t.Errorf("OrderFrom of the held update:\n%#v\nwant (the stored JSON decoded)\n%#v", updated, want)
			}
			want.Status, want.CustomerID = insertedRec.Status, o.CustomerID
			if fmt.Sprintf("%#v", inserted) != fmt.Sprintf("%#v", want) {
				t.Errorf("Order of the held insert:\n%#v\nwant\n%#v", inserted, want)
			}
		})
	}
}
