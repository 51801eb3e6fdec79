package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DeliveryStatus is where a delivery of an order to a backend stands.
//
//	pending --StartAttempt--> sending --MarkDelivered--> sent
//	   ^                         |
//	   +---MarkAttemptFailed-----+
//	pending, sending --MarkDead--> dead --ResetDelivery--> pending
//	sent --ResetDelivery--> pending (send again)
//
// A sending delivery whose lease ran out (the process died while sending)
// is due again: DueDeliveries returns it.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySending DeliveryStatus = "sending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryDead    DeliveryStatus = "dead"
)

// DeliveryInput is a delivery the route stage decided on.
type DeliveryInput struct {
	OrderID       string
	OrderRevision int64 // the order revision delivered
	Route         string
	Backend       string
	NextAttemptAt time.Time // the store's clock when zero
	// Format is the output format ("json" when empty); Payload the
	// rendered bytes for formats other than json (nil: the order's
	// canonical JSON at delivery).
	Format  string
	Payload []byte
}

// Delivery is one order to one backend, in the routing outbox. Its ID is
// the idempotency key a backend gets with every attempt.
type Delivery struct {
	ID            string
	OrderID       string
	OrderRevision int64
	Route         string
	Backend       string
	Status        DeliveryStatus
	Attempts      int // attempts started
	NextAttemptAt time.Time
	LastError     string
	Receipt       string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Format        string
	Payload       []byte
}

const deliveryColumns = `id, order_id, order_revision, route, backend, status, attempts, next_attempt_at,
	last_error, receipt, created_at, updated_at, format, payload`

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, created, updated int64
	err := row.Scan(&d.ID, &d.OrderID, &d.OrderRevision, &d.Route, &d.Backend, &d.Status, &d.Attempts, &next,
		&d.LastError, &d.Receipt, &created, &updated, &d.Format, &d.Payload)
	if err != nil {
		return Delivery{}, err
	}
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromNanos(next), fromNanos(created), fromNanos(updated)
	return d, nil
}

// InsertDelivery puts a delivery in the outbox, pending. It is idempotent
// on (OrderID, Backend, OrderRevision): a second insert returns the stored
// delivery and created=false.
func (t *Tx) InsertDelivery(ctx context.Context, in DeliveryInput) (d Delivery, created bool, err error) {
	if in.OrderID == "" || in.Backend == "" {
		return Delivery{}, false, fmt.Errorf("inserting delivery: %w: order id and backend are required", ErrInvalid)
	}
	if err := t.flushInsert(ctx, in.OrderID); err != nil {
		return Delivery{}, false, err
	}
	now := t.s.clock()
	next := in.NextAttemptAt
	if next.IsZero() {
		next = now
	}
	format := in.Format
	if format == "" {
		format = "json"
	}
	// No RETURNING: on SQLite its rows go through a temporary table, which
	// cost more than the insert; the row inserted is known.
	id := t.s.newID("dlv", now)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO deliveries (`+deliveryColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?, '', '', ?, ?, ?, ?)
		ON CONFLICT (order_id, backend, order_revision) DO NOTHING`,
		id, in.OrderID, in.OrderRevision, in.Route, in.Backend, DeliveryPending, nanos(next), nanos(now), nanos(now),
		format, in.Payload)
	if err != nil {
		return Delivery{}, false, fmt.Errorf("inserting delivery of %s to %s: %w", in.OrderID, in.Backend, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Delivery{}, false, fmt.Errorf("inserting delivery of %s to %s: %w", in.OrderID, in.Backend, err)
	}
	if n == 1 {
		return Delivery{ID: id, OrderID: in.OrderID, OrderRevision: in.OrderRevision, Route: in.Route, Backend: in.Backend,
			Status: DeliveryPending, NextAttemptAt: fromNanos(nanos(next)), CreatedAt: fromNanos(nanos(now)),
			UpdatedAt: fromNanos(nanos(now)), Format: format, Payload: in.Payload}, true, nil
	}
	// The delivery was there: the stored row.
	d, err = scanDelivery(t.tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE order_id = ? AND backend = ? AND order_revision = ?`, in.OrderID, in.Backend, in.OrderRevision))
	if err != nil {
		return Delivery{}, false, fmt.Errorf("reading delivery of %s to %s: %w", in.OrderID, in.Backend, err)
	}
	return d, false, nil
}

func queryDeliveries(ctx context.Context, q querier, doing, where string, args ...any) ([]Delivery, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", doing, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

func getDelivery(ctx context.Context, q querier, id string) (Delivery, error) {
	ds, err := queryDeliveries(ctx, q, "reading delivery "+id, `id = ?`, id)
	if err != nil {
		return Delivery{}, err
	}
	if len(ds) == 0 {
		return Delivery{}, fmt.Errorf("reading delivery %s: %w", id, ErrNotFound)
	}
	return ds[0], nil
}

// GetDelivery returns the delivery with id, or ErrNotFound.
func (t *Tx) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	return getDelivery(ctx, t.tx, id)
}

// GetDelivery is Tx.GetDelivery over committed data.
func (s *Store) GetDelivery(ctx context.Context, id string) (Delivery, error) {
	var d Delivery
	err := s.read(ctx, func(q querier) (err error) { d, err = getDelivery(ctx, q, id); return err })
	return d, err
}

func dueDeliveries(ctx context.Context, q querier, now time.Time, limit int) ([]Delivery, error) {
	return queryDeliveries(ctx, q, "listing due deliveries",
		`status IN (?, ?) AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
		DeliveryPending, DeliverySending, nanos(now), pageSize(limit))
}

// DueDeliveries returns up to limit deliveries due at now: pending ones
// whose next attempt has come, and sending ones whose lease ran out.
func (t *Tx) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	return dueDeliveries(ctx, t.tx, now, limit)
}

// DueDeliveries is Tx.DueDeliveries over committed data.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.read(ctx, func(q querier) (err error) { out, err = dueDeliveries(ctx, q, now, limit); return err })
	return out, err
}

func deadLetters(ctx context.Context, q querier, limit int) ([]Delivery, error) {
	return queryDeliveries(ctx, q, "listing dead letters", `status = ? ORDER BY updated_at DESC, id DESC LIMIT ?`,
		DeliveryDead, pageSize(limit))
}

// DeadLetters returns up to limit dead deliveries, the latest first.
func (t *Tx) DeadLetters(ctx context.Context, limit int) ([]Delivery, error) {
	return deadLetters(ctx, t.tx, limit)
}

// DeadLetters is Tx.DeadLetters over committed data.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.read(ctx, func(q querier) (err error) { out, err = deadLetters(ctx, q, limit); return err })
	return out, err
}

// DeliveriesOfOrder lists an order's deliveries in tx, oldest first.
func (t *Tx) DeliveriesOfOrder(ctx context.Context, orderID string) ([]Delivery, error) {
	return queryDeliveries(ctx, t.tx, "listing deliveries of "+orderID, `order_id = ? ORDER BY created_at, id`, orderID)
}

// DeliveriesOfOrder returns an order's deliveries, oldest first.
func (s *Store) DeliveriesOfOrder(ctx context.Context, orderID string) ([]Delivery, error) {
	var out []Delivery
	err := s.read(ctx, func(q querier) (err error) {
		out, err = queryDeliveries(ctx, q, "listing deliveries of "+orderID, `order_id = ? ORDER BY created_at, id`, orderID)
		return err
	})
	return out, err
}

// StartAttempt moves a due delivery to sending, counts the attempt and
// leases it until leaseUntil: if the process dies while sending, the
// delivery is due again then. Call it (and commit) before calling the
// backend, outside any transaction.
func (t *Tx) StartAttempt(ctx context.Context, id string, leaseUntil time.Time) (Delivery, error) {
	return t.transition(ctx, id, "starting delivery attempt", []DeliveryStatus{DeliveryPending, DeliverySending},
		`status = ?, attempts = attempts + 1, next_attempt_at = ?`, DeliverySending, nanos(leaseUntil))
}

// MarkDelivered records a successful attempt and the backend's receipt.
func (t *Tx) MarkDelivered(ctx context.Context, id, receipt string) (Delivery, error) {
	return t.transition(ctx, id, "marking delivery sent", []DeliveryStatus{DeliverySending},
		`status = ?, receipt = ?, last_error = ''`, DeliverySent, receipt)
}

// MarkAttemptFailed records a failed attempt; the delivery is pending again
// and due at nextAt.
func (t *Tx) MarkAttemptFailed(ctx context.Context, id string, nextAt time.Time, cause string) (Delivery, error) {
	return t.transition(ctx, id, "marking delivery attempt failed", []DeliveryStatus{DeliverySending},
		`status = ?, next_attempt_at = ?, last_error = ?`, DeliveryPending, nanos(nextAt), cause)
}

// DeferAttempt hands back a leased delivery that was not tried (its
// backend's circuit breaker was open): pending again, due at nextAt, the
// attempt StartAttempt counted taken back, the last error kept.
func (t *Tx) DeferAttempt(ctx context.Context, id string, nextAt time.Time) (Delivery, error) {
	return t.transition(ctx, id, "deferring delivery attempt", []DeliveryStatus{DeliverySending},
		`status = ?, attempts = attempts - 1, next_attempt_at = ?`, DeliveryPending, nanos(nextAt))
}

// MarkDead gives up on a delivery (too many attempts, a permanent error)
// with the reason.
func (t *Tx) MarkDead(ctx context.Context, id, reason string) (Delivery, error) {
	return t.transition(ctx, id, "marking delivery dead", []DeliveryStatus{DeliveryPending, DeliverySending},
		`status = ?, last_error = ?`, DeliveryDead, reason)
}

// ResetDelivery makes a dead delivery pending again, due now, with its
// attempts reset: the operator's reprocess. A sent delivery is not reset
// (ErrTransition): sending an order again is a reroute.
func (t *Tx) ResetDelivery(ctx context.Context, id string) (Delivery, error) {
	return t.transition(ctx, id, "resetting delivery", []DeliveryStatus{DeliveryDead},
		`status = ?, attempts = 0, next_attempt_at = ?, receipt = ''`, DeliveryPending, nanos(t.s.clock()))
}

// transition updates a delivery whose status is one of from, and returns
// it; ErrTransition when it is in another status, ErrNotFound when missing.
func (t *Tx) transition(ctx context.Context, id, doing string, from []DeliveryStatus, set string, args ...any) (Delivery, error) {
	args = append(args, nanos(t.s.clock()), id)
	in := ""
	for i, st := range from {
		if i > 0 {
			in += ", "
		}
		in += "?"
		args = append(args, st)
	}
	d, err := scanDelivery(t.tx.QueryRowContext(ctx, `UPDATE deliveries SET `+set+`, updated_at = ? WHERE id = ? AND status IN (`+in+`)
		RETURNING `+deliveryColumns, args...))
	if err == nil {
		return d, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, fmt.Errorf("%s %s: %w", doing, id, err)
	}
	// Not changed: missing, or in another status.
	cur, err := getDelivery(ctx, t.tx, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", doing, err)
	}
	return Delivery{}, fmt.Errorf("%s %s: delivery is %s: %w", doing, id, cur.Status, ErrTransition)
}
