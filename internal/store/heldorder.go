package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ordergate/ordergate/normalize/order"
)

// heldOrder is an order row whose writes a Tx holds back (DeferOrderWrites):
// the record as those writes leave it.
type heldOrder struct {
	insert      bool        // the row is not in the database yet (OrderInput.Hold)
	base        int64       // the revision the row has in the database
	rec         OrderRecord // the record after the held writes (rec.Revision is the last)
	poDate      string      // rec's dates as the row stores them
	delivery    string
	contentHash string // "" leaves the column as it is
}

// DeferOrderWrites makes t hold back its writes of order id's row: an
// UpdateOrder with a Read record and the SetOrderStatusRevision calls after
// it change the record in memory only, revision by revision as they would
// in the row, and FlushOrderWrites writes the result as one UPDATE
// (checking that the row is still at the revision the first write saw).
// A stage that changes one order several times in a transaction
// (normalize, decide and route on the automatic path) writes its large
// row once instead of three times; an order InsertOrder held back
// (OrderInput.Hold) is written with one INSERT as the held writes leave
// it.
//
// Every other method of t that reads or writes the orders table first
// writes what is held (unless it leaves that order out, as the queries
// of a customer's other orders do), so t always reads what it wrote. The caller must
// call FlushOrderWrites before the transaction commits; a Tx rolled back
// (or a savepoint released without the flush) loses the held writes with
// it. A conflict the held writes would have met is reported by the flush.
func (t *Tx) DeferOrderWrites(id string) {
	t.deferID = id
}

// FlushOrderWrites writes the order row DeferOrderWrites held back, if
// any, and stops holding writes back.
func (t *Tx) FlushOrderWrites(ctx context.Context) error {
	err := t.flushOrders(ctx)
	t.deferID = ""
	return err
}

// flushOrders writes the held order row, if any. Every method that reads
// or writes the orders table calls it first.
func (t *Tx) flushOrders(ctx context.Context) error {
	h := t.held
	if h == nil {
		return nil
	}
	t.held = nil
	if h.rec.Canonical == nil && h.rec.lazy != nil {
		b, err := order.Marshal(h.rec.lazy)
		if err != nil {
			return fmt.Errorf("encoding order %s: %w", h.rec.ID, err)
		}
		h.rec.Canonical, h.rec.lazy = b, nil
	}
	r := h.rec
	if h.insert {
		return t.insertHeld(ctx, h)
	}
	set, args := t.s.setOrderColumns(r, h.poDate, h.delivery, h.contentHash)
	query := `UPDATE orders SET revision = ?, ` + set + ` WHERE id = ? AND revision = ?`
	args = append(append([]any{r.Revision}, args...), r.ID, h.base)
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("updating order %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("updating order %s: %w", r.ID, err)
	}
	if n == 1 {
		return nil
	}
	cur, err := getOrder(ctx, t.tx, r.ID)
	if err != nil {
		return fmt.Errorf("updating order: %w", err)
	}
	return fmt.Errorf("updating order %s: revision is %d, not %d: %w", r.ID, cur.Revision, h.base, ErrConflict)
}

// insertHeld writes the row of an order InsertOrder held back, as the
// writes held after it left it.
func (t *Tx) insertHeld(ctx context.Context, h *heldOrder) error {
	r := h.rec
	res, err := t.tx.ExecContext(ctx, `INSERT INTO orders (`+orderColumns+`, content_hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (document_id, message_index) DO NOTHING`,
		r.ID, r.DocumentID, r.MessageIndex, r.Revision, r.Status, r.Channel, r.PartnerID, r.CustomerID, r.PONumber, r.Purpose,
		h.poDate, h.delivery, r.Currency, r.Total, nanos(r.CreatedAt), nanos(r.UpdatedAt), t.s.canonicalValue(r.Canonical), h.contentHash)
	if err != nil {
		return fmt.Errorf("inserting order of %s#%d: %w", r.DocumentID, r.MessageIndex, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("inserting order of %s#%d: %w", r.DocumentID, r.MessageIndex, err)
	}
	if n != 1 {
		return fmt.Errorf("inserting order of %s#%d: %w: the document has an order of that message already", r.DocumentID, r.MessageIndex, ErrConflict)
	}
	return nil
}

// flushInsert writes the row InsertOrder holds back for order id, if any,
// before a row that refers to it (its foreign key) is written.
func (t *Tx) flushInsert(ctx context.Context, id string) error {
	if t.held != nil && t.held.insert && t.held.rec.ID == id {
		return t.flushOrders(ctx)
	}
	return nil
}

// flushOrdersExcept is flushOrders for a query that leaves the order
// except out: the held writes of that order need not be written for it.
func (t *Tx) flushOrdersExcept(ctx context.Context, except string) error {
	if t.held != nil && t.held.rec.ID == except {
		return nil
	}
	return t.flushOrders(ctx)
}

// holdUpdate is UpdateOrder for the order whose writes t holds back.
func (t *Tx) holdUpdate(u OrderUpdate) (OrderRecord, error) {
	h := t.held
	if h != nil && h.rec.Revision != u.Revision {
		return OrderRecord{}, fmt.Errorf("updating order %s: revision is %d, not %d: %w", u.ID, h.rec.Revision, u.Revision, ErrConflict)
	}
	rec, err := t.updatedRecord(u, true)
	if err != nil {
		return OrderRecord{}, err
	}
	rec.DocumentID, rec.MessageIndex, rec.CreatedAt = u.Read.DocumentID, u.Read.MessageIndex, u.Read.CreatedAt
	if h == nil {
		h = &heldOrder{base: u.Revision}
	}
	h.poDate, h.delivery = u.Order.PODate.String(), u.Order.RequestedDelivery.String()
	if u.ContentHash != "" {
		h.contentHash = u.ContentHash
	}
	if err := rec.setDates(h.poDate, h.delivery); err != nil {
		return OrderRecord{}, fmt.Errorf("updating order: %w", err)
	}
	h.rec = rec
	t.held = h
	return rec, nil
}

// holdStatus is SetOrderStatusRevision for the order whose writes t holds
// back, once it holds a write of it; ok is false when it holds none.
func (t *Tx) holdStatus(id string, revision int64, status order.Status) (int64, bool, error) {
	h := t.held
	if h == nil || h.rec.ID != id {
		return 0, false, nil
	}
	if h.rec.Revision != revision {
		return 0, true, fmt.Errorf("setting status of order %s: revision is %d, not %d: %w", id, h.rec.Revision, revision, ErrConflict)
	}
	if h.rec.Canonical == nil && h.rec.lazy != nil {
		c := *h.rec.lazy
		c.Status = status
		h.rec.lazy = &c
	} else {
		patched, err := jsonSetTop(string(h.rec.Canonical), "status", string(status))
		if err != nil {
			return 0, true, fmt.Errorf("setting status of order %s: %w", id, err)
		}
		h.rec.Canonical = json.RawMessage(patched)
	}
	h.rec.Status = status
	h.rec.Revision++
	h.rec.UpdatedAt = fromNanos(nanos(t.s.clock()))
	return h.rec.Revision, true, nil
}
