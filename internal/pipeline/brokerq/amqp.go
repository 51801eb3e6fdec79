package brokerq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
)

// AMQP connection settings.
const (
	amqpDialTimeout  = 5 * time.Second
	amqpHeartbeat    = 10 * time.Second
	amqpRetryInitial = 200 * time.Millisecond
	amqpRetryMax     = 5 * time.Second
	amqpPrefetch     = 10
)

var errAMQPConsumerLost = errors.New("AMQP consumer cancelled or connection lost")

// amqpBroker is RabbitMQ: one durable queue per topic (named Prefix+topic)
// on the default exchange, persistent messages with publisher confirms,
// consumers with manual acks and a small prefetch; every subscriber of a
// topic consumes the same queue, so the nodes compete for its messages.
//
// Messages are in watermill-amqp's format (its DefaultMarshaler: the UUID
// and metadata in headers, persistent delivery mode), so watermill-amqp
// publishers and subscribers interoperate with these queues. The
// connection handling is this package's own, on amqp091-go:
// watermill-amqp v3's reconnecting ConnectionWrapper has a data race on
// reconnect (ThreeDotsLabs/watermill#693, open). A lost connection is
// dialled again by the next Publish, and by each subscription with
// exponential backoff (amqpRetryInitial to amqpRetryMax).
type amqpBroker struct {
	url       string
	prefix    string
	log       *slog.Logger
	marshaler wamqp.DefaultMarshaler
	mgmt      *amqpManagement
	pub       *amqpPublisher

	declared sync.Map // topic → struct{}
}

func newAMQPBroker(cfg Config, log *slog.Logger) (*amqpBroker, error) {
	b := &amqpBroker{url: cfg.URL, prefix: cfg.Prefix, log: log}
	b.mgmt = &amqpManagement{dial: b.dial}
	b.pub = &amqpPublisher{b: b}
	// Fail early on a wrong URL or credentials.
	if err := b.mgmt.do(context.Background(), func(*amqp.Channel) error { return nil }); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *amqpBroker) queue(topic string) string { return b.prefix + topic }

func (b *amqpBroker) dial() (*amqp.Connection, error) {
	conn, err := amqp.DialConfig(b.url, amqp.Config{
		Heartbeat:  amqpHeartbeat,
		Dial:       amqp.DefaultDial(amqpDialTimeout),
		Properties: amqp.Table{"connection_name": "ordergate-brokerq"},
	})
	if err != nil {
		return nil, fmt.Errorf("dialling: %w", err)
	}
	return conn, nil
}

func (b *amqpBroker) publisher() message.Publisher { return b.pub }

func (b *amqpBroker) newSubscriber() (message.Subscriber, error) {
	return &amqpSubscriber{b: b, closing: make(chan struct{})}, nil
}

// declare declares the topics' durable queues, so that nothing published
// before the first subscriber is dropped by the default exchange as
// unroutable.
func (b *amqpBroker) declare(ctx context.Context, topics ...string) error {
	for _, topic := range topics {
		if _, ok := b.declared.Load(topic); ok {
			continue
		}
		err := b.mgmt.do(ctx, func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(b.queue(topic), true, false, false, false, nil)
			return err
		})
		if err != nil {
			return fmt.Errorf("declaring queue %s: %w", b.queue(topic), err)
		}
		b.declared.Store(topic, struct{}{})
	}
	return nil
}

// waiting is the number of messages ready in the topic's queue (delivered
// but unacked ones are not counted), 0 when the queue does not exist.
func (b *amqpBroker) waiting(ctx context.Context, topic string) (int64, bool, error) {
	var n int64
	err := b.mgmt.do(ctx, func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclarePassive(b.queue(topic), true, false, false, false, nil)
		if err != nil {
			return err
		}
		n = int64(q.Messages)
		return nil
	})
	var aerr *amqp.Error
	if errors.As(err, &aerr) && aerr.Code == amqp.NotFound {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("inspecting queue %s: %w", b.queue(topic), err)
	}
	return n, true, nil
}

func (b *amqpBroker) close() error {
	return errors.Join(b.pub.close(), b.mgmt.close())
}

// amqpPublisher publishes on one confirm-mode channel, dialled when first
// needed and again after a failure. Publish returns once the broker
// confirmed every message (for a persistent message to a durable queue:
// written to disk).
type amqpPublisher struct {
	b      *amqpBroker
	mu     sync.Mutex
	conn   *amqp.Connection
	ch     *amqp.Channel
	closed bool
}

func (p *amqpPublisher) Publish(topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ctx := msgs[0].Context()
	if err := p.b.declare(ctx, topic); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("AMQP publisher closed")
	}
	ch, err := p.channel()
	if err != nil {
		return err
	}
	confirms := make([]*amqp.DeferredConfirmation, len(msgs))
	for i, m := range msgs {
		pub, err := p.b.marshaler.Marshal(m)
		if err != nil {
			return fmt.Errorf("marshalling message %s: %w", m.UUID, err)
		}
		confirms[i], err = ch.PublishWithDeferredConfirmWithContext(m.Context(), "", p.b.queue(topic), false, false, pub)
		if err != nil {
			p.reset()
			return fmt.Errorf("publishing message %s to %s: %w", m.UUID, p.b.queue(topic), err)
		}
	}
	for i, dc := range confirms {
		ok, err := dc.WaitContext(msgs[i].Context())
		if err != nil {
			p.reset()
			return fmt.Errorf("waiting for the confirm of message %s: %w", msgs[i].UUID, err)
		}
		if !ok {
			// A nack, or the channel closed before the confirm.
			p.reset()
			return fmt.Errorf("message %s not confirmed by the broker", msgs[i].UUID)
		}
	}
	return nil
}

// channel returns the open confirm-mode channel, dialling if needed.
func (p *amqpPublisher) channel() (*amqp.Channel, error) {
	if p.ch != nil && !p.ch.IsClosed() {
		return p.ch, nil
	}
	p.reset()
	conn, err := p.b.dial()
	if err != nil {
		return nil, fmt.Errorf("connecting publisher: %w", err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("opening publisher channel: %w", err)
	}
	p.conn, p.ch = conn, ch
	return ch, nil
}

func (p *amqpPublisher) reset() {
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.conn, p.ch = nil, nil
}

// Close is a no-op: the publisher is closed with the Queue.
func (p *amqpPublisher) Close() error { return nil }

func (p *amqpPublisher) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var err error
	if p.conn != nil && !p.conn.IsClosed() {
		err = p.conn.Close()
	}
	p.conn, p.ch = nil, nil
	return err
}

// amqpSubscriber consumes each subscribed topic's queue on a connection of
// its own, handing on one message at a time (the broker sends up to
// amqpPrefetch ahead), and consumes again on a new connection when the
// connection or the consumer is lost.
type amqpSubscriber struct {
	b       *amqpBroker
	closing chan struct{}

	mu        sync.Mutex
	closed    bool
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func (s *amqpSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSubscriberClosed
	}
	if err := s.b.declare(ctx, topic); err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		s.consume(ctx, topic, out)
	}()
	return out, nil
}

// consume runs consuming sessions until ctx ends or Close, waiting between
// failed ones.
func (s *amqpSubscriber) consume(ctx context.Context, topic string, out chan<- *message.Message) {
	wait := amqpRetryInitial
	for {
		consumed, err := s.session(ctx, topic, out)
		if s.stopping(ctx) {
			return
		}
		if consumed {
			wait = amqpRetryInitial
		}
		s.b.log.Warn("AMQP consumer lost, consuming again", "queue", s.b.queue(topic), "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.closing:
			t.Stop()
			return
		}
		wait = min(2*wait, amqpRetryMax)
	}
}

func (s *amqpSubscriber) stopping(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-s.closing:
		return true
	default:
		return false
	}
}

// session consumes on one connection until it is lost, ctx ends or Close;
// consumed reports whether consuming had started.
func (s *amqpSubscriber) session(ctx context.Context, topic string, out chan<- *message.Message) (consumed bool, err error) {
	conn, err := s.b.dial()
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("opening channel: %w", err)
	}
	if err := ch.Qos(amqpPrefetch, 0, false); err != nil {
		return false, fmt.Errorf("setting prefetch: %w", err)
	}
	queue := s.b.queue(topic)
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		return false, fmt.Errorf("declaring queue %s: %w", queue, err)
	}
	deliveries, err := ch.ConsumeWithContext(ctx, queue, "", false, false, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("consuming %s: %w", queue, err)
	}
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return true, errAMQPConsumerLost
			}
			s.handle(ctx, d, out)
		case <-ctx.Done():
			return true, nil
		case <-s.closing:
			return true, nil
		}
	}
}

// handle passes one delivery on and acks or nacks (requeues) it as its
// message is acked or nacked. A failed ack (lost connection) means a
// redelivery.
func (s *amqpSubscriber) handle(ctx context.Context, d amqp.Delivery, out chan<- *message.Message) {
	msg, err := s.b.marshaler.Unmarshal(d)
	if err != nil {
		// It never will unmarshal: rejected, not requeued.
		s.b.log.Error("dropping AMQP message that does not unmarshal", "queue", d.RoutingKey, "err", err)
		_ = d.Nack(false, false)
		return
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(mctx)
	select {
	case out <- msg:
	case <-ctx.Done():
		_ = d.Nack(false, true)
		return
	case <-s.closing:
		_ = d.Nack(false, true)
		return
	}
	select {
	case <-msg.Acked():
		if err := d.Ack(false); err != nil {
			s.b.log.Warn("AMQP ack failed, the message will be redelivered", "uuid", msg.UUID, "err", err)
		}
	case <-msg.Nacked():
		_ = d.Nack(false, true)
	case <-ctx.Done():
		_ = d.Nack(false, true)
	case <-s.closing:
		_ = d.Nack(false, true)
	}
}

// Close stops the subscriptions (a message not yet acked is requeued) and
// closes their connections.
func (s *amqpSubscriber) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closing)
		s.mu.Unlock()
		s.wg.Wait()
	})
	return nil
}

// amqpManagement is a connection for declaring and inspecting queues,
// dialled when first needed and again after it was lost.
type amqpManagement struct {
	dial func() (*amqp.Connection, error)
	mu   sync.Mutex
	conn *amqp.Connection
}

// do runs fn on a new channel of the connection. amqp091's declarations
// take no context: ctx is checked before, and the connection's heartbeat
// bounds a call to an unresponsive broker.
func (m *amqpManagement) do(ctx context.Context, fn func(ch *amqp.Channel) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil || m.conn.IsClosed() {
		conn, err := m.dial()
		if err != nil {
			return fmt.Errorf("management connection: %w", err)
		}
		m.conn = conn
	}
	ch, err := m.conn.Channel()
	if err != nil {
		_ = m.conn.Close()
		m.conn = nil
		return fmt.Errorf("opening management channel: %w", err)
	}
	err = fn(ch)
	// A failed declaration has closed the channel on the broker's side.
	if cerr := ch.Close(); cerr != nil && err == nil && !errors.Is(cerr, amqp.ErrClosed) {
		err = cerr
	}
	return err
}

func (m *amqpManagement) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil || m.conn.IsClosed() {
		return nil
	}
	err := m.conn.Close()
	m.conn = nil
	return err
}
