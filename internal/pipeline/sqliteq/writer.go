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

// LockFunc takes a process-wide write lock, waiting at most until ctx is
// done, and returns the function that releases it. (*store.Store).LockWrites
// has this shape.
type LockFunc func(ctx context.Context) (unlock func(), err error)

// Writer is the one door to a SQLite database for writes: a *sql.DB opened
// with the writer DSN and a process-wide lock, so that at most one write
// transaction is in flight. The store, the publishers and the subscribers
// of one database must share one lock: give them one Writer, or build the
// Writer on the store's lock with NewWriterWithLock.
type Writer struct {
	db      *sql.DB
	lockFn  LockFunc
	timeout time.Duration
	changed signal // fired by every commit
}

// Changed returns a channel that is closed when the next write
// transaction through w commits (a publish, a handler's batch, an InTx).
// A poller takes it before it looks for work and waits on it after
// finding none: no commit between the look and the wait is missed.
// Writes by other processes, or on the database handle directly, do not
// close it.
func (w *Writer) Changed() <-chan struct{} { return w.changed.wait() }

// signal is a broadcast: wait returns a channel that fire closes.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// NewWriter returns a Writer for db with a lock of its own. db must be
// opened with the writer DSN (see the package documentation). lockTimeout
// bounds every wait for the lock; zero means DefaultLockTimeout.
func NewWriter(db *sql.DB, lockTimeout time.Duration) *Writer {
	sem := make(chan struct{}, 1)
	return NewWriterWithLock(db, func(ctx context.Context) (func(), error) {
		select {
		case sem <- struct{}{}:
			var once sync.Once
			return func() { once.Do(func() { <-sem }) }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, lockTimeout)
}

// NewWriterWithLock returns a Writer for db whose transactions take lock,
// typically the store's (store.LockWrites), so that the store's own write
// transactions and the queue's queue in one line. lockTimeout bounds every
// wait for the lock; zero means DefaultLockTimeout.
func NewWriterWithLock(db *sql.DB, lock LockFunc, lockTimeout time.Duration) *Writer {
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	return &Writer{db: db, lockFn: lock, timeout: lockTimeout}
}

// lock takes the write lock within the Writer's timeout. A done stop ends
// the wait with ErrSubscriberClosed.
func (w *Writer) lock(ctx context.Context, stop context.Context) (func(), error) {
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(w.timeout, func() { cancel(fmt.Errorf("%w (%s)", ErrLockTimeout, w.timeout)) })
	defer timer.Stop()
	if stop != nil {
		defer context.AfterFunc(stop, func() { cancel(ErrSubscriberClosed) })()
	}
	unlock, err := w.lockFn(lctx)
	if err != nil {
		if cause := context.Cause(lctx); cause != nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
			return nil, cause
		}
		return nil, err
	}
	return unlock, nil
}

// BeginTx takes the write lock and begins a transaction on the writer pool
// (BEGIN IMMEDIATE with the writer DSN). The lock is released by the Tx's
// Commit or Rollback: callers must always call one of them.
func (w *Writer) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	return w.beginTx(ctx, opts, nil, ctx)
}

// beginTx waits for the lock until ctx or stop is done and begins a
// transaction that lives as long as txCtx (database/sql rolls it back when
// txCtx is done).
func (w *Writer) beginTx(ctx context.Context, opts *sql.TxOptions, stop, txCtx context.Context) (*Tx, error) {
	if h, ok := handleFromContext(ctx); ok && h.tx.w == w {
		return nil, ErrNestedWrite
	}
	unlock, err := w.lock(ctx, stop)
	if err != nil {
		return nil, fmt.Errorf("beginning write transaction: %w", err)
	}
	tx, err := w.db.BeginTx(txCtx, opts)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("beginning write transaction: %w", err)
	}
	return &Tx{Tx: tx, w: w, unlock: unlock}, nil
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
	unlock   func()
	released atomic.Bool
}

// Commit commits the transaction and releases the write lock. A commit
// closes the channel Changed returned.
func (t *Tx) Commit() error {
	defer t.release()
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	t.w.changed.fire()
	return nil
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
		t.unlock()
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
	stop  context.Context // done on the subscriber's Close: stop waiting for the lock
	peek  Queryer         // Config.Peek; nil: every poll takes the lock
	idle  time.Duration   // Config.IdleWait
	poll  time.Duration   // Config.PollInterval: the least time between two peeks
}

// topicKey is the context key naming a subscription's topic (Subscribe
// puts it in the context its poll transactions are begun with).
type topicKey struct{}

// errNothingNew is BeginTx's answer to a poll when the peeks found no
// message to read for IdleWait: no transaction, wait PollInterval.
var errNothingNew = errors.New("no message to read")

// hasNew reports whether topic has a message group has not acked, as the
// peek handle sees it; true when it cannot tell (an error: the poll's
// transaction will find out).
func (b beginner) hasNew(ctx context.Context, topic string) bool {
	var one int
	err := b.peek.QueryRowContext(ctx, `SELECT 1 FROM `+unacked(topic)+` LIMIT 1`, b.group).Scan(&one)
	return !errors.Is(err, sql.ErrNoRows)
}

// waitForNew peeks for a message of topic, and while there is none waits
// for a commit through the Writer (which may have published one) and
// peeks again, for at most the idle wait; it reports whether it found
// one. It gives up early when ctx or the subscriber stops.
//
// It peeks at most once per poll interval however often commits come,
// so that a busy writer does not make every idle topic peek at each of
// its commits.
func (b beginner) waitForNew(ctx context.Context, topic string) bool {
	timer := time.NewTimer(b.idle)
	defer timer.Stop()
	for {
		changed := b.w.Changed()
		last := time.Now()
		if b.hasNew(ctx, topic) {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		case <-b.stop.Done():
			return false
		}
		if !sleepUntil(ctx, b.stop, last.Add(b.poll)) {
			return false
		}
	}
}

// sleepUntil waits until t, or returns false when ctx or stop is done
// first.
func sleepUntil(ctx, stop context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop.Done():
		return false
	}
}

var _ wsql.Beginner = beginner{}

func (b beginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wsql.Tx, error) {
	if topic, ok := ctx.Value(topicKey{}).(string); ok && b.peek != nil && !b.waitForNew(ctx, topic) {
		return nil, errNothingNew
	}
	// The batch's transaction must outlive the subscription's context: a
	// router cancels it on Close, and database/sql would then roll the batch
	// back under a running handler. watermill-sql always ends it itself.
	tx, err := b.w.beginTx(ctx, opts, b.stop, context.WithoutCancel(ctx))
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
	deliveries []delivery    // settled deliveries whose savepoints are on the stack, in order
	abandoned  chan struct{} // closed when the transaction ends under a running handler
}

type delivery struct {
	topic     string
	offset    int64
	savepoint string
	acked     bool // by the handler; the ack query may not have counted it
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

// ExecContext and QueryContext run watermill-sql's own statements (the
// batch select, the ack) even when the subscription's context is done: a
// router cancels it on Close, and a failed ack would roll back the handled
// part of the batch for nothing.
func (h *handle) ExecContext(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	return h.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (h *handle) QueryContext(ctx context.Context, query string, args ...any) (wsql.Rows, error) {
	return h.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (h *handle) joinExec(ctx context.Context, query string, args ...any) (wsql.Result, error) {
	h.mu.Lock()
	done := h.done
	h.mu.Unlock()
	if done {
		return nil, ErrTxEnded
	}
	// Run to its end, as the batch's other statements do: the batch's
	// owner ends the transaction.
	return h.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
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

// settle ends a delivery. An acked delivery keeps its savepoint until
// Commit knows whether the ack query counted it. A nacked one is rolled back
// now while the subscriber still waits for its verdict (it will deliver it
// again); once the subscriber has given up on it (stopped is true), the
// ack query may already have run inside the savepoint, so the rollback is
// left to Commit, which restores the acked offset after it.
func (h *handle) settle(d delivery, acked, stopped bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return
	}
	switch {
	case acked || stopped:
		d.acked = acked
		h.deliveries = append(h.deliveries, d)
	default:
		if _, err := h.tx.ExecContext(context.Background(),
			"ROLLBACK TO "+d.savepoint+"; RELEASE "+d.savepoint); err != nil {
			h.broken = true
		}
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

// discardUncounted makes the committed offset and the committed effects
// agree. The handler-acked deliveries at the head of the batch count, even
// those the ack query missed because the subscriber stopped between the
// handler's ack and its own; from the first delivery that was not acked
// on, everything is rolled back to its savepoint. Then the offset is
// written again (the ack query may have run inside that savepoint).
func (h *handle) discardUncounted() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.deliveries) == 0 {
		return nil
	}
	topic := h.deliveries[0].topic
	q, err := Offsets{}.NextOffsetQuery(wsql.NextOffsetQueryParams{Topic: topic, ConsumerGroup: h.group})
	if err != nil {
		return err
	}
	var counted int64
	if err := h.tx.QueryRowContext(context.Background(), q.Query, q.Args...).Scan(&counted); err != nil {
		return fmt.Errorf("reading acked offset: %w", err)
	}
	target := counted
	var rollbackTo string
	for _, d := range h.deliveries {
		if !d.acked {
			rollbackTo = d.savepoint
			break
		}
		target = max(target, d.offset)
	}
	if rollbackTo != "" {
		if _, err := h.tx.ExecContext(context.Background(), "ROLLBACK TO "+rollbackTo); err != nil {
			return fmt.Errorf("rolling back unacked delivery: %w", err)
		}
	} else if target == counted {
		return nil
	}
	ack, err := Offsets{}.AckMessageQuery(wsql.AckMessageQueryParams{
		Topic: topic, ConsumerGroup: h.group, LastRow: wsql.Row{Offset: target},
	})
	if err != nil {
		return err
	}
	if _, err := h.tx.ExecContext(context.Background(), ack.Query, ack.Args...); err != nil {
		return fmt.Errorf("writing acked offset %d: %w", target, err)
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
