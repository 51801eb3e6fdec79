package sqliteq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
)

// ErrNoTx is returned by Transactional for a message that does not come
// from a Subscriber of this package.
var ErrNoTx = errors.New("message carries no subscriber transaction")

// TxFromContext returns the write transaction a message was delivered in
// (msg.Context()). A handler writes its state through it and publishes the
// next message in it (NewPublisherInTx, or NewPublisher with the message's
// context); the subscriber commits it together with the ack. Never Commit
// or Rollback it, and never write through the *sql.DB or Writer.BeginTx
// inside a handler.
func TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	h, ok := handleFromContext(ctx)
	if !ok {
		return nil, false
	}
	return h.tx.Tx, true
}

var attempts atomic.Uint64

// Transactional is a handler middleware for messages of a Subscriber. It
// runs each call of the handler (each attempt, when a retry middleware
// wraps it) in a savepoint of the message's transaction and rolls the
// savepoint back when the handler fails, so a failed attempt leaves no
// writes behind. Messages the handler returns get the message's context
// unless they carry a subscriber transaction already, so a router
// publisher made by NewPublisher inserts them in the same transaction.
// Put it inside (after) the retry middleware.
func Transactional(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		tx, ok := TxFromContext(msg.Context())
		if !ok {
			return nil, ErrNoTx
		}
		sp := fmt.Sprintf("sqliteq_a%d", attempts.Add(1))
		// The savepoint statements must run even if the message's context
		// is cancelled: a partial attempt must not stay in the transaction.
		ctx := context.WithoutCancel(msg.Context())
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			return nil, fmt.Errorf("opening attempt savepoint: %w", err)
		}
		out, err := h(msg)
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO "+sp+"; RELEASE "+sp); rbErr != nil {
				return nil, errors.Join(err, fmt.Errorf("rolling back attempt: %w", rbErr))
			}
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "RELEASE "+sp); err != nil {
			return nil, fmt.Errorf("releasing attempt savepoint: %w", err)
		}
		for _, o := range out {
			if _, ok := handleFromContext(o.Context()); !ok {
				o.SetContext(msg.Context())
			}
		}
		return out, nil
	}
}
