package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Event kinds used by the gateway; other kinds are allowed.
const (
	EventReceived        = "received"
	EventParsed          = "parsed"
	EventDuplicate       = "duplicate"
	EventAccepted        = "accepted"
	EventHeld            = "held"
	EventApproved        = "approved"
	EventRejected        = "rejected"
	EventRouted          = "routed"
	EventDeliveryAttempt = "delivery_attempt"
	EventDelivered       = "delivered"
	EventAckSent         = "ack_sent"
	EventReprocessed     = "reprocessed"
)

// ActorSystem is the actor of events the gateway causes by itself.
const ActorSystem = "system"

// EventInput is one entry of an order's or a document's timeline. At
// least one of OrderID and DocumentID is required.
type EventInput struct {
	OrderID    string
	DocumentID string
	At         time.Time // the store's clock when zero
	Actor      string    // "system", a user name, a channel name
	Kind       string
	Reason     string
	Data       json.RawMessage // optional; must be valid JSON
}

// Event is a recorded timeline entry. Events are append-only.
type Event struct {
	ID         string
	OrderID    string
	DocumentID string
	At         time.Time
	Actor      string
	Kind       string
	Reason     string
	Data       json.RawMessage
}

const eventColumns = `id, order_id, document_id, at, actor, kind, reason, data`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var orderID, docID, data sql.NullString
	var at int64
	if err := row.Scan(&e.ID, &orderID, &docID, &at, &e.Actor, &e.Kind, &e.Reason, &data); err != nil {
		return Event{}, err
	}
	e.OrderID, e.DocumentID, e.At = orderID.String, docID.String, fromNanos(at)
	if data.Valid {
		e.Data = json.RawMessage(data.String)
	}
	return e, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// AddEvent appends an event to the timeline.
func (t *Tx) AddEvent(ctx context.Context, in EventInput) (Event, error) {
	if in.OrderID == "" && in.DocumentID == "" {
		return Event{}, fmt.Errorf("adding event: %w: an order or a document id is required", ErrInvalid)
	}
	if in.Kind == "" || in.Actor == "" {
		return Event{}, fmt.Errorf("adding event: %w: kind and actor are required", ErrInvalid)
	}
	var data sql.NullString
	if len(in.Data) > 0 {
		if !json.Valid(in.Data) {
			return Event{}, fmt.Errorf("adding %s event: %w: data is not valid JSON", in.Kind, ErrInvalid)
		}
		data = sql.NullString{String: string(in.Data), Valid: true}
	}
	now := t.s.clock()
	at := in.At
	if at.IsZero() {
		at = now
	}
	e := Event{ID: t.s.newID("evt", now), OrderID: in.OrderID, DocumentID: in.DocumentID, At: at.UTC(),
		Actor: in.Actor, Kind: in.Kind, Reason: in.Reason, Data: in.Data}
	row := []any{e.ID, nullString(e.OrderID), nullString(e.DocumentID), nanos(at), e.Actor, e.Kind, e.Reason, data}
	if t.deferEvents {
		t.events = append(t.events, row...)
		return e, nil
	}
	if err := t.flushInsert(ctx, in.OrderID); err != nil {
		return Event{}, err
	}
	if _, err := t.tx.ExecContext(ctx, insertEvents(1), row...); err != nil {
		return Event{}, fmt.Errorf("adding %s event: %w", in.Kind, err)
	}
	return e, nil
}

// DeferEvents makes t hold back the inserts of AddEvent (which still
// checks its input at once) until FlushEvents, which writes them with
// one statement per eventsPerInsert events instead of one each. A read of
// the timeline in t writes what is held first. The caller must call
// FlushEvents before the transaction commits; a Tx rolled back loses
// the held events with it. Do not open a savepoint of t's transaction
// while events are held, but through Attempt: a rollback to it would not
// take them back.
func (t *Tx) DeferEvents() { t.deferEvents = true }

// DeferringEvents reports whether t holds events back (DeferEvents), for
// a caller whose caller may flush them with more.
func (t *Tx) DeferringEvents() bool { return t.deferEvents }

// FlushEvents writes the events DeferEvents held back and stops holding
// them back.
func (t *Tx) FlushEvents(ctx context.Context) error {
	t.deferEvents = false
	return t.flushEvents(ctx)
}

// eventsPerInsert bounds the rows of one INSERT of held events (eight
// parameters each), which also bounds the statements the statement cache
// holds for it.
const eventsPerInsert = 32

func (t *Tx) flushEvents(ctx context.Context) error {
	const cols = 8
	if len(t.events) > 0 && t.held != nil && t.held.insert {
		// The held events may refer to the order InsertOrder holds back.
		if err := t.flushOrders(ctx); err != nil {
			return err
		}
	}
	for len(t.events) > 0 {
		n := min(len(t.events)/cols, eventsPerInsert)
		if _, err := t.tx.ExecContext(ctx, insertEvents(n), t.events[:n*cols]...); err != nil {
			t.events = nil
			return fmt.Errorf("adding %d event(s): %w", n, err)
		}
		t.events = t.events[n*cols:]
	}
	t.events = nil
	return nil
}

// insertEvents returns the INSERT of n events, 1 <= n <= eventsPerInsert.
func insertEvents(n int) string { return insertEventsSQL[n] }

// insertEventsSQL holds the INSERT of n events at n.
var insertEventsSQL = func() (out [eventsPerInsert + 1]string) {
	for n := 1; n <= eventsPerInsert; n++ {
		out[n] = `INSERT INTO order_events (` + eventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)` +
			strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?)", n-1)
	}
	return out
}()

func queryEvents(ctx context.Context, q querier, col, id string) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM order_events WHERE `+col+` = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("reading events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("reading events of %s: %w", id, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading events of %s: %w", id, err)
	}
	return out, nil
}

// Timeline returns the events of an order, oldest first (by time, then by
// id, which grows with insertion).
func (t *Tx) Timeline(ctx context.Context, orderID string) ([]Event, error) {
	if err := t.flushEvents(ctx); err != nil {
		return nil, err
	}
	return queryEvents(ctx, t.tx, "order_id", orderID)
}

// Timeline is Tx.Timeline over committed data.
func (s *Store) Timeline(ctx context.Context, orderID string) ([]Event, error) {
	var out []Event
	err := s.read(ctx, func(q querier) (err error) { out, err = queryEvents(ctx, q, "order_id", orderID); return err })
	return out, err
}

// DocumentEvents returns the events recorded against a document, oldest
// first.
func (t *Tx) DocumentEvents(ctx context.Context, docID string) ([]Event, error) {
	if err := t.flushEvents(ctx); err != nil {
		return nil, err
	}
	return queryEvents(ctx, t.tx, "document_id", docID)
}

// DocumentEvents is Tx.DocumentEvents over committed data.
func (s *Store) DocumentEvents(ctx context.Context, docID string) ([]Event, error) {
	var out []Event
	err := s.read(ctx, func(q querier) (err error) { out, err = queryEvents(ctx, q, "document_id", docID); return err })
	return out, err
}

// EventsOfKind returns the events of a kind (e.g. review_accepted, whose
// data are reviewers' corrections), oldest first, at most limit.
func (s *Store) EventsOfKind(ctx context.Context, kind string, limit int) ([]Event, error) {
	if limit <= 0 || limit > 100000 {
		limit = 100000
	}
	var out []Event
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM order_events WHERE kind = ? ORDER BY at, id LIMIT ?`, kind, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s events: %w", kind, err)
	}
	return out, nil
}
