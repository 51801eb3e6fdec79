package pgq

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgconn"
)

var (
	// ErrGroupConflict is returned by Subscribe and Depth when the topic
	// already belongs to another consumer group: the queue tables hold one
	// "acked" state per message, so a topic serves exactly one group.
	ErrGroupConflict = errors.New("topic is consumed by another consumer group")

	// ErrCommitUnknown is returned by InTx when the connection was lost
	// while COMMIT was in flight: the transaction may or may not have been
	// committed, so it is not retried.
	ErrCommitUnknown = errors.New("connection lost during COMMIT: outcome unknown")

	// ErrNoTx is returned by Transactional for a message that was not
	// delivered by a Subscriber of this package.
	ErrNoTx = errors.New("message carries no subscriber transaction")

	// ErrSubscriberClosed is returned by Subscribe after Close.
	ErrSubscriberClosed = errors.New("subscriber is closed")
)

// Config configures a Queue. The zero value is usable.
type Config struct {
	// PollInterval is the wait after a poll that found no message.
	// Default 100ms.
	PollInterval time.Duration

	// BatchSize is the number of messages a subscriber locks and handles in
	// one transaction. Default 10.
	BatchSize int

	// AckDeadline is how long a subscriber waits for a handler's verdict
	// on one delivery before it stops waiting (see HandlerGrace); the
	// message is delivered again at a later poll. Default 30s (watermill-sql's);
	// negative disables it.
	AckDeadline time.Duration

	// ResendInterval is the wait between a nack and the next delivery of
	// the same message. Default 50ms.
	ResendInterval time.Duration

	// RetryInterval is the wait after a batch failed (the database is
	// unreachable, a statement of the queue failed). Default 200ms.
	RetryInterval time.Duration

	// HandlerGrace is how long a subscriber that stopped waiting for a
	// verdict (Close, its context done, AckDeadline) still waits for the
	// handler to return. When the handler returns in time its verdict
	// counts; otherwise the message's context is cancelled and the whole
	// batch is rolled back. Default 1s; negative gives no grace.
	HandlerGrace time.Duration

	// DeleteOnAck deletes a message when its ack commits; otherwise the
	// row is marked acked and Retain deletes it after RetainGrace. Nil
	// means true.
	DeleteOnAck *bool

	// RetainInterval is how often Retain deletes acked messages (only with
	// DeleteOnAck false). Default 1m.
	RetainInterval time.Duration

	// RetainGrace is how long an acked message is kept (only with
	// DeleteOnAck false). Default 10m.
	RetainGrace time.Duration

	// TxRetryTimeout bounds how long InTx keeps retrying a transaction
	// that failed with a transient error. Default 30s.
	TxRetryTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 10
	}
	if c.AckDeadline == 0 {
		c.AckDeadline = 30 * time.Second
	}
	if c.AckDeadline < 0 {
		c.AckDeadline = 0
	}
	if c.ResendInterval <= 0 {
		c.ResendInterval = 50 * time.Millisecond
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 200 * time.Millisecond
	}
	if c.HandlerGrace == 0 {
		c.HandlerGrace = time.Second
	}
	if c.HandlerGrace < 0 {
		c.HandlerGrace = 0
	}
	if c.DeleteOnAck == nil {
		t := true
		c.DeleteOnAck = &t
	}
	if c.RetainInterval <= 0 {
		c.RetainInterval = time.Minute
	}
	if c.RetainGrace <= 0 {
		c.RetainGrace = 10 * time.Minute
	}
	if c.TxRetryTimeout <= 0 {
		c.TxRetryTimeout = 30 * time.Second
	}
}

// Queue is the pipeline's message queue on one PostgreSQL database. Every
// node of a cluster builds its own Queue on its own *sql.DB; they share
// the work through the database.
type Queue struct {
	db     *sql.DB
	cfg    Config
	schema schemaAdapter
	logger watermill.LoggerAdapter

	mu     sync.Mutex
	groups map[string]string // topic → group registered by this Queue
}

// New returns a Queue on db, a pool opened with github.com/jackc/pgx/v5/stdlib
// (driver name "pgx"). Each subscription holds one connection of the pool
// while it handles a batch: the pool must allow more connections than
// subscriptions. logger may be nil.
func New(db *sql.DB, cfg Config, logger watermill.LoggerAdapter) (*Queue, error) {
	if db == nil {
		return nil, errors.New("creating queue: nil database")
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	cfg.setDefaults()
	return &Queue{
		db:     db,
		cfg:    cfg,
		schema: newSchemaAdapter(cfg.BatchSize),
		logger: logger,
		groups: map[string]string{},
	}, nil
}

// schemaLockKey serializes schema creation across nodes
// (pg_advisory_xact_lock): concurrent CREATE TABLE IF NOT EXISTS of one
// table can fail with a unique violation in pg_type.
const schemaLockKey = 0x6f67715f73636d61 // "ogq_scma"

// InitializeSchema creates the group registry and the messages table of
// every topic. It is idempotent and safe when several nodes run it at once.
func (q *Queue) InitializeSchema(ctx context.Context, topics ...string) error {
	for _, topic := range topics {
		if err := validateTopic(topic); err != nil {
			return fmt.Errorf("initializing schema: %w", err)
		}
	}
	err := q.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLockKey)); err != nil {
			return fmt.Errorf("locking schema: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+groupsTable+` (
	topic TEXT PRIMARY KEY,
	consumer_group TEXT NOT NULL
)`); err != nil {
			return fmt.Errorf("creating group registry: %w", err)
		}
		for _, topic := range topics {
			qs, err := q.schema.SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams{Topic: topic})
			if err != nil {
				return fmt.Errorf("schema of %s: %w", topic, err)
			}
			for _, s := range qs {
				if _, err := tx.ExecContext(ctx, s.Query, s.Args...); err != nil {
					return fmt.Errorf("creating table of %s: %w", topic, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("initializing schema: %w", err)
	}
	return nil
}

// registerGroup claims topic for group, or fails with ErrGroupConflict when
// another group has it.
func (q *Queue) registerGroup(ctx context.Context, topic, group string) error {
	q.mu.Lock()
	known, ok := q.groups[topic]
	q.mu.Unlock()
	if ok {
		if known != group {
			return fmt.Errorf("topic %s, group %q (it has %q): %w", topic, group, known, ErrGroupConflict)
		}
		return nil
	}
	var owner string
	err := q.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+groupsTable+` (topic, consumer_group) VALUES ($1, $2)
ON CONFLICT (topic) DO NOTHING`, topic, group); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT consumer_group FROM `+groupsTable+` WHERE topic = $1`, topic).Scan(&owner)
	})
	if err != nil {
		return fmt.Errorf("registering group %q on %s: %w", group, topic, err)
	}
	q.mu.Lock()
	q.groups[topic] = owner
	q.mu.Unlock()
	if owner != group {
		return fmt.Errorf("topic %s, group %q (it has %q): %w", topic, group, owner, ErrGroupConflict)
	}
	return nil
}

// InTx runs fn in a transaction (READ COMMITTED) and commits it when fn
// returns nil. A transaction that fails with a transient error (40001
// serialization failure, 40P01 deadlock, a connection lost or refused
// before COMMIT) is rolled back and run again, fn included, for up to
// Config.TxRetryTimeout. A connection lost during COMMIT is not retried:
// the error wraps ErrCommitUnknown (make fn idempotent, e.g. with a unique
// key, where that matters). fn must not Commit or Rollback tx.
func (q *Queue) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	deadline := time.Now().Add(q.cfg.TxRetryTimeout)
	wait := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := q.inTxOnce(ctx, fn)
		if err == nil || !isTransient(err) || errors.Is(err, ErrCommitUnknown) || ctx.Err() != nil {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("transaction failed %d times: %w", attempt, err)
		}
		q.logger.Debug("Transient transaction error, retrying", watermill.LogFields{"err": err.Error(), "attempt": attempt})
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("retrying transaction: %w", err)
		}
		wait = min(2*wait, time.Second)
	}
}

func (q *Queue) inTxOnce(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && !isConnErr(rbErr) {
			return errors.Join(err, fmt.Errorf("rolling back: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		// A COMMIT that never reached the server (the connection was known
		// to be closed) failed for sure; any other lost connection leaves
		// its outcome unknown.
		if isConnErr(err) && !pgconn.SafeToRetry(err) && !errors.Is(err, driver.ErrBadConn) {
			return fmt.Errorf("committing: %w: %w", ErrCommitUnknown, err)
		}
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// NewPublisherInTx returns a publisher that inserts into tx: the messages
// are delivered if and only if tx commits.
func (q *Queue) NewPublisherInTx(tx *sql.Tx) (message.Publisher, error) {
	if tx == nil {
		return nil, errors.New("creating publisher: nil transaction")
	}
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: q.schema}, q.logger)
	if err != nil {
		return nil, fmt.Errorf("creating publisher: %w", err)
	}
	return &txPublisher{inner: pub}, nil
}

// NewPublisher returns a publisher for a watermill Router's handlers and
// for code outside handlers: a Publish whose first message's context
// carries a subscriber transaction (a message returned through
// Transactional) inserts into that transaction; any other Publish runs in
// a transaction of its own (InTx).
func (q *Queue) NewPublisher() message.Publisher {
	return ctxPublisher{q: q}
}

type ctxPublisher struct{ q *Queue }

func (p ctxPublisher) Publish(topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ctx := msgs[0].Context()
	publish := func(tx *sql.Tx) error {
		pub, err := p.q.NewPublisherInTx(tx)
		if err != nil {
			return err
		}
		return pub.Publish(topic, msgs...)
	}
	if tx, ok := TxFromContext(ctx); ok {
		return publish(tx)
	}
	return p.q.InTx(ctx, publish)
}

func (ctxPublisher) Close() error { return nil }

// txPublisher validates topics (length included) and makes Close safe to
// call concurrently and more than once.
type txPublisher struct {
	mu     sync.RWMutex
	closed bool
	inner  *wsql.Publisher
}

func (p *txPublisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return wsql.ErrPublisherClosed
	}
	if err := validateTopic(topic); err != nil {
		return fmt.Errorf("publishing: %w", err)
	}
	if err := p.inner.Publish(topic, msgs...); err != nil {
		return fmt.Errorf("publishing to %s: %w", topic, err)
	}
	return nil
}

func (p *txPublisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.inner.Close()
}

// NewSubscriber returns a subscriber for consumer group group (one stage).
// The first Subscribe to a topic claims the topic for the group in the
// database; a different group is refused with ErrGroupConflict.
func (q *Queue) NewSubscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, errors.New("creating subscriber: empty consumer group")
	}
	return &Subscriber{q: q, group: group, cancels: map[int]context.CancelFunc{}}, nil
}

// Transactional is the package's handler middleware (see Transactional).
func (q *Queue) Transactional(h message.HandlerFunc) message.HandlerFunc {
	return Transactional(h)
}

// TxFromContext returns the transaction a message was delivered in.
func (q *Queue) TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	return TxFromContext(ctx)
}

// Depth returns the number of topic's messages group has not acked. It
// fails with ErrGroupConflict when the topic belongs to another group.
func (q *Queue) Depth(ctx context.Context, topic, group string) (int64, error) {
	if err := validateTopic(topic); err != nil {
		return 0, fmt.Errorf("reading depth: %w", err)
	}
	var owner sql.NullString
	var n int64
	err := q.db.QueryRowContext(ctx, `SELECT (SELECT consumer_group FROM `+groupsTable+` WHERE topic = $1),
	(SELECT COUNT(*) FROM `+MessagesTable(topic)+` WHERE NOT acked)`, topic).Scan(&owner, &n)
	if err != nil {
		return 0, fmt.Errorf("reading depth of %s: %w", topic, err)
	}
	if owner.Valid && owner.String != group {
		return 0, fmt.Errorf("reading depth of %s for %q (it has %q): %w", topic, group, owner.String, ErrGroupConflict)
	}
	return n, nil
}

// Retain deletes acked messages older than Config.RetainGrace every
// Config.RetainInterval until ctx is done, and then returns nil. With
// DeleteOnAck (the default) there is nothing to delete: it returns nil at
// once.
func (q *Queue) Retain(ctx context.Context, topics ...string) error {
	if *q.cfg.DeleteOnAck {
		return nil
	}
	for _, topic := range topics {
		if err := validateTopic(topic); err != nil {
			return fmt.Errorf("retaining: %w", err)
		}
	}
	ticker := time.NewTicker(q.cfg.RetainInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		for _, topic := range topics {
			n, err := q.trim(ctx, topic)
			if err != nil {
				if ctx.Err() == nil {
					q.logger.Error("Deleting acked messages", err, watermill.LogFields{"topic": topic})
				}
				continue
			}
			if n > 0 {
				q.logger.Debug("Deleted acked messages", watermill.LogFields{"topic": topic, "deleted": n})
			}
		}
	}
}

// trim deletes topic's acked messages older than RetainGrace.
func (q *Queue) trim(ctx context.Context, topic string) (int64, error) {
	res, err := q.db.ExecContext(ctx, `DELETE FROM `+MessagesTable(topic)+`
WHERE acked AND created_at < now() - make_interval(secs => $1)`, q.cfg.RetainGrace.Seconds())
	if err != nil {
		return 0, fmt.Errorf("deleting acked messages of %s: %w", topic, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("deleting acked messages of %s: %w", topic, err)
	}
	return n, nil
}

// isTransient reports whether a transaction that failed with err may
// succeed when run again from the start.
func isTransient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01":
			return true
		}
	}
	return isConnErr(err)
}

// isConnErr reports whether err means the connection to the server was
// lost or could not be made: class 08 (connection exception), 57P01-57P03
// (server shutting down, crashed, starting up), and network errors.
func isConnErr(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
