package sqliteq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// ErrSubscriberClosed is returned by Subscribe after Close.
var ErrSubscriberClosed = errors.New("subscriber is closed")

// Config configures a Subscriber. The zero value of every field but
// ConsumerGroup is a usable default.
type Config struct {
	// ConsumerGroup names the group whose offset the subscriber advances.
	// Every group receives every message; the subscribers of one group share
	// them. Empty is a group of its own.
	ConsumerGroup string

	// PollInterval is the wait after a query that found no message.
	// Default 5ms (watermill-sql's 1s adds a second per stage).
	PollInterval time.Duration

	// BatchSize is the number of messages read and acked in one transaction.
	// Default 100. The write lock is held for the whole batch.
	BatchSize int

	// BatchLimit, when set, is asked before each batch: a positive result
	// below BatchSize is that batch's size. It lets a subscriber hold the
	// lock for shorter turns while others wait for it (the pipeline: while
	// intake commits, which senders wait for, are frequent).
	BatchLimit func() int

	// AckDeadline is how long one message may stay unacked before the
	// subscriber stops waiting, commits the messages acked before it and
	// delivers it again. Default 30s; negative disables it.
	AckDeadline time.Duration

	// ResendInterval is the wait, with the lock held, between a nack and the
	// next delivery of the same message. Default 5ms.
	ResendInterval time.Duration

	// RetryInterval is the wait after a failed query. Default 100ms; a lock
	// timeout is retried at once.
	RetryInterval time.Duration

	// HandlerGrace is how long the batch's commit waits, once the subscriber
	// stopped waiting for an ack (Close, cancelled context, AckDeadline),
	// for the handler that has the message to return; it holds the write
	// lock meanwhile. When the handler returns in time, only its message is
	// rolled back; otherwise the whole batch is, and every message of it is
	// delivered again. Default 1s; negative rolls back at once.
	HandlerGrace time.Duration

	// InitializeSchema creates the topic's tables on Subscribe. Prefer
	// InitializeSchema at start-up.
	InitializeSchema bool

	// Peek, when set, is a read-only handle on the same database that
	// does not wait for the write lock (best the read pool of a WAL
	// database). Before each poll's transaction the subscriber looks there
	// whether the topic has a message the group has not acked, and takes
	// the write lock only when it has: an idle topic costs no write
	// transaction, which every other writer would queue behind. A poll
	// that found nothing waits for the next commit through the Writer
	// (which may have published one) and looks again, for at most
	// IdleWait: an idle topic costs a read per IdleWait and per commit.
	Peek Queryer

	// IdleWait bounds how long a poll with Peek waits for a commit through
	// the Writer before it gives up (and polls again after PollInterval):
	// it is how late a message written by another process, or on the
	// database directly, is found. Default 250ms.
	IdleWait time.Duration
}

func (c *Config) setDefaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.AckDeadline == 0 {
		c.AckDeadline = 30 * time.Second
	}
	if c.AckDeadline < 0 {
		c.AckDeadline = 0
	}
	if c.ResendInterval <= 0 {
		c.ResendInterval = 5 * time.Millisecond
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 100 * time.Millisecond
	}
	if c.HandlerGrace == 0 {
		c.HandlerGrace = time.Second
	}
	if c.IdleWait <= 0 {
		c.IdleWait = 250 * time.Millisecond
	}
}

// Subscriber is a watermill subscriber on a SQLite database: watermill-sql's
// subscriber with Schema and Offsets, on the Writer's lock, with one
// savepoint per delivered message (see the package documentation).
type Subscriber struct {
	inner  *wsql.Subscriber
	w      *Writer
	cfg    Config
	logger watermill.LoggerAdapter

	mu     sync.Mutex
	closed bool
	stop   context.CancelFunc // ends the subscriptions' waits for the lock
	relays sync.WaitGroup
}

var (
	_ message.Subscriber           = (*Subscriber)(nil)
	_ message.SubscribeInitializer = (*Subscriber)(nil)
)

// NewSubscriber returns a subscriber whose transactions go through w.
func NewSubscriber(w *Writer, cfg Config, logger watermill.LoggerAdapter) (*Subscriber, error) {
	if w == nil {
		return nil, errors.New("creating subscriber: nil writer")
	}
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	cfg.setDefaults()
	ackDeadline := cfg.AckDeadline
	stopCtx, stop := context.WithCancel(context.Background())
	inner, err := wsql.NewSubscriber(
		beginner{w: w, group: cfg.ConsumerGroup, grace: cfg.HandlerGrace, stop: stopCtx, peek: cfg.Peek, idle: cfg.IdleWait, poll: cfg.PollInterval},
		wsql.SubscriberConfig{
			ConsumerGroup:  cfg.ConsumerGroup,
			AckDeadline:    &ackDeadline,
			PollInterval:   cfg.PollInterval,
			ResendInterval: cfg.ResendInterval,
			RetryInterval:  cfg.RetryInterval,
			BackoffManager: backoff{poll: cfg.PollInterval, retry: cfg.RetryInterval},
			SchemaAdapter:  Schema{BatchSize: cfg.BatchSize, Limit: cfg.BatchLimit},
			OffsetsAdapter: Offsets{},
		},
		logger,
	)
	if err != nil {
		stop()
		return nil, fmt.Errorf("creating subscriber: %w", err)
	}
	return &Subscriber{inner: inner, w: w, cfg: cfg, logger: logger, stop: stop}, nil
}

// Subscribe delivers the topic's messages not yet acked by the group, in
// offset order, one at a time. Each message's context carries the batch's
// transaction (TxFromContext). The channel is closed after Close or when
// ctx is done.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSubscriberClosed
	}
	if err := validateTopic(topic); err != nil {
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	if s.cfg.InitializeSchema {
		if err := InitializeSchema(ctx, s.w, topic); err != nil {
			return nil, fmt.Errorf("subscribing: %w", err)
		}
	}
	if err := registerGroup(ctx, s.w, topic, s.cfg.ConsumerGroup); err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", topic, err)
	}
	// The poll transactions are begun with (a context derived from) this
	// one: it names the topic for the beginner's peek.
	in, err := s.inner.Subscribe(context.WithValue(ctx, topicKey{}, topic), topic)
	if err != nil {
		return nil, fmt.Errorf("subscribing to %s: %w", topic, err)
	}
	out := make(chan *message.Message)
	s.relays.Add(1)
	go s.relay(topic, in, out)
	return out, nil
}

// SubscribeInitialize creates the topic's tables (InitializeSchema).
func (s *Subscriber) SubscribeInitialize(topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return InitializeSchema(ctx, s.w, topic)
}

// Close stops every subscription and returns when their channels are
// closed and their last batches committed. It is idempotent.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.stop()
	s.mu.Unlock()
	err := s.inner.Close()
	s.relays.Wait()
	if err != nil {
		return fmt.Errorf("closing subscriber: %w", err)
	}
	return nil
}

// relay passes the messages of one subscription on, wrapping each delivery
// in a savepoint of the batch's transaction.
func (s *Subscriber) relay(topic string, in <-chan *message.Message, out chan<- *message.Message) {
	defer s.relays.Done()
	defer close(out)
	for m := range in {
		s.deliver(topic, m, out)
	}
}

func (s *Subscriber) deliver(topic string, m *message.Message, out chan<- *message.Message) {
	ctx := m.Context()
	h, ok := handleFromContext(ctx)
	offset, err := strconv.ParseInt(m.Metadata.Get(offsetMetadataKey), 10, 64)
	if !ok || err != nil {
		s.logger.Error("Message without its transaction or offset", err, watermill.LogFields{"topic": topic, "message_uuid": m.UUID})
		m.Nack()
		return
	}
	d, err := h.begin(topic, offset)
	if err != nil {
		if !errors.Is(err, ErrTxEnded) {
			s.logger.Error("Cannot deliver message", err, watermill.LogFields{"topic": topic, "message_uuid": m.UUID})
		}
		m.Nack()
		return
	}
	outer := m.Copy()
	delete(outer.Metadata, offsetMetadataKey)
	outer.SetContext(ctx)
	select {
	case out <- outer:
	case <-ctx.Done():
		h.settle(d, false, true)
		m.Nack()
		return
	}
	// Once a handler has the message, wait for its verdict even if the
	// subscriber stops: its writes must be rolled back before the commit.
	select {
	case <-outer.Acked():
		h.settle(d, true, ctx.Err() != nil)
		m.Ack()
	case <-outer.Nacked():
		h.settle(d, false, ctx.Err() != nil)
		m.Nack()
	case <-h.abandoned:
	}
}

// backoff is the subscriber's BackoffManager: poll after an empty query,
// retry a lock timeout at once, wait RetryInterval after other errors.
type backoff struct {
	poll, retry time.Duration
}

func (b backoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	switch {
	case err == nil && noMsg:
		return b.poll
	case err == nil:
		return 0
	case errors.Is(err, errNothingNew):
		return b.poll
	case errors.Is(err, ErrLockTimeout):
		logger.Info("Write lock busy, querying again", watermill.LogFields{"err": err.Error()})
		return 0
	case errors.Is(err, context.Canceled), errors.Is(err, ErrSubscriberClosed):
		return b.poll
	default:
		logger.Error("Error querying for messages", err, watermill.LogFields{"wait_time": b.retry})
		return b.retry
	}
}
