package pgq

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"
)

var attempts atomic.Uint64

// Transactional is a handler middleware for messages of a Subscriber. It
// runs each call of the handler (each attempt, when a retry middleware
// wraps it) in a savepoint of the message's transaction and rolls the
// savepoint back when the handler fails: in PostgreSQL a failed statement
// aborts the transaction, and the rollback both discards the attempt's
// writes and makes the transaction usable again for the next attempt (or
// for an outer middleware recording the failure). Messages the handler
// returns get the message's context, so a publisher from
// Queue.NewPublisher inserts them in the same transaction. Put it inside
// (after) the retry middleware.
func Transactional(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		tx, ok := TxFromContext(msg.Context())
		if !ok {
			return nil, ErrNoTx
		}
		sp := fmt.Sprintf("pgq_a%d", attempts.Add(1))
		// The savepoint statements must run even when the message's context
		// is cancelled: a partial attempt must not stay in the transaction.
		ctx := context.WithoutCancel(msg.Context())
		if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			return nil, fmt.Errorf("opening attempt savepoint: %w", err)
		}
		out, err := h(msg)
		if err != nil {
			if rbErr := rollbackTo(ctx, tx, sp); rbErr != nil {
				return nil, errors.Join(err, fmt.Errorf("rolling back attempt: %w", rbErr))
			}
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); err != nil {
			return nil, fmt.Errorf("releasing attempt savepoint: %w", err)
		}
		for _, o := range out {
			if _, ok := TxFromContext(o.Context()); !ok {
				o.SetContext(msg.Context())
			}
		}
		return out, nil
	}
}
