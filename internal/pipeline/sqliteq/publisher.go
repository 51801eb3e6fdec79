package sqliteq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// NewPublisher returns a publisher on w. A Publish whose first message's
// context carries a subscriber transaction of w (a handler publishing the
// next message) inserts into that transaction; any other Publish runs in a
// write transaction of its own. It does not create tables: call
// InitializeSchema at start-up.
func NewPublisher(w *Writer, logger watermill.LoggerAdapter) (message.Publisher, error) {
	if w == nil {
		return nil, errors.New("creating publisher: nil writer")
	}
	pub, err := wsql.NewPublisher(beginner{w: w}, wsql.PublisherConfig{SchemaAdapter: Schema{}}, logger)
	if err != nil {
		return nil, fmt.Errorf("creating publisher: %w", err)
	}
	return &publisher{inner: pub}, nil
}

// NewPublisherInTx returns a publisher that inserts into tx, the caller's
// transaction (a *Tx of the Writer: pass its embedded *sql.Tx): the
// messages are delivered if and only if tx commits. It is the same as
// watermill-sql's NewPublisher(sql.TxFromStdSQL(tx), ...) with Schema.
func NewPublisherInTx(tx *sql.Tx, logger watermill.LoggerAdapter) (message.Publisher, error) {
	if tx == nil {
		return nil, errors.New("creating publisher: nil transaction")
	}
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: Schema{}}, logger)
	if err != nil {
		return nil, fmt.Errorf("creating publisher: %w", err)
	}
	return &publisher{inner: pub}, nil
}

// publisher makes watermill-sql's Publisher safe to close concurrently
// (a router closes a publisher shared by several handlers once per
// handler, and watermill-sql v4.1.2 keeps its closed flag unguarded):
// Close waits for the Publish calls in flight and is idempotent.
type publisher struct {
	mu     sync.RWMutex
	closed bool
	inner  *wsql.Publisher
}

func (p *publisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return wsql.ErrPublisherClosed
	}
	if err := p.inner.Publish(topic, msgs...); err != nil {
		return fmt.Errorf("publishing to %s: %w", topic, err)
	}
	return nil
}

func (p *publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.inner.Close()
}

// InitializeSchema creates the messages and offsets tables of every topic
// in one write transaction. It is idempotent, and takes the write lock only
// when a table is missing.
func InitializeSchema(ctx context.Context, w *Writer, topics ...string) error {
	var missing []string
	for _, topic := range topics {
		if err := validateTopic(topic); err != nil {
			return fmt.Errorf("initializing schema: %w", err)
		}
		var n int
		err := w.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)`,
			messagesName(topic), offsetsName(topic)).Scan(&n)
		if err != nil {
			return fmt.Errorf("initializing schema of %s: %w", topic, err)
		}
		if n != 2 {
			missing = append(missing, topic)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return w.InTx(ctx, func(tx *sql.Tx) error {
		for _, topic := range missing {
			msgs, err := Schema{}.SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams{Topic: topic})
			if err != nil {
				return fmt.Errorf("initializing schema: %w", err)
			}
			offs, err := Offsets{}.SchemaInitializingQueries(wsql.OffsetsSchemaInitializingQueriesParams{Topic: topic})
			if err != nil {
				return fmt.Errorf("initializing schema: %w", err)
			}
			for _, q := range append(msgs, offs...) {
				if _, err := tx.ExecContext(ctx, q.Query, q.Args...); err != nil {
					return fmt.Errorf("initializing schema of %s: %w", topic, err)
				}
			}
		}
		return nil
	})
}

// registerGroup records group in the topic's offsets table with offset 0
// unless it is there, so that Trim keeps what the group has not acked yet.
// It reads first and takes the write lock only for a new group.
func registerGroup(ctx context.Context, w *Writer, topic, group string) error {
	var n int
	err := w.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+OffsetsTable(topic)+` WHERE consumer_group = ?`, group).Scan(&n)
	if err != nil {
		return fmt.Errorf("registering consumer group %q: %w", group, err)
	}
	if n > 0 {
		return nil
	}
	err = w.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO `+OffsetsTable(topic)+` (consumer_group, offset_acked) VALUES (?, 0)
ON CONFLICT (consumer_group) DO NOTHING`, group)
		return err
	})
	if err != nil {
		return fmt.Errorf("registering consumer group %q: %w", group, err)
	}
	return nil
}
