package sqliteq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
)

// DefaultLockTimeout is how long BeginTx waits for the write lock when
// NewWriter is given no timeout: the same order as the writer DSN's
// _busy_timeout.
const DefaultLockTimeout = 10 * time.Second

var (
	// ErrLockTimeout is returned when the write lock could not be taken in
	// time. Inside a handler it usually means a write that bypasses the
	// message's transaction (see the package documentation).
	ErrLockTimeout = errors.New("timed out waiting for the write lock")

	// ErrNestedWrite is returned by Writer.BeginTx when its context carries a
	// subscriber transaction of the same Writer: the caller is a handler and
	// must write through TxFromContext, not a transaction of its own, which
	// would wait forever for the lock its own message holds.
	ErrNestedWrite = errors.New("write transaction begun inside a handler's transaction")

	// ErrTxEnded is returned when a publish joins a subscriber transaction
	// that has already ended (the subscriber stopped and gave up on the
	// handler).
	ErrTxEnded = errors.New("the message's transaction has ended")
)

// Writer is the one door to a SQLite database for writes: a *sql.DB opened
// with the writer DSN and a process-wide lock, so that at most one write
// transaction is in flight. The store, the publishers and the subscribers
// of one database must share one Writer.
type Writer struct {
	db      *sql.DB
	sem     chan struct{}
	timeout time.Duration
}

// NewWriter returns the Writer for db, which must be opened with the writer
// DSN (see the package documentation). lockTimeout bounds every wait for the
// lock; zero means DefaultLockTimeout.
func NewWriter(db *sql.DB, lockTimeout time.Duration) *Writer {
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	return &Writer{db: db, sem: make(chan struct{}, 1), timeout: lockTimeout}
}

// lock takes the write lock. Waiters are served in arrival order (a Go
// channel's send queue), unlike SQLite's busy handler.
// A closed stop ends the wait with ErrSubscriberClosed.
func (w *Writer) lock(ctx context.Context, stop <-chan struct{}) error {
	select {
	case w.sem <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(w.timeout)
	defer timer.Stop()
	select {
	case w.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return ErrSubscriberClosed
	case <-timer.C:
		return fmt.Errorf("%w (%s)", ErrLockTimeout, w.timeout)
	}
}

func (w *Writer) unlock() { <-w.sem }

// BeginTx takes the write lock and begins a transaction on the writer pool
// (BEGIN IMMEDIATE with the writer DSN). The lock is released by the Tx's
// Commit or Rollback: callers must always call one of them.
func (w *Writer) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	return w.beginTx(ctx, opts, nil)
}

func (w *Writer) beginTx(ctx context.Context, opts *sql.TxOptions, stop <-chan struct{}) (*Tx, error) {
	if h, ok := handleFromContext(ctx); ok && h.tx.w == w {
		return nil, ErrNestedWrite
	}
	if err := w.lock(ctx, stop); err != nil {
		return nil, fmt.Errorf("beginning write transaction: %w", err)
	}
	tx, err := w.db.BeginTx(ctx, opts)
	if err != nil {
		w.unlock()
		return nil, fmt.Errorf("beginning write transaction: %w", err)
	}
	return &Tx{Tx: tx, w: w}, nil
}

// InTx runs fn in a write transaction and commits it if fn returns nil.
func (w *Writer) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if err := fn(tx.Tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing write transaction: %w", err)
	}
	return nil
}

// Tx is a write transaction that holds the Writer's lock until Commit or
// Rollback. Its embedded *sql.Tx is what repositories take; never call
// Commit or Rollback on the embedded value directly, or the lock stays taken.
type Tx struct {
	*sql.Tx
	w        *Writer
	released atomic.Bool
}

// Commit commits the transaction and releases the write lock.
func (t *Tx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

// Rollback rolls the transaction back and releases the write lock. Like
// (*sql.Tx).Rollback it returns sql.ErrTxDone after Commit; a deferred
// Rollback is therefore safe.
func (t *Tx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

func (t *Tx) release() {
	if t.released.CompareAndSwap(false, true) {
		t.w.unlock()
	}
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// beginner is the watermill-sql Beginner of a Writer: transactions take the
// lock; a bare Exec joins the subscriber transaction found in its context
// (a publish inside a handler) or else runs in a locked transaction of its
// own.
type beginner struct {
	w     *Writer
	group string
	grace time.Duration
	stop  <-chan struct{} // the subscriber's Close: stop waiting for the lock
}

var _ wsql.Beginner = beginner{}

func (b beginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	tx, err := b.w.beginTx(ctx, opts, b.stop)
	if err != nil {
		return nil, err
	}
	return &handle{tx: tx, group: b.group, grace: b.grace, abandoned: make(chan struct{})}, nil
}

func (b beginner) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	if h, ok := handleFromContext(ctx); ok && h.tx.w == b.w {
		return h.joinExec(ctx, query, args...)
	}
	var res sql.Result
	err := b.w.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

func (b beginner) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	return b.w.db.QueryContext(ctx, query, args...)
}

// handle is the watermill-sql Tx of a subscriber: the transaction a batch of
// messages is consumed in. It keeps one savepoint per delivered message so
// that the work of a message that is not counted as acked (nacked, or in
// flight when the subscriber stops) is rolled back, never committed.
type handle struct {
	tx    *Tx
	group string
	grace time.Duration

	mu         sync.Mutex
	closing    bool          // Commit or Rollback started: no new deliveries
	done       bool          // the transaction has ended: no more joins
	broken     bool          // a savepoint could not be rolled back: commit nothing
	inflight   chan struct{} // closed when the delivery in flight settles
	deliveries []delivery    // acked deliveries whose savepoints are on the stack
	abandoned  chan struct{} // closed when the transaction ends under a running handler
}

type delivery struct {
	topic     string
	offset    int64
	savepoint string
}

var _ wsql.Tx = (*handle)(nil)

// handleFromContext returns the subscriber transaction a message context
// carries.
func handleFromContext(ctx context.Context) (*handle, bool) {
	if ctx == nil {
		return nil, false
	}
	tx, ok := wsql.TxFromContext(ctx)
	if !ok {
		return nil, false
	}
	h, ok := tx.(*handle)
	return h, ok
}

func (h *handle) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	return h.tx.ExecContext(ctx, query, args...)
}

func (h *handle) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	return h.tx.QueryContext(ctx, query, args...)
}

func (h *handle) joinExec(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	h.mu.Lock()
	done := h.done
	h.mu.Unlock()
	if done {
		return nil, ErrTxEnded
	}
	return h.tx.ExecContext(ctx, query, args...)
}

// begin opens the savepoint of one delivery of the message at offset.
func (h *handle) begin(topic string, offset int64) (delivery, error) {
	d := delivery{topic: topic, offset: offset, savepoint: fmt.Sprintf("sqliteq_d%d", offset)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return delivery{}, ErrTxEnded
	}
	if _, err := h.tx.ExecContext(context.Background(), "SAVEPOINT "+d.savepoint); err != nil {
		return delivery{}, fmt.Errorf("opening savepoint for offset %d: %w", offset, err)
	}
	h.inflight = make(chan struct{})
	return d, nil
}

// settle ends a delivery: an acked one keeps its savepoint until Commit
// knows whether the ack was counted; any other is rolled back now.
func (h *handle) settle(d delivery, acked bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	if acked {
		h.deliveries = append(h.deliveries, d)
	} else if _, err := h.tx.ExecContext(context.Background(),
		"ROLLBACK TO "+d.savepoint+"; RELEASE "+d.savepoint); err != nil {
		h.broken = true
	}
	if h.inflight != nil {
		close(h.inflight)
		h.inflight = nil
	}
}

// Commit is called by watermill-sql once it has run the ack query (or chose
// not to). It waits for a handler still running, rolls back every delivery
// the ack did not count, and commits the rest.
func (h *handle) Commit() error {
	h.mu.Lock()
	h.closing = true
	inflight := h.inflight
	h.mu.Unlock()
	if inflight != nil {
		abandon := func() error {
			return errors.Join(errors.New("handler still running after the subscriber stopped: batch rolled back"), h.end(false))
		}
		if h.grace < 0 {
			return abandon()
		}
		timer := time.NewTimer(h.grace)
		defer timer.Stop()
		select {
		case <-inflight:
		case <-timer.C:
			return abandon()
		}
	}
	h.mu.Lock()
	broken := h.broken
	h.mu.Unlock()
	if broken {
		return errors.Join(errors.New("a delivery could not be rolled back: batch rolled back"), h.end(false))
	}
	if err := h.discardUncounted(); err != nil {
		return errors.Join(err, h.end(false))
	}
	return h.end(true)
}

// discardUncounted rolls back to the savepoint of the first acked delivery
// beyond the group's acked offset: the ack query runs after the deliveries,
// and a delivery acked while the subscriber was stopping is not in it.
func (h *handle) discardUncounted() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.deliveries) == 0 {
		return nil
	}
	var acked int64
	q, err := Offsets{}.NextOffsetQuery(wsql.NextOffsetQueryParams{Topic: h.deliveries[0].topic, ConsumerGroup: h.group})
	if err != nil {
		return err
	}
	if err := h.tx.QueryRowContext(context.Background(), q.Query, q.Args...).Scan(&acked); err != nil {
		return fmt.Errorf("reading acked offset: %w", err)
	}
	for _, d := range h.deliveries {
		if d.offset > acked {
			if _, err := h.tx.ExecContext(context.Background(), "ROLLBACK TO "+d.savepoint); err != nil {
				return fmt.Errorf("rolling back unacked offset %d: %w", d.offset, err)
			}
			break
		}
	}
	return nil
}

// Rollback ends the transaction without committing anything.
func (h *handle) Rollback() error {
	return h.end(false)
}

func (h *handle) end(commit bool) error {
	h.mu.Lock()
	h.closing = true
	h.done = true
	if h.inflight != nil {
		close(h.abandoned)
		h.inflight = nil
	}
	h.mu.Unlock()
	if commit {
		return h.tx.Commit()
	}
	return h.tx.Rollback()
}
