package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

// ChannelCounts are a channel's figures since a time.
type ChannelCounts struct {
	Documents    int
	Rejected     int // documents rejected or quarantined
	LastDocument time.Time
	LastError    string // the last rejected document's reason
	LastErrorAt  time.Time
	Orders       int
}

// Activity are the dashboard's figures since a time.
type Activity struct {
	Channels  map[string]*ChannelCounts
	Documents int
	Orders    int
	// Touchless counts the orders accepted without a person: never held,
	// never in review.
	Touchless int
}

// ActivitySince counts documents and orders received since since, per
// channel.
func (s *Store) ActivitySince(ctx context.Context, since time.Time) (Activity, error) {
	a := Activity{Channels: map[string]*ChannelCounts{}}
	ch := func(name string) *ChannelCounts {
		c, ok := a.Channels[name]
		if !ok {
			c = &ChannelCounts{}
			a.Channels[name] = c
		}
		return c
	}
	err := s.read(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, `SELECT channel, status, count(*), max(received_at) FROM documents
			WHERE received_at >= ? GROUP BY channel, status`, nanos(since))
		if err != nil {
			return err
		}
		for rows.Next() {
			var name, status string
			var n int
			var last int64
			if err := rows.Scan(&name, &status, &n, &last); err != nil {
				rows.Close()
				return err
			}
			c := ch(name)
			c.Documents += n
			a.Documents += n
			if status == string(DocumentRejected) || status == string(DocumentQuarantined) {
				c.Rejected += n
			}
			if t := fromNanos(last); t.After(c.LastDocument) {
				c.LastDocument = t
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for name, c := range a.Channels {
			if c.Rejected == 0 {
				continue
			}
			var at int64
			err := q.QueryRowContext(ctx, `SELECT error, received_at FROM documents WHERE channel = ? AND received_at >= ?
				AND status IN (?, ?) ORDER BY received_at DESC LIMIT 1`, name, nanos(since), DocumentRejected, DocumentQuarantined).Scan(&c.LastError, &at)
			if err != nil {
				return err
			}
			c.LastErrorAt = fromNanos(at)
		}
		rows, err = q.QueryContext(ctx, `SELECT d.channel, count(*) FROM orders o JOIN documents d ON d.id = o.document_id
			WHERE o.created_at >= ? GROUP BY d.channel`, nanos(since))
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			var n int
			if err := rows.Scan(&name, &n); err != nil {
				rows.Close()
				return err
			}
			ch(name).Orders += n
			a.Orders += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `SELECT count(*) FROM orders o WHERE o.created_at >= ? AND o.status IN (?, ?, ?)
			AND NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id AND e.kind IN ('held', 'review_accepted'))`,
			nanos(since), order.StatusAccepted, order.StatusRouted, order.StatusDelivered).Scan(&a.Touchless)
	})
	if err != nil {
		return Activity{}, fmt.Errorf("counting activity: %w", err)
	}
	return a, nil
}

// QueueSizes are the work waiting for people or for a retry.
type QueueSizes struct {
	Review, Held, DeadDeliveries, Quarantine int
}

// Queues counts what waits: drafts in review, held orders, dead
// deliveries, quarantined messages.
func (s *Store) Queues(ctx context.Context) (QueueSizes, error) {
	var q QueueSizes
	err := s.read(ctx, func(db querier) error {
		return db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM orders WHERE status = ?),
			(SELECT count(*) FROM orders WHERE status = ?),
			(SELECT count(*) FROM deliveries WHERE status = ?),
			(SELECT count(*) FROM quarantine)`, order.StatusReview, order.StatusHeld, DeliveryDead).
			Scan(&q.Review, &q.Held, &q.DeadDeliveries, &q.Quarantine)
	})
	if err != nil {
		return QueueSizes{}, fmt.Errorf("counting queues: %w", err)
	}
	return q, nil
}
