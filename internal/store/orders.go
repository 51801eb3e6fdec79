package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

// OrderInput is an order a stage extracted from a document.
type OrderInput struct {
	DocumentID   string
	MessageIndex int    // which message of the document (0-based)
	PartnerID    string // when known
	Order        *order.Order
	// Hold has InsertOrder hold the row back as DeferOrderWrites holds
	// updates: the Tx writes it with one INSERT once the updates after it
	// are done (FlushOrderWrites, or any method that reads or refers to
	// the orders table), instead of an INSERT and an UPDATE of the large
	// row. For an order of a document stored in this transaction, which
	// therefore has no order yet: a row of the same document and message
	// found at the flush is an error, not the idempotent no-op.
	Hold bool
}

// OrderUpdate replaces an order's content. Revision is the revision the
// caller read: the update fails with ErrConflict when the row has moved on.
type OrderUpdate struct {
	ID        string
	Revision  int64
	PartnerID string
	Order     *order.Order
	// Read, when set, is the record the caller read, with ID and Revision:
	// the columns an update leaves as they are (document, message index,
	// creation time) are taken from it instead of from the row.
	Read *OrderRecord
	// ContentHash, when set, replaces the stored content hash of the
	// order as received and resolved (the normalize stage sets it; the
	// duplicate rule compares it, see PriorOrder). Empty keeps it.
	ContentHash string
}

// OrderRecord is a stored order: the columns the store indexes, derived
// from the canonical order on every write, and the canonical JSON itself
// (with "id" set to ID and "status" equal to Status).
type OrderRecord struct {
	ID                string
	DocumentID        string
	MessageIndex      int
	Revision          int64 // 1 on insert, +1 on every update
	Status            order.Status
	Channel           order.Channel
	PartnerID         string
	CustomerID        string
	PONumber          string
	Purpose           order.Purpose
	PODate            order.Date
	RequestedDelivery order.Date
	Currency          string
	Total             string // declared total, else the lines' total, else ""
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Canonical         json.RawMessage
	// lazy, in a record of a row a Tx holds back (OrderInput.Hold,
	// DeferOrderWrites), is the order Canonical will be written from at
	// the flush; Canonical is nil until then. Order and OrderFrom take it.
	lazy *order.Order
}

// Order decodes the canonical JSON.
func (r OrderRecord) Order() (*order.Order, error) {
	data := []byte(r.Canonical)
	if data == nil && r.lazy != nil {
		var err error
		if data, err = order.Marshal(r.lazy); err != nil {
			return nil, fmt.Errorf("encoding order %s: %w", r.ID, err)
		}
	}
	var o order.Order
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("decoding order %s: %w", r.ID, err)
	}
	return &o, nil
}

// OrderFrom returns what r.Order returns, r being the record UpdateOrder
// returned for o, without decoding r.Canonical in the usual case (see
// order.Decoded): a copy of o with the id and status it was stored with.
// The copy shares o's lines, parties and other lists, maps and pointers:
// change neither in place afterwards.
func (r OrderRecord) OrderFrom(o *order.Order) (*order.Order, error) {
	c := *o
	c.ID, c.Status = r.ID, r.Status
	if r.Canonical == nil && r.lazy != nil {
		d, err := order.DecodedCopy(&c)
		if err != nil {
			return nil, fmt.Errorf("reading order %s: %w", r.ID, err)
		}
		return d, nil
	}
	d, err := order.Decoded(&c, r.Canonical)
	if err != nil {
		return nil, fmt.Errorf("reading order %s: %w", r.ID, err)
	}
	return d, nil
}

const orderColumns = `id, document_id, message_index, revision, status, channel, partner_id, customer_id,
	po_number, purpose, po_date, requested_delivery, currency, total, created_at, updated_at, canonical`

func scanOrder(row interface{ Scan(...any) error }) (OrderRecord, error) {
	var r OrderRecord
	var poDate, delivery, canonical string
	var created, updated int64
	err := row.Scan(&r.ID, &r.DocumentID, &r.MessageIndex, &r.Revision, &r.Status, &r.Channel, &r.PartnerID,
		&r.CustomerID, &r.PONumber, &r.Purpose, &poDate, &delivery, &r.Currency, &r.Total, &created, &updated, &canonical)
	if err != nil {
		return OrderRecord{}, err
	}
	if err := r.setDates(poDate, delivery); err != nil {
		return OrderRecord{}, err
	}
	r.CreatedAt, r.UpdatedAt = fromNanos(created), fromNanos(updated)
	text, err := canonicalText(canonical)
	if err != nil {
		return OrderRecord{}, fmt.Errorf("order %s: %w", r.ID, err)
	}
	r.Canonical = json.RawMessage(text)
	return r, nil
}

// setDates sets the dates from their columns.
func (r *OrderRecord) setDates(poDate, delivery string) error {
	var err error
	if poDate != "" {
		if r.PODate, err = order.ParseDate(poDate); err != nil {
			return fmt.Errorf("order %s: po_date: %w", r.ID, err)
		}
	}
	if delivery != "" {
		if r.RequestedDelivery, err = order.ParseDate(delivery); err != nil {
			return fmt.Errorf("order %s: requested_delivery: %w", r.ID, err)
		}
	}
	return nil
}

// orderFields are the derived columns and the canonical JSON of o stored
// under id.
type orderFields struct {
	status    order.Status
	total     string
	canonical []byte
}

// deriveOrder returns the fields of o stored under id; with lazy, the
// canonical JSON is not written (nil) and the copy of o it is to be
// written from is returned instead.
func deriveOrder(id string, o *order.Order, lazy bool) (orderFields, *order.Order, error) {
	if o == nil {
		return orderFields{}, nil, fmt.Errorf("%w: no order", ErrInvalid)
	}
	c := *o
	c.ID = id
	if c.Status == "" {
		c.Status = order.StatusReceived
	}
	var total string
	if c.Totals != nil && c.Totals.Amount != nil {
		total = c.Totals.Amount.String()
	} else if sum, ok := c.LinesTotal(); ok && len(c.Lines) > 0 {
		total = sum.String()
	}
	f := orderFields{status: c.Status, total: total}
	if lazy {
		return f, &c, nil
	}
	b, err := order.Marshal(&c)
	if err != nil {
		return orderFields{}, nil, fmt.Errorf("encoding order: %w", err)
	}
	f.canonical = b
	return f, nil, nil
}

// NewOrderID returns a new order id, for an order whose id must be known
// before InsertOrder (set as its Order.ID).
func (t *Tx) NewOrderID() string { return t.s.newID("ord", t.s.clock()) }

// InsertOrder stores an order extracted from a document, with revision 1
// and status "received" unless the order says otherwise. It is idempotent
// on (DocumentID, MessageIndex): when that order exists it returns the
// stored row and created=false, changing nothing.
func (t *Tx) InsertOrder(ctx context.Context, in OrderInput) (rec OrderRecord, created bool, err error) {
	if err := t.flushOrders(ctx); err != nil {
		return OrderRecord{}, false, err
	}
	if in.DocumentID == "" || in.MessageIndex < 0 {
		return OrderRecord{}, false, fmt.Errorf("inserting order: %w: document id and message index are required", ErrInvalid)
	}
	now := t.s.clock()
	id := in.Order.ID
	if id == "" {
		id = t.s.newID("ord", now)
	}
	f, lazy, err := deriveOrder(id, in.Order, in.Hold)
	if err != nil {
		return OrderRecord{}, false, fmt.Errorf("inserting order of %s#%d: %w", in.DocumentID, in.MessageIndex, err)
	}
	o := in.Order
	poDate, delivery := o.PODate.String(), o.RequestedDelivery.String()
	// The row as inserted.
	inserted := OrderRecord{ID: id, DocumentID: in.DocumentID, MessageIndex: in.MessageIndex, Revision: 1, Status: f.status,
		Channel: o.Channel, PartnerID: in.PartnerID, CustomerID: o.CustomerID, PONumber: o.PONumber, Purpose: o.Purpose,
		Currency: o.Currency, Total: f.total, CreatedAt: fromNanos(nanos(now)), UpdatedAt: fromNanos(nanos(now)),
		Canonical: json.RawMessage(f.canonical), lazy: lazy}
	if err := inserted.setDates(poDate, delivery); err != nil {
		return OrderRecord{}, false, fmt.Errorf("reading order of %s#%d: %w", in.DocumentID, in.MessageIndex, err)
	}
	if in.Hold {
		t.held = &heldOrder{insert: true, rec: inserted, poDate: poDate, delivery: delivery}
		return inserted, true, nil
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO orders (`+orderColumns+`)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (document_id, message_index) DO NOTHING`,
		id, in.DocumentID, in.MessageIndex, f.status, o.Channel, in.PartnerID, o.CustomerID, o.PONumber, o.Purpose,
		poDate, delivery, o.Currency, f.total, nanos(now), nanos(now), t.s.canonicalValue(f.canonical))
	if err != nil {
		return OrderRecord{}, false, fmt.Errorf("inserting order of %s#%d: %w", in.DocumentID, in.MessageIndex, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return OrderRecord{}, false, fmt.Errorf("inserting order of %s#%d: %w", in.DocumentID, in.MessageIndex, err)
	}
	if n == 1 {
		return inserted, true, nil
	}
	// The order was there: the stored row.
	rec, err = scanOrder(t.tx.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE document_id = ? AND message_index = ?`,
		in.DocumentID, in.MessageIndex))
	if err != nil {
		return OrderRecord{}, false, fmt.Errorf("reading order of %s#%d: %w", in.DocumentID, in.MessageIndex, err)
	}
	return rec, false, nil
}

// UpdateOrder replaces the order's content and derived columns and bumps
// its revision, if the stored revision is still u.Revision (ErrConflict
// otherwise; ErrNotFound when there is no such order). It returns the
// updated record, which it knows but for the columns an update leaves as
// they are: those come from u.Read, else from the UPDATE (RETURNING).
func (t *Tx) UpdateOrder(ctx context.Context, u OrderUpdate) (OrderRecord, error) {
	if u.Read != nil && (u.Read.ID != u.ID || u.Read.Revision != u.Revision) {
		return OrderRecord{}, fmt.Errorf("updating order %s: %w: the record read is %s at revision %d, not revision %d",
			u.ID, ErrInvalid, u.Read.ID, u.Read.Revision, u.Revision)
	}
	if t.deferID == u.ID && u.Read != nil && (t.held == nil || t.held.rec.ID == u.ID) {
		return t.holdUpdate(u)
	}
	if err := t.flushOrders(ctx); err != nil {
		return OrderRecord{}, err
	}
	rec, err := t.updatedRecord(u, false)
	if err != nil {
		return OrderRecord{}, err
	}
	poDate, delivery := u.Order.PODate.String(), u.Order.RequestedDelivery.String()
	set, args := t.s.setOrderColumns(rec, poDate, delivery, u.ContentHash)
	query := `UPDATE orders SET revision = revision + 1, ` + set + ` WHERE id = ? AND revision = ?`
	args = append(args, u.ID, u.Revision)
	updated := true
	if u.Read != nil {
		res, err := t.tx.ExecContext(ctx, query, args...)
		if err != nil {
			return OrderRecord{}, fmt.Errorf("updating order %s: %w", u.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return OrderRecord{}, fmt.Errorf("updating order %s: %w", u.ID, err)
		}
		updated = n == 1
		rec.DocumentID, rec.MessageIndex, rec.CreatedAt = u.Read.DocumentID, u.Read.MessageIndex, u.Read.CreatedAt
	} else {
		var created int64
		err := t.tx.QueryRowContext(ctx, query+` RETURNING document_id, message_index, created_at`, args...).
			Scan(&rec.DocumentID, &rec.MessageIndex, &created)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return OrderRecord{}, fmt.Errorf("updating order %s: %w", u.ID, err)
		}
		updated = err == nil
		rec.CreatedAt = fromNanos(created)
	}
	if !updated {
		cur, err := getOrder(ctx, t.tx, u.ID)
		if err != nil {
			return OrderRecord{}, fmt.Errorf("updating order: %w", err)
		}
		return OrderRecord{}, fmt.Errorf("updating order %s: revision is %d, not %d: %w", u.ID, cur.Revision, u.Revision, ErrConflict)
	}
	if err := rec.setDates(poDate, delivery); err != nil {
		return OrderRecord{}, fmt.Errorf("updating order: %w", err)
	}
	return rec, nil
}

// updatedRecord is the record UpdateOrder makes of u, at revision
// u.Revision+1, its canonical JSON not yet written with lazy; the columns
// an update leaves as they are (document, message index, creation time)
// are not set.
func (t *Tx) updatedRecord(u OrderUpdate, lazy bool) (OrderRecord, error) {
	f, c, err := deriveOrder(u.ID, u.Order, lazy)
	if err != nil {
		return OrderRecord{}, fmt.Errorf("updating order %s: %w", u.ID, err)
	}
	o := u.Order
	return OrderRecord{ID: u.ID, Revision: u.Revision + 1, Status: f.status, Channel: o.Channel, PartnerID: u.PartnerID,
		CustomerID: o.CustomerID, PONumber: o.PONumber, Purpose: o.Purpose, Currency: o.Currency, Total: f.total,
		UpdatedAt: fromNanos(nanos(t.s.clock())), Canonical: json.RawMessage(f.canonical), lazy: c}, nil
}

// setOrderColumns is the SET list of an order row's content and derived
// columns, revision aside, with its arguments: r's, with the row's forms
// of its dates; contentHash "" leaves that column as it is.
func (s *Store) setOrderColumns(r OrderRecord, poDate, delivery, contentHash string) (string, []any) {
	set := `status = ?, channel = ?, partner_id = ?, customer_id = ?, po_number = ?, purpose = ?,
		po_date = ?, requested_delivery = ?, currency = ?, total = ?, updated_at = ?, canonical = ?`
	args := []any{r.Status, r.Channel, r.PartnerID, r.CustomerID, r.PONumber, r.Purpose, poDate,
		delivery, r.Currency, r.Total, nanos(r.UpdatedAt), s.canonicalValue(r.Canonical)}
	if contentHash != "" {
		set += `, content_hash = ?`
		args = append(args, contentHash)
	}
	return set, args
}

func getOrder(ctx context.Context, q querier, id string) (OrderRecord, error) {
	r, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return OrderRecord{}, fmt.Errorf("reading order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return OrderRecord{}, fmt.Errorf("reading order %s: %w", id, err)
	}
	return r, nil
}

// GetOrder returns the order with id, or ErrNotFound.
func (t *Tx) GetOrder(ctx context.Context, id string) (OrderRecord, error) {
	if err := t.flushOrders(ctx); err != nil {
		return OrderRecord{}, err
	}
	return getOrder(ctx, t.tx, id)
}

// GetOrder returns the committed order with id, or ErrNotFound.
func (s *Store) GetOrder(ctx context.Context, id string) (OrderRecord, error) {
	var r OrderRecord
	err := s.read(ctx, func(q querier) (err error) { r, err = getOrder(ctx, q, id); return err })
	return r, err
}

func ordersOfDocument(ctx context.Context, q querier, docID string) ([]OrderRecord, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE document_id = ? ORDER BY message_index`, docID)
	if err != nil {
		return nil, fmt.Errorf("listing orders of document %s: %w", docID, err)
	}
	defer rows.Close()
	var out []OrderRecord
	for rows.Next() {
		r, err := scanOrder(rows)
		if err != nil {
			return nil, fmt.Errorf("listing orders of document %s: %w", docID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing orders of document %s: %w", docID, err)
	}
	return out, nil
}

// OrdersOfDocument returns the orders extracted from a document, by
// message index.
func (t *Tx) OrdersOfDocument(ctx context.Context, docID string) ([]OrderRecord, error) {
	if err := t.flushOrders(ctx); err != nil {
		return nil, err
	}
	return ordersOfDocument(ctx, t.tx, docID)
}

// OrdersOfDocument is Tx.OrdersOfDocument over committed data.
func (s *Store) OrdersOfDocument(ctx context.Context, docID string) ([]OrderRecord, error) {
	var out []OrderRecord
	err := s.read(ctx, func(q querier) (err error) { out, err = ordersOfDocument(ctx, q, docID); return err })
	return out, err
}

// OrderFilter selects orders; zero fields select all.
type OrderFilter struct {
	Status     order.Status
	Channel    order.Channel
	PartnerID  string
	CustomerID string
	PONumber   string
	From       time.Time // created at or after
	To         time.Time // created before
	Ascending  bool      // oldest first; newest first by default
}

// OrderPage is one page of orders; Next is the cursor of the next page,
// "" on the last.
type OrderPage struct {
	Orders []OrderRecord
	Next   string
}

func listOrders(ctx context.Context, q querier, f OrderFilter, cursor string, limit int) (OrderPage, error) {
	limit = pageSize(limit)
	var conds []string
	var args []any
	add := func(cond string, arg any) { conds = append(conds, cond); args = append(args, arg) }
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.Channel != "" {
		add("channel = ?", f.Channel)
	}
	if f.PartnerID != "" {
		add("partner_id = ?", f.PartnerID)
	}
	if f.CustomerID != "" {
		add("customer_id = ?", f.CustomerID)
	}
	if f.PONumber != "" {
		add("po_number = ?", f.PONumber)
	}
	if !f.From.IsZero() {
		add("created_at >= ?", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("created_at < ?", nanos(f.To))
	}
	tail, args, err := pageQuery(conds, args, "created_at", cursor, f.Ascending, limit)
	if err != nil {
		return OrderPage{}, fmt.Errorf("listing orders: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders`+tail, args...)
	if err != nil {
		return OrderPage{}, fmt.Errorf("listing orders: %w", err)
	}
	defer rows.Close()
	var page OrderPage
	for rows.Next() {
		r, err := scanOrder(rows)
		if err != nil {
			return OrderPage{}, fmt.Errorf("listing orders: %w", err)
		}
		page.Orders = append(page.Orders, r)
	}
	if err := rows.Err(); err != nil {
		return OrderPage{}, fmt.Errorf("listing orders: %w", err)
	}
	if len(page.Orders) > limit {
		page.Orders = page.Orders[:limit]
		last := page.Orders[limit-1]
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

// ListOrders returns one page of orders matching f, ordered by
// (created_at, id), starting after cursor ("" for the first page). limit
// is capped at MaxPageSize (DefaultPageSize when 0).
func (t *Tx) ListOrders(ctx context.Context, f OrderFilter, cursor string, limit int) (OrderPage, error) {
	if err := t.flushOrders(ctx); err != nil {
		return OrderPage{}, err
	}
	return listOrders(ctx, t.tx, f, cursor, limit)
}

// ListOrders is Tx.ListOrders over committed data.
func (s *Store) ListOrders(ctx context.Context, f OrderFilter, cursor string, limit int) (OrderPage, error) {
	var p OrderPage
	err := s.read(ctx, func(q querier) (err error) { p, err = listOrders(ctx, q, f, cursor, limit); return err })
	return p, err
}

// SetOrderStatus changes only an order's status (the column and the
// canonical JSON's "status", patched in place without decoding it) and
// bumps its revision, if the stored revision is still revision
// (ErrConflict otherwise). It is the cheap path for stages that decide on
// an order without changing its content.
//
// The JSON is patched here, as SQLite's json_set would (jsonSetTop): on
// SQLite the column may hold it compressed (canonicalValue); on
// PostgreSQL the row is locked (SELECT ... FOR UPDATE) first.
func (t *Tx) SetOrderStatus(ctx context.Context, id string, revision int64, status order.Status) (OrderRecord, error) {
	if err := t.flushOrders(ctx); err != nil {
		return OrderRecord{}, err
	}
	changed, err := t.setStatus(ctx, id, revision, status)
	if err != nil {
		return OrderRecord{}, err
	}
	rec, err := getOrder(ctx, t.tx, id)
	if err != nil {
		return OrderRecord{}, fmt.Errorf("setting status: %w", err)
	}
	if !changed {
		return OrderRecord{}, fmt.Errorf("setting status of order %s: revision is %d, not %d: %w", id, rec.Revision, revision, ErrConflict)
	}
	return rec, nil
}

// SetOrderStatusRevision is SetOrderStatus for a caller that needs only
// the order's new revision: the row is not read back.
func (t *Tx) SetOrderStatusRevision(ctx context.Context, id string, revision int64, status order.Status) (int64, error) {
	if t.deferID == id {
		if rev, ok, err := t.holdStatus(id, revision, status); ok {
			return rev, err
		}
	}
	if err := t.flushOrders(ctx); err != nil {
		return 0, err
	}
	changed, err := t.setStatus(ctx, id, revision, status)
	if err != nil {
		return 0, err
	}
	if changed {
		return revision + 1, nil
	}
	rec, err := getOrder(ctx, t.tx, id)
	if err != nil {
		return 0, fmt.Errorf("setting status: %w", err)
	}
	return 0, fmt.Errorf("setting status of order %s: revision is %d, not %d: %w", id, rec.Revision, revision, ErrConflict)
}

// setStatus changes the status of the order at revision, as read now
// (locked on PostgreSQL), through the prepared change of the delivery
// worker (prepareStatus, writeStatus); false when the order is missing or
// at another revision.
func (t *Tx) setStatus(ctx context.Context, id string, revision int64, status order.Status) (bool, error) {
	var stored int64
	var canonical string
	err := t.tx.QueryRowContext(ctx, `SELECT revision, canonical FROM orders WHERE id = ?`+t.s.lockSuffix(" FOR UPDATE"), id).Scan(&stored, &canonical)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && stored != revision) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("setting status of order %s: %w", id, err)
	}
	text, err := canonicalText(canonical)
	if err != nil {
		return false, fmt.Errorf("setting status of order %s: %w", id, err)
	}
	c, err := t.s.prepareStatus(id, revision, text, status)
	if err != nil {
		return false, err
	}
	return t.writeStatus(ctx, c, false)
}

// OrdersByID returns the committed orders with these ids, by id (an id
// without an order is left out), read in one snapshot outside the write
// lock: what a worker reads after leasing work on them.
func (s *Store) OrdersByID(ctx context.Context, ids []string) (map[string]OrderRecord, error) {
	out := make(map[string]OrderRecord, len(ids))
	err := s.View(ctx, func(tx *Tx) error {
		clear(out)
		return chunks(distinct(ids), func(part []string) error {
			rows, err := tx.tx.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id IN (`+inList(len(part))+`)`, args(part)...)
			if err != nil {
				return fmt.Errorf("reading orders: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				r, err := scanOrder(rows)
				if err != nil {
					return fmt.Errorf("reading orders: %w", err)
				}
				out[r.ID] = r
			}
			return rows.Err()
		})
	})
	return out, err
}

// OrderState returns an order's revision and status without its content,
// and how many of its deliveries are open (pending or being sent), in one
// query; ErrNotFound when there is no such order.
func (t *Tx) OrderState(ctx context.Context, id string) (revision int64, status order.Status, open int, err error) {
	if err := t.flushOrders(ctx); err != nil {
		return 0, "", 0, err
	}
	err = t.tx.QueryRowContext(ctx, `SELECT revision, status,
		(SELECT count(*) FROM deliveries WHERE order_id = orders.id AND status IN (?, ?))
		FROM orders WHERE id = ?`, DeliveryPending, DeliverySending, id).Scan(&revision, &status, &open)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", 0, fmt.Errorf("reading order %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, "", 0, fmt.Errorf("reading order %s: %w", id, err)
	}
	return revision, status, open, nil
}
