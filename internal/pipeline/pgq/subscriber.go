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

// consume runs batches until ctx is done.
func (s *Subscriber) consume(ctx context.Context, topic string, out chan<- *message.Message) {
	logger := s.q.logger.With(watermill.LogFields{"topic": topic, "consumer_group": s.group})
	var wait time.Duration
	for {
		if err := sleep(ctx, wait); err != nil {
			return
		}
		n, err := s.batch(ctx, topic, out, logger)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("Consuming a batch failed", err, watermill.LogFields{"retry_in": s.q.cfg.RetryInterval})
			wait = s.q.cfg.RetryInterval
		case err != nil:
			return
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
// writes. It returns the number of messages acked.
func (s *Subscriber) batch(ctx context.Context, topic string, out chan<- *message.Message, logger watermill.LoggerAdapter) (n int, err error) {
	conn, err := s.q.db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("getting a connection: %w", err)
	}
	defer conn.Close()
	// The transaction outlives ctx: it ends when the batch ends, with the
	// acked deliveries committed, never under a running handler.
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), &sql.TxOptions{Isolation: s.q.schema.SubscribeIsolationLevel()})
	if err != nil {
		return 0, fmt.Errorf("beginning batch transaction: %w", err)
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
		return 0, err
	}
	var acked []wsql.Row
	for _, row := range rows {
		ok, err := s.deliver(ctx, tx, topic, row, out, logger)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		acked = append(acked, row)
	}
	if len(acked) == 0 {
		return 0, nil
	}
	bg := context.WithoutCancel(ctx)
	ack, err := ackQuery(topic, *s.q.cfg.DeleteOnAck, acked)
	if err != nil {
		return 0, fmt.Errorf("building ack: %w", err)
	}
	if _, err := tx.ExecContext(bg, ack.Query, ack.Args...); err != nil {
		return 0, fmt.Errorf("acking %d messages: %w", len(acked), err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("committing %d acks: %w", len(acked), err)
	}
	return len(acked), nil
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

// deliver hands one message to the subscription's reader, in a savepoint
// of the batch transaction, until it is acked (true), or the subscriber
// stops waiting (false: the message stays for a later batch). A nacked
// delivery is rolled back to its savepoint and delivered again after
// ResendInterval. An error means the transaction is unusable or a handler
// was abandoned: the caller rolls the batch back.
func (s *Subscriber) deliver(ctx context.Context, tx *sql.Tx, topic string, row wsql.Row, out chan<- *message.Message, logger watermill.LoggerAdapter) (bool, error) {
	bg := context.WithoutCancel(ctx)
	sp := "pgq_d" + strconv.FormatInt(row.Offset, 10)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, s.q.cfg.ResendInterval); err != nil {
				return false, nil
			}
		}
		if _, err := tx.ExecContext(bg, "SAVEPOINT "+sp); err != nil {
			return false, fmt.Errorf("opening savepoint of message %s: %w", row.Msg.UUID, err)
		}
		msgCtx, cancelMsg := context.WithCancel(context.WithValue(bg, handleKey{}, tx))
		msg := row.Msg.Copy()
		msg.SetContext(msgCtx)
		v := s.await(ctx, msg, out)
		switch v {
		case acked:
			cancelMsg()
			if _, err := tx.ExecContext(bg, "RELEASE "+sp); err != nil {
				return false, fmt.Errorf("releasing savepoint of message %s: %w", row.Msg.UUID, err)
			}
			return true, nil
		case nacked:
			cancelMsg()
			if err := rollbackTo(bg, tx, sp); err != nil {
				return false, fmt.Errorf("rolling back nacked message %s: %w", row.Msg.UUID, err)
			}
			if ctx.Err() != nil {
				return false, nil
			}
			logger.Debug("Message nacked, delivering again", watermill.LogFields{"message_uuid": row.Msg.UUID})
			continue
		default:
			cancelMsg()
			return false, errAbandoned
		}
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
