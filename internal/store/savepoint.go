package store

import (
	"context"
	"errors"
	"fmt"
)

// Attempt runs fn in a savepoint of the transaction, so that a failure of
// fn takes back only what fn wrote and the transaction goes on. The order
// writes and timeline events held back before (DeferOrderWrites,
// DeferEvents) are written first, and order writes are no longer held
// back; those fn holds back are written before the savepoint is
// released, or dropped with it when fn fails. Events stay held back after
// Attempt if they were before.
//
// failed is fn's error, after the rollback to the savepoint. err is the
// transaction's: a savepoint statement failed, and the caller must roll
// the whole transaction back.
func (t *Tx) Attempt(ctx context.Context, fn func() error) (failed, err error) {
	deferring := t.deferEvents
	if err := t.FlushOrderWrites(ctx); err != nil {
		return nil, err
	}
	if err := t.flushEvents(ctx); err != nil {
		return nil, err
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT store_attempt"); err != nil {
		return nil, fmt.Errorf("opening a savepoint: %w", err)
	}
	failed = fn()
	if failed == nil {
		failed = t.FlushOrderWrites(ctx)
	}
	if failed == nil {
		failed = t.flushEvents(ctx)
	}
	t.deferEvents = deferring
	if failed == nil {
		if _, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT store_attempt"); err != nil {
			return nil, fmt.Errorf("releasing a savepoint: %w", err)
		}
		return nil, nil
	}
	t.held, t.deferID, t.events, t.put = nil, "", nil, nil
	if _, err := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT store_attempt"); err != nil {
		return failed, errors.Join(failed, fmt.Errorf("rolling back to a savepoint: %w", err))
	}
	if _, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT store_attempt"); err != nil {
		return failed, errors.Join(failed, fmt.Errorf("releasing a savepoint: %w", err))
	}
	return failed, nil
}
