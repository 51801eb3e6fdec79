package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ordergate/ordergate/routing"
)

var _ routing.Backend = (*Backend)(nil)

// Defaults of Config.
const (
	DefaultExchangeType   = "direct"
	DefaultConfirmTimeout = 30 * time.Second
	DefaultDialTimeout    = 10 * time.Second
	DefaultMaxBackoff     = 5 * time.Second
	// DefaultDefinitionFlush: RabbitMQ (3.x on Mnesia) writes a new
	// queue's, exchange's or binding's definition through disk_log's
	// write cache, flushed within 2 s; 3 s leaves a margin.
	DefaultDefinitionFlush = 3 * time.Second
)

// minBackoff is the first pause between dial attempts.
const minBackoff = 100 * time.Millisecond

// Header names the backend sets on every message.
const (
	HeaderKey      = "ordergate-key"
	HeaderOrderID  = "ordergate-order-id"
	HeaderRevision = "ordergate-revision"
	HeaderFormat   = "ordergate-format"
	// headerPublish tells a returned message's publish apart from other
	// publishes of the same key; unique per connection.
	headerPublish = "ordergate-publish"
)

// Config configures a Backend.
type Config struct {
	// Name is the backend's name. Required.
	Name string
	// URL is the broker's amqp:// or amqps:// URL, credentials included.
	// Required. Never logged.
	URL string
	// Queue is the durable queue messages go to; with Exchange, the queue
	// bound to it. Queue or Exchange is required.
	Queue string
	// Exchange is the exchange messages are published to; empty publishes
	// through the default exchange to Queue.
	Exchange string
	// ExchangeType is the type Exchange is declared with when it does not
	// exist; default "direct".
	ExchangeType string
	// RoutingKey is the routing key with Exchange; default Queue.
	RoutingKey string
	// ConfirmTimeout bounds the wait for the broker's confirm; default
	// 30 s.
	ConfirmTimeout time.Duration
	// DialTimeout bounds connecting and the AMQP handshake; default 10 s.
	DialTimeout time.Duration
	// MaxBackoff caps the pause between dial attempts while the broker is
	// unreachable; default 5 s.
	MaxBackoff time.Duration
	// DefinitionFlush is how long after the backend declared a queue,
	// exchange or binding the broker may still forget it (and the
	// confirmed messages in it) when it crashes; default 3 s. A delivery
	// confirmed in that window is reported delivered only once the window
	// has passed with the connection alive and a passive declare finds the
	// queue. Tests that never kill the broker may shorten it.
	DefinitionFlush time.Duration
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("rabbitmq: name is required"))
	}
	if c.URL == "" {
		errs = append(errs, fmt.Errorf("rabbitmq %s: url is required", c.Name))
	} else if _, err := amqp.ParseURI(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("rabbitmq %s: url is not an AMQP URI: %w", c.Name, redact(err)))
	}
	if c.Queue == "" && c.Exchange == "" {
		errs = append(errs, fmt.Errorf("rabbitmq %s: queue or exchange is required", c.Name))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"confirm timeout", c.ConfirmTimeout}, {"dial timeout", c.DialTimeout}, {"max backoff", c.MaxBackoff}, {"definition flush", c.DefinitionFlush}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("rabbitmq %s: %s %v is negative", c.Name, d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

// redact drops the URL (and its password) from a URL parse error.
func redact(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func (c *Config) setDefaults() {
	if c.ExchangeType == "" {
		c.ExchangeType = DefaultExchangeType
	}
	if c.RoutingKey == "" {
		c.RoutingKey = c.Queue
	}
	if c.ConfirmTimeout == 0 {
		c.ConfirmTimeout = DefaultConfirmTimeout
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.DefinitionFlush == 0 {
		c.DefinitionFlush = DefaultDefinitionFlush
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// target returns where messages are published: exchange and routing key.
func (c *Config) target() (exchange, key string) {
	if c.Exchange == "" {
		return "", c.Queue
	}
	return c.Exchange, c.RoutingKey
}

// destination names the target for receipts and logs.
func (c *Config) destination() string {
	if c.Exchange == "" {
		return "queue " + c.Queue
	}
	return "exchange " + c.Exchange + " with routing key " + strconv.Quote(c.RoutingKey)
}

// Backend publishes deliveries to RabbitMQ with publisher confirms.
type Backend struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	closed  bool
	cur     *session
	dialing chan struct{} // non-nil while a dial is in progress
	retryAt time.Time     // no dial before this after a failure
	backoff time.Duration
	lastErr error
	// connected: a session has been established before.
	connected bool
}

// New checks cfg, connects to the broker and declares the topology. log
// may be nil.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Backend{cfg: cfg, log: log.With("backend", cfg.Name)}
	if _, err := b.session(ctx); err != nil {
		return nil, fmt.Errorf("rabbitmq %s: %w", cfg.Name, err)
	}
	return b, nil
}

// Name returns the configured name.
func (b *Backend) Name() string { return b.cfg.Name }

// PayloadOnly marks the backend a routing.PayloadBackend: it sends the
// payload and the delivery's ids, not the order's fields.
func (b *Backend) PayloadOnly() {}

// Deliver publishes d persistent and mandatory and waits for the broker's
// confirm.
func (b *Backend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	if err := d.ValidatePayload(); err != nil {
		return routing.Receipt{}, fmt.Errorf("rabbitmq %s: %w", b.cfg.Name, err)
	}
	if err := b.deliver(ctx, d); err != nil {
		return routing.Receipt{}, fmt.Errorf("rabbitmq %s: delivering %s: %w", b.cfg.Name, d.Key, err)
	}
	return routing.Receipt{
		ExternalRef: d.Key,
		At:          b.cfg.Clock(),
		Detail:      "published to " + b.cfg.destination() + " as message " + d.Key + ", confirmed by the broker",
	}, nil
}

func (b *Backend) deliver(ctx context.Context, d routing.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := b.session(ctx)
	if err != nil {
		return err
	}
	id := strconv.FormatUint(s.publishes.Add(1), 10)
	msg := amqp.Publishing{
		Headers: amqp.Table{
			HeaderKey:      d.Key,
			HeaderOrderID:  d.OrderID,
			HeaderRevision: int64(d.Revision),
			HeaderFormat:   string(d.Payload.Format),
			headerPublish:  id,
		},
		ContentType:  d.Payload.ContentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    d.Key,
		Timestamp:    b.cfg.Clock(),
		AppId:        "ordergate",
		Body:         d.Payload.Body,
	}
	exchange, key := b.cfg.target()
	dc, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, exchange, key, true, false, msg)
	if err != nil {
		b.drop(s, err)
		return fmt.Errorf("publishing: %w", err)
	}
	if dc == nil {
		return errors.New("publishing: channel is not in confirm mode")
	}
	wctx, cancel := context.WithTimeout(ctx, b.cfg.ConfirmTimeout)
	defer cancel()
	acked, err := dc.WaitContext(wctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("waiting for the broker's confirm: %w", ctx.Err())
	case err != nil:
		return fmt.Errorf("no confirm from the broker within %v: %w", b.cfg.ConfirmTimeout, err)
	case !acked && s.dead():
		return fmt.Errorf("connection to the broker lost before its confirm: %w", s.cause())
	case !acked:
		return errors.New("the broker nacked the message")
	}
	returned, err := s.returned(ctx, id)
	if err != nil {
		return fmt.Errorf("checking for a return: %w", err)
	}
	if returned != nil {
		return fmt.Errorf("the broker returned the message as unroutable from %s: %d %s",
			b.cfg.destination(), returned.ReplyCode, returned.ReplyText)
	}
	return b.definitionsSafe(ctx, s)
}

// definitionsSafe returns once the topology s declared can no longer be
// lost by a broker crash: a confirm covers the message, not the
// definition of a queue declared a moment ago, which the broker keeps in
// a write cache for up to DefinitionFlush. It waits until DefinitionFlush
// after the declare, then checks that the connection stayed up all along
// (a broker that restarted may have forgotten the queue and the message)
// and that the queue is there. Sessions that declared nothing return at
// once.
func (b *Backend) definitionsSafe(ctx context.Context, s *session) error {
	if s.safeAt.IsZero() || s.safe.Load() {
		return nil
	}
	if wait := time.Until(s.safeAt); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the broker to store the declared %s: %w", b.cfg.destination(), ctx.Err())
		case <-s.closedCh:
			t.Stop()
		}
	}
	s.verify.Lock()
	defer s.verify.Unlock()
	if s.safe.Load() {
		return nil
	}
	if s.dead() {
		return fmt.Errorf("connection to the broker lost within %v of declaring %s (a crash then may lose the queue and the confirmed message): %w",
			b.cfg.DefinitionFlush, b.cfg.destination(), s.cause())
	}
	if q := b.cfg.Queue; q != "" {
		ch, err := s.conn.Channel()
		if err != nil {
			return fmt.Errorf("checking the declared queue %s: opening a channel: %w", q, err)
		}
		_, err = ch.QueueDeclarePassive(q, true, false, false, false, nil)
		if err != nil {
			return fmt.Errorf("checking the declared queue %s: %w", q, err)
		}
		_ = ch.Close()
	}
	s.safe.Store(true)
	b.log.Info("declared topology stored by the broker", "destination", b.cfg.destination())
	return nil
}

// session returns the live session, dialing a new one when there is none
// and the backoff allows. Concurrent callers share one dial.
func (b *Backend) session(ctx context.Context) (*session, error) {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil, routing.ErrClosed
		}
		if s := b.cur; s != nil {
			if !s.dead() {
				b.mu.Unlock()
				return s, nil
			}
			s.close()
			b.cur = nil
			b.log.Warn("lost the connection to the broker", "err", s.cause())
		}
		if wait := b.dialing; wait != nil {
			b.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if now := b.cfg.Clock(); now.Before(b.retryAt) {
			err, wait := b.lastErr, b.retryAt.Sub(now)
			b.mu.Unlock()
			return nil, fmt.Errorf("broker unreachable, next attempt in %v: %w", wait.Round(time.Millisecond), err)
		}
		done := make(chan struct{})
		b.dialing = done
		b.mu.Unlock()

		s, err := b.connect(ctx)

		b.mu.Lock()
		b.dialing = nil
		close(done)
		switch {
		case err != nil && ctx.Err() == nil:
			b.backoff = min(max(2*b.backoff, minBackoff), b.cfg.MaxBackoff)
			b.retryAt = b.cfg.Clock().Add(b.backoff)
			b.lastErr = err
			b.log.Warn("cannot connect to the broker", "err", err, "retry_in", b.backoff)
		case err == nil && b.closed:
			s.close()
			err = routing.ErrClosed
		case err == nil:
			if b.connected {
				b.log.Info("reconnected to the broker")
			}
			b.connected = true
			b.cur, b.backoff, b.retryAt, b.lastErr = s, 0, time.Time{}, nil
		}
		b.mu.Unlock()
		return s, err
	}
}

// drop forgets s after a failed publish so the next Deliver dials again,
// when s is indeed dead.
func (b *Backend) drop(s *session, err error) {
	if !s.dead() {
		return
	}
	b.mu.Lock()
	if b.cur == s {
		b.cur = nil
		b.log.Warn("lost the connection to the broker", "err", err)
	}
	b.mu.Unlock()
	s.close()
}

// connect dials, opens a channel in confirm mode and declares the topology.
func (b *Backend) connect(ctx context.Context) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, b.cfg.DialTimeout)
	defer cancel()
	conn, err := amqp.DialConfig(b.cfg.URL, amqp.Config{
		Properties: amqp.Table{"connection_name": "ordergate " + b.cfg.Name},
		Dial: func(network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Covers the AMQP handshake; amqp091 clears it afterwards.
			if err := c.SetDeadline(time.Now().Add(b.cfg.DialTimeout)); err != nil {
				_ = c.Close()
				return nil, err
			}
			return c, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", redact(err))
	}
	declared, err := b.declare(conn)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("opening a channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("enabling publisher confirms: %w", err)
	}
	s := newSession(conn, ch)
	if declared {
		s.safeAt = time.Now().Add(b.cfg.DefinitionFlush)
	}
	return s, nil
}

// declare makes sure the exchange and queue exist, declaring the missing
// ones durable, and binds the queue to the exchange. A passive declare that
// fails closes its channel, so each check gets a fresh one. declared
// reports whether it changed the broker's definitions (or may have: a
// binding).
func (b *Backend) declare(conn *amqp.Connection) (declared bool, err error) {
	exists := func(check func(ch *amqp.Channel) error) (bool, error) {
		ch, err := conn.Channel()
		if err != nil {
			return false, fmt.Errorf("opening a channel: %w", err)
		}
		err = check(ch)
		if amqpErr, ok := errors.AsType[*amqp.Error](err); ok && amqpErr.Code == amqp.NotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return true, ch.Close()
	}
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("opening a channel: %w", err)
	}
	defer ch.Close()
	if x := b.cfg.Exchange; x != "" {
		ok, err := exists(func(ch *amqp.Channel) error {
			return ch.ExchangeDeclarePassive(x, b.cfg.ExchangeType, true, false, false, false, nil)
		})
		if err != nil {
			return false, fmt.Errorf("checking exchange %s: %w", x, err)
		}
		if !ok {
			if err := ch.ExchangeDeclare(x, b.cfg.ExchangeType, true, false, false, false, nil); err != nil {
				return false, fmt.Errorf("declaring exchange %s: %w", x, err)
			}
			declared = true
			b.log.Info("declared exchange", "exchange", x, "type", b.cfg.ExchangeType)
		}
	}
	if q := b.cfg.Queue; q != "" {
		ok, err := exists(func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("checking queue %s: %w", q, err)
		}
		if !ok {
			if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
				return false, fmt.Errorf("declaring queue %s: %w", q, err)
			}
			declared = true
			b.log.Info("declared durable queue", "queue", q)
		}
		if x := b.cfg.Exchange; x != "" {
			if err := ch.QueueBind(q, b.cfg.RoutingKey, x, false, nil); err != nil {
				return false, fmt.Errorf("binding queue %s to exchange %s: %w", q, x, err)
			}
			declared = true
		}
	}
	return declared, nil
}

// Close closes the connection; Delivers waiting for a confirm fail. It is
// idempotent.
func (b *Backend) Close(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.cur != nil {
		b.cur.close()
		b.cur = nil
	}
	return nil
}

// session is one connection with one confirm-mode channel.
type session struct {
	conn *amqp.Connection
	ch   *amqp.Channel

	publishes atomic.Uint64 // publish ids

	// safeAt: when the topology this session declared is stored for
	// good; zero when it declared nothing. safe: checked after safeAt.
	safeAt time.Time
	safe   atomic.Bool
	verify sync.Mutex

	closedCh chan struct{} // closed when the connection or channel closed
	err      atomic.Pointer[amqp.Error]

	returns    chan amqp.Return
	flush      chan chan struct{}
	mu         sync.Mutex
	unroutable map[string]*amqp.Return // by publish id
	stopped    chan struct{}           // the returns loop ended
}

func newSession(conn *amqp.Connection, ch *amqp.Channel) *session {
	s := &session{
		conn:     conn,
		ch:       ch,
		closedCh: make(chan struct{}),
		// Unbuffered: amqp091 hands a return over before it handles the
		// ack that follows it, so a flush after the ack sees the return.
		returns:    ch.NotifyReturn(make(chan amqp.Return)),
		flush:      make(chan chan struct{}),
		unroutable: map[string]*amqp.Return{},
		stopped:    make(chan struct{}),
	}
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		var err *amqp.Error
		select {
		case err = <-connClosed:
		case err = <-chClosed:
		}
		if err == nil {
			err = amqp.ErrClosed
		}
		s.err.Store(err)
		close(s.closedCh)
	}()
	go s.loop()
	return s
}

// loop records returned messages and answers flushes, in order.
func (s *session) loop() {
	defer close(s.stopped)
	for {
		select {
		case r, ok := <-s.returns:
			if !ok {
				return
			}
			if id, _ := r.Headers[headerPublish].(string); id != "" {
				s.mu.Lock()
				s.unroutable[id] = &r
				s.mu.Unlock()
			}
		case done := <-s.flush:
			close(done)
		}
	}
}

// returned reports whether the publish id came back as unroutable. Call
// it after the publish's ack.
func (s *session) returned(ctx context.Context, id string) (*amqp.Return, error) {
	done := make(chan struct{})
	select {
	case s.flush <- done:
		<-done
	case <-s.stopped:
		// The channel closed: every return sent before it was handled.
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.unroutable[id]
	delete(s.unroutable, id)
	return r, nil
}

func (s *session) dead() bool {
	select {
	case <-s.closedCh:
		return true
	default:
		return s.conn.IsClosed() || s.ch.IsClosed()
	}
}

func (s *session) cause() error {
	if err := s.err.Load(); err != nil {
		return err
	}
	return amqp.ErrClosed
}

func (s *session) close() {
	_ = s.conn.Close()
}
