package brokerq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/forwarder"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Broker names for Config.Broker.
const (
	RabbitMQ = "rabbitmq"
	NATS     = "nats"
)

// ForwarderTopic is the outbox topic the stages publish into (each message
// in an envelope naming its destination topic), and ForwarderGroup the
// outbox consumer group of the forwarder.
const (
	ForwarderTopic = "brokerq_forwarder"
	ForwarderGroup = "forwarder"
)

// DefaultInboxRetention is how long inbox rows are kept when
// Config.InboxRetention is zero.
const DefaultInboxRetention = 7 * 24 * time.Hour

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("invalid brokerq config")

// Outbox is the database queue the stages' messages are published into
// (in the stage's transaction) and the forwarder consumes: the pipeline's
// Queue interface, served by SQLiteQueue or pgq.
type Outbox interface {
	InitializeSchema(ctx context.Context, topics ...string) error
	InTx(ctx context.Context, fn func(tx *sql.Tx) error) error
	NewPublisherInTx(tx *sql.Tx) (message.Publisher, error)
	NewSubscriber(group string) (message.Subscriber, error)
	Transactional(h message.HandlerFunc) message.HandlerFunc
	TxFromContext(ctx context.Context) (*sql.Tx, bool)
	Depth(ctx context.Context, topic, group string) (int64, error)
	Retain(ctx context.Context, topics ...string) error
}

// Config configures a Queue.
type Config struct {
	// Broker is RabbitMQ ("rabbitmq") or NATS ("nats", JetStream).
	Broker string
	// URL is the broker's URL (amqp://user:pass@host:5672/vhost or
	// nats://user:pass@host:4222, several NATS URLs comma-separated). Its
	// password is never logged.
	URL string
	// Prefix is put before every topic in the broker's queue, stream,
	// subject and consumer names, so several gateways can share a broker.
	Prefix string
	// Dialect is the outbox database's SQL dialect, for the inbox table.
	Dialect Dialect
	// InboxRetention is how long a consumed message's inbox row is kept,
	// and so how long a redelivery is recognised (DefaultInboxRetention
	// when zero).
	InboxRetention time.Duration
	// Logger receives the queue's and watermill's logs (discarded when
	// nil).
	Logger *slog.Logger
}

func (c *Config) validate() error {
	switch c.Broker {
	case RabbitMQ, NATS:
	default:
		return fmt.Errorf("%w: broker %q is neither %q nor %q", ErrConfig, c.Broker, RabbitMQ, NATS)
	}
	if c.URL == "" {
		return fmt.Errorf("%w: no broker URL", ErrConfig)
	}
	if err := c.Dialect.validate(); err != nil {
		return err
	}
	if c.InboxRetention < 0 {
		return fmt.Errorf("%w: negative inbox retention %v", ErrConfig, c.InboxRetention)
	}
	if c.InboxRetention == 0 {
		c.InboxRetention = DefaultInboxRetention
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// RedactedURL is the broker URL as it may be logged: every password
// replaced by "xxxxx".
func RedactedURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}

// broker is what a Queue needs of RabbitMQ or NATS.
type broker interface {
	// publisher publishes to a topic's queue or stream and returns once the
	// broker confirmed each message.
	publisher() message.Publisher
	// newSubscriber consumes a topic's queue or stream, competing with every
	// other subscriber of the topic on the broker.
	newSubscriber() (message.Subscriber, error)
	// declare creates the topics' durable queues or streams.
	declare(ctx context.Context, topics ...string) error
	// waiting is the number of the topic's messages waiting in the broker,
	// and false when the broker does not tell it.
	waiting(ctx context.Context, topic string) (int64, bool, error)
	close() error
}

// Queue is the pipeline's Queue over a database outbox and a message
// broker; see the package documentation.
type Queue struct {
	outbox Outbox
	cfg    Config
	log    *slog.Logger
	wlog   watermill.LoggerAdapter
	broker broker
	inbox  inboxSQL

	closeOnce sync.Once
	closeErr  error
}

// New connects to the broker and returns the queue over outbox. It fails
// when the broker is unreachable; after that, lost connections are
// re-established by the publisher and the subscribers themselves.
func New(outbox Outbox, cfg Config) (*Queue, error) {
	if outbox == nil {
		return nil, fmt.Errorf("%w: no outbox", ErrConfig)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	q := &Queue{
		outbox: outbox,
		cfg:    cfg,
		log:    cfg.Logger.With("component", "brokerq", "broker", cfg.Broker),
		wlog:   watermillLogger(cfg.Logger),
		inbox:  newInboxSQL(cfg.Dialect),
	}
	var err error
	switch cfg.Broker {
	case RabbitMQ:
		q.broker, err = newAMQPBroker(cfg, q.log)
	case NATS:
		q.broker, err = newNATSBroker(cfg, q.wlog)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s at %s: %w", cfg.Broker, RedactedURL(cfg.URL), err)
	}
	q.log.Info("connected to broker", "url", RedactedURL(cfg.URL), "prefix", cfg.Prefix)
	return q, nil
}

// watermillLogger adapts logger for watermill, its info lines at debug.
func watermillLogger(logger *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLoggerWithLevelMapping(logger.With("component", "watermill"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
}

// Close closes the broker publisher and connections. Close subscribers
// (and stop Run) first.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		if err := q.broker.close(); err != nil {
			q.closeErr = fmt.Errorf("closing %s connections: %w", q.cfg.Broker, err)
		}
	})
	return q.closeErr
}

// Run forwards the outbox's messages to the broker until ctx ends: it
// consumes ForwarderTopic as ForwarderGroup and acks each message to the
// outbox only after the broker confirmed it. Run it on every node; the
// nodes' forwarders share the outbox like any consumer group.
func (q *Queue) Run(ctx context.Context) error {
	sub, err := q.outbox.NewSubscriber(ForwarderGroup)
	if err != nil {
		return fmt.Errorf("creating the forwarder's outbox subscriber: %w", err)
	}
	defer func() {
		if err := sub.Close(); err != nil {
			q.log.Warn("closing the forwarder's outbox subscriber", "err", err)
		}
	}()
	fwd, err := forwarder.NewForwarder(sub, q.broker.publisher(), q.wlog, forwarder.Config{
		ForwarderTopic: ForwarderTopic,
		// An envelope that cannot be read never will be: logged and
		// dropped rather than blocking the outbox.
		AckWhenCannotUnwrap: true,
	})
	if err != nil {
		return fmt.Errorf("creating the forwarder: %w", err)
	}
	if err := fwd.Run(ctx); err != nil {
		return fmt.Errorf("running the forwarder: %w", err)
	}
	return nil
}

// InitializeSchema creates the outbox's forwarder topic, the inbox table
// and the topics' durable queues or streams in the broker (idempotent).
func (q *Queue) InitializeSchema(ctx context.Context, topics ...string) error {
	if err := q.outbox.InitializeSchema(ctx, ForwarderTopic); err != nil {
		return fmt.Errorf("initializing the outbox: %w", err)
	}
	if err := q.outbox.InTx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range q.inbox.schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("creating the inbox table: %w", err)
	}
	if err := q.broker.declare(ctx, topics...); err != nil {
		return fmt.Errorf("declaring %s queues: %w", q.cfg.Broker, err)
	}
	return nil
}

// InTx runs fn in a transaction of the outbox's database.
func (q *Queue) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return q.outbox.InTx(ctx, fn)
}

// NewPublisherInTx publishes into the outbox in tx, enveloped for the
// forwarder: a message reaches the broker only if tx commits.
func (q *Queue) NewPublisherInTx(tx *sql.Tx) (message.Publisher, error) {
	pub, err := q.outbox.NewPublisherInTx(tx)
	if err != nil {
		return nil, fmt.Errorf("creating outbox publisher: %w", err)
	}
	return forwarder.NewPublisher(pub, forwarder.PublisherConfig{ForwarderTopic: ForwarderTopic}), nil
}

// NewSubscriber consumes a topic from the broker for group. Each message
// is delivered in a transaction of the outbox's database (TxFromContext),
// committed when the handler acks it and rolled back when it nacks; the
// broker message is acked only after the commit.
func (q *Queue) NewSubscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, fmt.Errorf("%w: empty consumer group", ErrConfig)
	}
	sub, err := q.broker.newSubscriber()
	if err != nil {
		return nil, fmt.Errorf("creating %s subscriber for %s: %w", q.cfg.Broker, group, err)
	}
	return newSubscriber(q, group, sub), nil
}

// Depth is the number of messages not yet forwarded to the broker (all
// topics together: they share the outbox's forwarder topic) plus, for
// RabbitMQ, the topic's messages ready in its queue. group is not used:
// a topic has one queue in the broker.
func (q *Queue) Depth(ctx context.Context, topic, _ string) (int64, error) {
	n, err := q.outbox.Depth(ctx, ForwarderTopic, ForwarderGroup)
	if err != nil {
		return 0, fmt.Errorf("reading the outbox depth: %w", err)
	}
	w, ok, err := q.broker.waiting(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("reading the %s depth of %s: %w", q.cfg.Broker, topic, err)
	}
	if ok {
		n += w
	}
	return n, nil
}

// Retain removes inbox rows older than the inbox retention (every
// retainInterval) and runs the outbox's Retain on the forwarder topic,
// until ctx ends, and returns ctx's error. The topics are the broker's:
// the broker drops what was acked, so they need no trimming here.
func (q *Queue) Retain(ctx context.Context, _ ...string) error {
	outboxDone := make(chan error, 1)
	go func() { outboxDone <- q.outbox.Retain(ctx, ForwarderTopic) }()
	ticker := time.NewTicker(retainInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			if outboxDone != nil {
				<-outboxDone
			}
			return ctx.Err()
		case err := <-outboxDone:
			// The outbox gave up before ctx ended: the inbox is still
			// trimmed.
			q.log.Error("retaining the outbox stopped", "err", err)
			outboxDone = nil
			continue
		case <-ticker.C:
		}
		n, err := q.trimInbox(ctx, time.Now().Add(-q.cfg.InboxRetention))
		if err != nil {
			if ctx.Err() == nil {
				q.log.Error("trimming the inbox", "err", err)
			}
			continue
		}
		if n > 0 {
			q.log.Debug("trimmed the inbox", "deleted", n)
		}
	}
}

// retainInterval is how often Retain trims the inbox.
var retainInterval = time.Minute
