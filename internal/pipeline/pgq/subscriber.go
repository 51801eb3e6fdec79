package pgq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// errAbandoned ends a batch whose handler did not return in time.
var errAbandoned = errors.New("handler still running after the subscriber stopped waiting: batch rolled back")

// Subscriber consumes topics for one consumer group. Its subscriptions
// compete with every other subscription of the group, in this process and
// in others, through FOR UPDATE SKIP LOCKED.
type Subscriber struct {
	q     *Queue
	group string

	mu      sync.Mutex
	closed  bool
	next    int
	cancels map[int]context.CancelFunc
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// Subscribe claims topic for the subscriber's group (ErrGroupConflict if
// another group has it) and delivers its messages, one at a time, each
// in the transaction of its batch (TxFromContext). The channel is closed
// after Close or when ctx is done, once the last batch has ended.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := validateTopic(topic); err != nil {
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrSubscriberClosed
	}
	if err := s.q.registerGroup(ctx, topic, s.group); err != nil {
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSubscriberClosed
	}
	sctx, cancel := context.WithCancel(ctx)
	id := s.next
	s.next++
	s.cancels[id] = cancel
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		defer func() {
			s.mu.Lock()
			delete(s.cancels, id)
			s.mu.Unlock()
			cancel()
		}()
		s.consume(sctx, topic, out)
	}()
	return out, nil
}

// Close stops every subscription and returns when their channels are
// closed and their last batches ended (see Config.HandlerGrace). It is
// idempotent.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// consume runs batches until ctx is done. After failed batches it waits
// RetryInterval, doubled for each further failure in a row up to 16 times
// RetryInterval (the database is down).
func (s *Subscriber) consume(ctx context.Context, topic string, out chan<- *message.Message) {
	logger := s.q.logger.With(watermill.LogFields{"topic": topic, "consumer_group": s.group})
	var wait time.Duration
	failures := 0
	for {
		if err := sleep(ctx, wait); err != nil {
			return
		}
		n, nack, err := s.batch(ctx, topic, out)
		if err == nil {
			failures = 0
		}
		switch {
		case err != nil && ctx.Err() == nil:
			wait = s.q.cfg.RetryInterval << min(failures, 4)
			failures++
			logger.Error("Consuming a batch failed", err, watermill.LogFields{"retry_in": wait, "failures": failures})
		case err != nil:
			return
		case nack:
			wait = s.q.cfg.ResendInterval
		case n == 0:
			wait = s.q.cfg.PollInterval
		default:
			wait = 0
		}
	}
}

// handleKey is the context key of a delivery's transaction.
type handleKey struct{}

// TxFromContext returns the transaction a message was delivered in
// (msg.Context()). A handler writes its state through it and publishes the
// next message in it (NewPublisherInTx); the subscriber commits it with the
// ack. Never Commit or Rollback it.
func TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	if ctx == nil {
		return nil, false
	}
	tx, ok := ctx.Value(handleKey{}).(*sql.Tx)
	return tx, ok && tx != nil
}

// batch locks up to BatchSize unacked messages, delivers them one by one
// and commits the acks of those the handler acked with the handler's
// writes. The first message not acked ends the batch (nack true): its
// lock is released with the commit and it is delivered again by a later
// batch, here or on another node. It returns the number of messages acked.
func (s *Subscriber) batch(ctx context.Context, topic string, out chan<- *message.Message) (n int, nack bool, err error) {
	conn, err := s.q.db.Conn(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("getting a connection: %w", err)
	}
	defer conn.Close()
	// The transaction outlives ctx: it ends when the batch ends, with the
	// acked deliveries committed, never under a running handler.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), &sql.TxOptions{Isolation: s.q.schema.SubscribeIsolationLevel()})
	if err != nil {
		return 0, false, fmt.Errorf("beginning batch transaction: %w", err)
	}
	defer func() {
		if err != nil || n == 0 {
			if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && !isConnErr(rbErr) {
				err = errors.Join(err, fmt.Errorf("rolling back batch: %w", rbErr))
			}
		}
	}()
	rows, err := s.selectBatch(ctx, tx, topic)
	if err != nil || len(rows) == 0 {
		return 0, false, err
	}
	var done []wsql.Row
	for _, row := range rows {
		v, err := s.deliver(ctx, tx, row, out)
		if err != nil {
			return 0, false, err
		}
		if v != acked {
			nack = true
			break
		}
		done = append(done, row)
	}
	if len(done) == 0 {
		return 0, nack, nil
	}
	bg := context.WithoutCancel(ctx)
	ack, err := ackQuery(topic, *s.q.cfg.DeleteOnAck, done)
	if err != nil {
		return 0, false, fmt.Errorf("building ack: %w", err)
	}
	if _, err := tx.ExecContext(bg, ack.Query, ack.Args...); err != nil {
		return 0, false, fmt.Errorf("acking %d messages: %w", len(done), err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("committing %d acks: %w", len(done), err)
	}
	return len(done), nack, nil
}

func (s *Subscriber) selectBatch(ctx context.Context, tx *sql.Tx, topic string) ([]wsql.Row, error) {
	sel, err := s.q.schema.SelectQuery(wsql.SelectQueryParams{Topic: topic})
	if err != nil {
		return nil, fmt.Errorf("building select: %w", err)
	}
	rs, err := tx.QueryContext(ctx, sel.Query, sel.Args...)
	if err != nil {
		return nil, fmt.Errorf("selecting messages of %s: %w", topic, err)
	}
	defer rs.Close()
	var rows []wsql.Row
	for rs.Next() {
		r, err := s.q.schema.UnmarshalMessage(wsql.UnmarshalMessageParams{Row: rs})
		if err != nil {
			return nil, fmt.Errorf("reading message of %s: %w", topic, err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("reading messages of %s: %w", topic, err)
	}
	return rows, nil
}

// verdict is a handler's answer on one delivery.
type verdict int

const (
	none verdict = iota
	acked
	nacked
)

// deliver hands one message to the subscription's reader in a savepoint
// of the batch transaction and reports whether the handler acked it. A
// message that is nacked, not handed over (the subscriber stops) or not
// answered before the ack deadline plus HandlerGrace is rolled back to
// its savepoint and stays for a later batch: the caller ends the batch.
// An error means the transaction is unusable or a handler was abandoned
// (still running): the caller rolls the whole batch back.
func (s *Subscriber) deliver(ctx context.Context, tx *sql.Tx, row wsql.Row, out chan<- *message.Message) (verdict, error) {
	bg := context.WithoutCancel(ctx)
	sp := "pgq_d" + strconv.FormatInt(row.Offset, 10)
	if _, err := tx.ExecContext(bg, "SAVEPOINT "+sp); err != nil {
		return none, fmt.Errorf("opening savepoint of message %s: %w", row.Msg.UUID, err)
	}
	msgCtx, cancelMsg := context.WithCancel(context.WithValue(bg, handleKey{}, tx))
	defer cancelMsg()
	msg := row.Msg.Copy()
	msg.SetContext(msgCtx)
	switch v := s.await(ctx, msg, out); v {
	case acked:
		cancelMsg()
		if _, err := tx.ExecContext(bg, "RELEASE SAVEPOINT "+sp); err != nil {
			return none, fmt.Errorf("releasing savepoint of message %s: %w", row.Msg.UUID, err)
		}
		return acked, nil
	case nacked:
		cancelMsg()
		if err := rollbackTo(bg, tx, sp); err != nil {
			return none, fmt.Errorf("rolling back nacked message %s: %w", row.Msg.UUID, err)
		}
		return nacked, nil
	default:
		return none, errAbandoned
	}
}

// await sends msg and waits for its verdict. When ctx ends or the ack
// deadline passes, it gives the handler HandlerGrace to answer; a message
// never handed over counts as nacked.
func (s *Subscriber) await(ctx context.Context, msg *message.Message, out chan<- *message.Message) verdict {
	select {
	case out <- msg:
	case <-ctx.Done():
		return nacked
	}
	var deadline <-chan time.Time
	if d := s.q.cfg.AckDeadline; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	select {
	case <-msg.Acked():
		return acked
	case <-msg.Nacked():
		return nacked
	case <-ctx.Done():
	case <-deadline:
	}
	grace := time.NewTimer(s.q.cfg.HandlerGrace)
	defer grace.Stop()
	select {
	case <-msg.Acked():
		return acked
	case <-msg.Nacked():
		return nacked
	case <-grace.C:
		return none
	}
}

// rollbackTo undoes everything since savepoint sp and removes it.
func rollbackTo(ctx context.Context, tx *sql.Tx, sp string) error {
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp)
	return err
}
