package brokerq

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Dialect is the SQL dialect of the outbox's database.
type Dialect string

// The dialects the inbox's SQL is written for.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

func (d Dialect) validate() error {
	switch d {
	case SQLite, Postgres:
		return nil
	}
	return fmt.Errorf("%w: dialect %q is neither %q nor %q", ErrConfig, d, SQLite, Postgres)
}

// placeholder is the dialect's n-th (from 1) bind parameter.
func (d Dialect) placeholder(n int) string {
	if d == Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// InboxTable is the table of consumed messages: one row per consumer
// group and message UUID, received_at in Unix milliseconds.
const InboxTable = "brokerq_inbox"

// inboxSQL is the inbox's statements in one dialect.
type inboxSQL struct {
	schema []string
	insert string
	trim   string
}

func newInboxSQL(d Dialect) inboxSQL {
	p := d.placeholder
	return inboxSQL{
		schema: []string{
			`CREATE TABLE IF NOT EXISTS ` + InboxTable + ` (
	consumer_group TEXT NOT NULL,
	message_uuid TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (consumer_group, message_uuid)
)`,
			`CREATE INDEX IF NOT EXISTS ` + InboxTable + `_received_at ON ` + InboxTable + ` (received_at)`,
		},
		insert: `INSERT INTO ` + InboxTable + ` (consumer_group, message_uuid, received_at) VALUES (` +
			p(1) + `, ` + p(2) + `, ` + p(3) + `) ON CONFLICT DO NOTHING`,
		trim: `DELETE FROM ` + InboxTable + ` WHERE received_at < ` + p(1),
	}
}

// recordInbox inserts (group, uuid) in tx and reports whether it was new:
// false means the message was consumed by group before (a redelivery). On
// PostgreSQL the insert waits for a concurrent transaction that inserted
// the same row, so two nodes never both see it as new.
func (q *Queue) recordInbox(ctx context.Context, tx *sql.Tx, group, uuid string) (bool, error) {
	res, err := tx.ExecContext(ctx, q.inbox.insert, group, uuid, time.Now().UnixMilli())
	if err != nil {
		return false, fmt.Errorf("recording message %s of %s in the inbox: %w", uuid, group, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording message %s of %s in the inbox: %w", uuid, group, err)
	}
	return n == 1, nil
}

// trimInbox deletes the inbox rows received before cutoff.
func (q *Queue) trimInbox(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := q.outbox.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q.inbox.trim, cutoff.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("trimming the inbox: %w", err)
	}
	return n, nil
}
