package sqliteq

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
)

// Queryer is what Depth reads through: a *sql.DB (best the read pool) or a
// *sql.Tx.
type Queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Depth returns the number of the topic's messages the consumer group has
// not acked yet (its queue depth).
func Depth(ctx context.Context, db Queryer, topic, consumerGroup string) (int64, error) {
	if err := validateTopic(topic); err != nil {
		return 0, fmt.Errorf("reading depth: %w", err)
	}
	var n int64
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+unacked(topic), consumerGroup).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("reading depth of %s for %q: %w", topic, consumerGroup, err)
	}
	return n, nil
}

// unacked is the FROM ... WHERE of the topic's messages that the consumer
// group (its one argument) has not acked.
func unacked(topic string) string {
	return MessagesTable(topic) + ` WHERE "offset" >
	COALESCE((SELECT offset_acked FROM ` + OffsetsTable(topic) + ` WHERE consumer_group = ?), 0)`
}

// Trim deletes the topic's messages that every registered consumer group
// has acked and that are older than grace, and returns how many it deleted.
// A group is registered by its first Subscribe (offset 0) and stays
// registered: delete its row from OffsetsTable(topic) when a group is
// retired, or Trim keeps everything it has not acked. With no group
// registered Trim deletes nothing.
func Trim(ctx context.Context, w *Writer, topic string, grace time.Duration) (int64, error) {
	if err := validateTopic(topic); err != nil {
		return 0, fmt.Errorf("trimming: %w", err)
	}
	cutoff := time.Now().Add(-grace).UnixMilli()
	var n int64
	err := w.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+MessagesTable(topic)+`
WHERE "offset" <= (SELECT MIN(offset_acked) FROM `+OffsetsTable(topic)+`) AND created_at < ?`, cutoff)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("trimming %s: %w", topic, err)
	}
	return n, nil
}

// Retain runs Trim on every topic each interval until ctx is done, logging
// what it deleted and any error, and returns ctx's error.
func Retain(ctx context.Context, w *Writer, interval, grace time.Duration, logger watermill.LoggerAdapter, topics ...string) error {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		for _, topic := range topics {
			n, err := Trim(ctx, w, topic, grace)
			if err != nil {
				logger.Error("Trimming consumed messages", err, watermill.LogFields{"topic": topic})
				continue
			}
			if n > 0 {
				logger.Debug("Trimmed consumed messages", watermill.LogFields{"topic": topic, "deleted": n})
			}
		}
	}
}
