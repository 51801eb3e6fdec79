package pipeline

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
	"github.com/ordergate/ordergate/internal/store"
)

// Queue is the pipeline's message queue in the store's database: the
// stages' topics, consumed in one transaction with the stage's writes
// (transactional outbox). sqliteq serves it on SQLite (SQLiteQueue) and
// pgq on PostgreSQL, where the subscribers of several nodes compete for
// the messages.
type Queue interface {
	// InitializeSchema creates the topics' tables (idempotent).
	InitializeSchema(ctx context.Context, topics ...string) error
	// InTx runs fn in one write transaction, committed when fn returns
	// nil; it may be retried as a whole, so fn may run more than once.
	InTx(ctx context.Context, fn func(tx *sql.Tx) error) error
	// NewPublisherInTx publishes in tx: the messages become visible when
	// tx commits.
	NewPublisherInTx(tx *sql.Tx) (message.Publisher, error)
	// NewSubscriber consumes one topic for one consumer group (stage); a
	// message's handler runs in the subscriber's transaction, committed
	// together with the ack.
	NewSubscriber(group string) (message.Subscriber, error)
	// Transactional is the handler middleware running each attempt in a
	// savepoint of the message's transaction.
	Transactional(h message.HandlerFunc) message.HandlerFunc
	// TxFromContext returns the transaction a message was delivered in.
	TxFromContext(ctx context.Context) (*sql.Tx, bool)
	// Depth is the number of messages of topic not yet acked by group.
	Depth(ctx context.Context, topic, group string) (int64, error)
	// Retain removes consumed messages until ctx ends.
	Retain(ctx context.Context, topics ...string) error
}

// SQLiteQueue is the Queue on the store's SQLite database (sqliteq), its
// transactions in the store's write gate.
type SQLiteQueue struct {
	w      *sqliteq.Writer
	db     sqliteq.Queryer
	cfg    sqliteq.Config
	logger watermill.LoggerAdapter
}

// NewSQLiteQueue returns the queue on st's database. lockTimeout bounds a
// wait for the write lock (sqliteq's default when zero); poll and batch
// configure the subscribers (sqliteq's defaults when zero).
//
// A stage looks for new messages in the read pool and takes the write
// lock only when there are some (sqliteq.Config.Peek).
//
// While intake is busy (an intake commit asked for the write lock in the
// last second), the stages take at most busyBatch messages per
// transaction: a stage holds the lock for its whole batch, and an API
// client or a file waits for the intake commit behind it.
func NewSQLiteQueue(st *store.Store, lockTimeout, poll time.Duration, batch int, logger *slog.Logger) *SQLiteQueue {
	limit := func() int {
		if st.UrgentWritesWithin(time.Second) {
			return busyBatch
		}
		return 0
	}
	return &SQLiteQueue{
		w:      sqliteq.NewWriterWithLock(st.DB(), st.LockWrites, lockTimeout),
		db:     st.ReadDB(), // Depth: a read, no lock
		cfg:    sqliteq.Config{PollInterval: poll, BatchSize: batch, BatchLimit: limit, Peek: st.ReadDB()},
		logger: WatermillLogger(logger),
	}
}

// busyBatch is the stages' batch size on SQLite while intake is busy:
// about 10 to 30 ms of one stage's work per turn of the write lock.
const busyBatch = 10

// WatermillLogger adapts logger for watermill, its info lines (one per
// subscription and handler start) at debug. A nil logger discards.
func WatermillLogger(logger *slog.Logger) watermill.LoggerAdapter {
	if logger == nil {
		return watermill.NopLogger{}
	}
	return watermill.NewSlogLoggerWithLevelMapping(logger.With("component", "watermill"), map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}

// Writer is the underlying sqliteq writer.
func (q *SQLiteQueue) Writer() *sqliteq.Writer { return q.w }

func (q *SQLiteQueue) InitializeSchema(ctx context.Context, topics ...string) error {
	return sqliteq.InitializeSchema(ctx, q.w, topics...)
}

func (q *SQLiteQueue) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return q.w.InTx(ctx, fn)
}

func (q *SQLiteQueue) NewPublisherInTx(tx *sql.Tx) (message.Publisher, error) {
	return sqliteq.NewPublisherInTx(tx, q.logger)
}

func (q *SQLiteQueue) NewSubscriber(group string) (message.Subscriber, error) {
	cfg := q.cfg
	cfg.ConsumerGroup = group
	return sqliteq.NewSubscriber(q.w, cfg, q.logger)
}

func (q *SQLiteQueue) Transactional(h message.HandlerFunc) message.HandlerFunc {
	return sqliteq.Transactional(h)
}

func (q *SQLiteQueue) TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	return sqliteq.TxFromContext(ctx)
}

// Changed is the writer's commit signal (sqliteq.Writer.Changed): the
// delivery and ack workers wait on it when idle.
func (q *SQLiteQueue) Changed() <-chan struct{} { return q.w.Changed() }

func (q *SQLiteQueue) Depth(ctx context.Context, topic, group string) (int64, error) {
	return sqliteq.Depth(ctx, q.db, topic, group)
}

// Retain trims rows every stage consumed more than 10 minutes ago, every
// minute.
func (q *SQLiteQueue) Retain(ctx context.Context, topics ...string) error {
	return sqliteq.Retain(ctx, q.w, time.Minute, 10*time.Minute, q.logger, topics...)
}
