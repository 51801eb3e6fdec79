package brokerq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Errors of the subscribers and of Transactional.
var (
	// ErrNoTx is returned by Transactional for a message that does not
	// come from a subscriber of this package.
	ErrNoTx = errors.New("message carries no brokerq delivery transaction")
	// ErrSubscriberClosed is returned by Subscribe after Close.
	ErrSubscriberClosed = errors.New("brokerq subscriber closed")

	errNacked  = errors.New("message nacked")
	errStopped = errors.New("subscriber stopped before the message was acked")
)

// closeGrace is how long a stopping subscriber waits for the handler that
// has a message to ack or nack it before rolling its transaction back.
var closeGrace = 10 * time.Second

type deliveryKey struct{}

// delivery is one delivery of a broker message: its transaction, and
// whether Transactional has recorded it in the inbox yet. Only the handler
// goroutine of the message touches it.
type delivery struct {
	tx        *sql.Tx
	group     string
	recorded  bool
	duplicate bool
}

func deliveryFromContext(ctx context.Context) (*delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(*delivery)
	return d, ok
}

// TxFromContext returns the transaction a message was delivered in
// (msg.Context()). A handler writes its state and publishes the next
// message (NewPublisherInTx) through it; the subscriber commits it when
// the message is acked. Never Commit or Rollback it.
func (q *Queue) TxFromContext(ctx context.Context) (*sql.Tx, bool) {
	d, ok := deliveryFromContext(ctx)
	if !ok {
		return nil, false
	}
	return d.tx, true
}

var attempts atomic.Uint64

// Transactional is the handler middleware for messages of the Queue's
// subscribers, the exactly-once effect: on the first attempt of a delivery
// it records (consumer group, message UUID) in the inbox, in the
// message's transaction, and when the row was there already (a
// redelivery of a message whose effect is committed) it acks without
// calling the handler. Otherwise each attempt (each call, under a retry
// middleware) runs in a savepoint, rolled back when the handler fails.
// Messages the handler returns get the message's context. Put it inside
// (after) the retry middleware.
func (q *Queue) Transactional(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		d, ok := deliveryFromContext(msg.Context())
		if !ok {
			return nil, ErrNoTx
		}
		// The bookkeeping statements must run even if the message's
		// context is cancelled: a partial attempt must not stay in the
		// transaction.
		ctx := context.WithoutCancel(msg.Context())
		if !d.recorded {
			isNew, err := q.recordInbox(ctx, d.tx, d.group, msg.UUID)
			if err != nil {
				return nil, err
			}
			d.recorded, d.duplicate = true, !isNew
		}
		if d.duplicate {
			q.log.Debug("redelivered message skipped", "group", d.group, "uuid", msg.UUID,
				"topic", message.SubscribeTopicFromCtx(msg.Context()))
			return nil, nil
		}
		sp := fmt.Sprintf("brokerq_a%d", attempts.Add(1))
		if _, err := d.tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			return nil, fmt.Errorf("opening attempt savepoint: %w", err)
		}
		out, err := h(msg)
		if err != nil {
			if _, rbErr := d.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); rbErr != nil {
				return nil, errors.Join(err, fmt.Errorf("rolling back attempt: %w", rbErr))
			}
			if _, relErr := d.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); relErr != nil {
				return nil, errors.Join(err, fmt.Errorf("releasing rolled back attempt: %w", relErr))
			}
			return nil, err
		}
		if _, err := d.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); err != nil {
			return nil, fmt.Errorf("releasing attempt savepoint: %w", err)
		}
		for _, o := range out {
			if _, ok := deliveryFromContext(o.Context()); !ok {
				o.SetContext(msg.Context())
			}
		}
		return out, nil
	}
}

// subscriber delivers a broker subscriber's messages one at a time, each
// in its own transaction of the outbox's database.
type subscriber struct {
	q       *Queue
	group   string
	broker  message.Subscriber
	closing chan struct{}

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func newSubscriber(q *Queue, group string, broker message.Subscriber) *subscriber {
	return &subscriber{q: q, group: group, broker: broker, closing: make(chan struct{})}
}

// Subscribe consumes topic until ctx ends or Close.
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSubscriberClosed
	}
	// The broker subscription outlives ctx until the message in flight is
	// settled, so its ack still reaches the broker.
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in, err := s.broker.Subscribe(bctx, topic)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribing to %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer close(out)
		for {
			select {
			case <-s.closing:
				return
			case <-ctx.Done():
				return
			case bm, ok := <-in:
				if !ok {
					return
				}
				s.deliver(ctx, topic, bm, out)
			}
		}
	}()
	return out, nil
}

// deliver hands bm to the handler in a transaction and settles it with the
// broker: ack after the commit, nack (redelivery) otherwise. The
// transaction's function may run more than once (the outbox may retry it):
// each run delivers a fresh copy.
func (s *subscriber) deliver(ctx context.Context, topic string, bm *message.Message, out chan<- *message.Message) {
	err := s.q.outbox.InTx(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		m := bm.Copy()
		m.SetContext(context.WithValue(bm.Context(), deliveryKey{}, &delivery{tx: tx, group: s.group}))
		select {
		case out <- m:
		case <-s.closing:
			return errStopped
		case <-ctx.Done():
			return errStopped
		}
		return s.settled(ctx, m)
	})
	if err != nil {
		bm.Nack()
		if !errors.Is(err, errNacked) && !errors.Is(err, errStopped) {
			s.q.log.Warn("message not committed, nacked for redelivery", "group", s.group, "topic", topic, "uuid", bm.UUID, "err", err)
		}
		return
	}
	bm.Ack()
}

// settled waits for the handler's ack (nil) or nack; when the subscriber
// stops meanwhile, it waits closeGrace more.
func (s *subscriber) settled(ctx context.Context, m *message.Message) error {
	select {
	case <-m.Acked():
		return nil
	case <-m.Nacked():
		return errNacked
	case <-s.closing:
	case <-ctx.Done():
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-m.Acked():
		return nil
	case <-m.Nacked():
		return errNacked
	case <-t.C:
		return errStopped
	}
}

// Close stops the subscriptions, waits for the messages in flight to be
// settled (up to closeGrace each) and closes the broker subscriber.
func (s *subscriber) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closing)
		s.mu.Unlock()
		s.wg.Wait()
		if err := s.broker.Close(); err != nil {
			s.closeErr = fmt.Errorf("closing %s subscriber of %s: %w", s.q.cfg.Broker, s.group, err)
		}
	})
	return s.closeErr
}
