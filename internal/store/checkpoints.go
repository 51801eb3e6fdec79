package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Checkpoints are the channels' checkpoints (mailbox.Checkpoints).
type Checkpoints struct{ s *Store }

// Checkpoints returns the store's checkpoint table.
func (s *Store) Checkpoints() Checkpoints { return Checkpoints{s: s} }

// Load returns the checkpoint of key, "" when none was saved.
func (c Checkpoints) Load(ctx context.Context, key string) (string, error) {
	var v string
	err := c.s.read(ctx, func(q querier) error {
		return q.QueryRowContext(ctx, `SELECT value FROM checkpoints WHERE key = ?`, key).Scan(&v)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("loading checkpoint %s: %w", key, err)
	}
	return v, nil
}

// Save stores the checkpoint of key.
func (c Checkpoints) Save(ctx context.Context, key, value string) error {
	err := c.s.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO checkpoints (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, nanos(tx.s.clock()))
		return err
	})
	if err != nil {
		return fmt.Errorf("saving checkpoint %s: %w", key, err)
	}
	return nil
}
