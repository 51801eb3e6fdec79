package brokerq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// natsAckWait is how long JetStream waits for a delivered message's ack
// before redelivering it, and how long watermill-nats waits for the
// handler's.
const natsAckWait = 30 * time.Second

// natsName is the stream, subject, durable consumer and queue group name of
// a topic: Prefix+topic with '_' written "__" and '.' written "_d" (stream
// and consumer names cannot hold dots), so distinct topics keep distinct
// names.
func natsName(prefix, topic string) string {
	return strings.NewReplacer("_", "__", ".", "_d").Replace(prefix + topic)
}

// natsBroker is NATS JetStream through watermill-nats: one work-queue
// stream per topic (a message is deleted once acked), one durable push
// consumer per topic with explicit acks delivering to a queue group of the
// same name, joined by every subscriber of the topic, so the nodes compete
// for its messages. Publishing waits for JetStream's ack (the message is
// stored).
type natsBroker struct {
	url    string
	prefix string
	wlog   watermill.LoggerAdapter
	opts   []nats.Option
	pub    *wnats.Publisher
	conn   *nats.Conn
	js     nats.JetStreamContext

	declared sync.Map // topic → struct{}
}

func newNATSBroker(cfg Config, wlog watermill.LoggerAdapter) (*natsBroker, error) {
	b := &natsBroker{
		url:    cfg.URL,
		prefix: cfg.Prefix,
		wlog:   wlog,
		opts: []nats.Option{
			nats.Name("ordergate-brokerq"),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(500 * time.Millisecond),
		},
	}
	conn, err := nats.Connect(cfg.URL, b.opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting management connection: %w", err)
	}
	js, err := conn.JetStream()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("opening JetStream: %w", err)
	}
	b.conn, b.js = conn, js
	pub, err := wnats.NewPublisher(wnats.PublisherConfig{
		URL:               cfg.URL,
		NatsOptions:       b.opts,
		Marshaler:         &wnats.NATSMarshaler{},
		SubjectCalculator: natsSubject,
		JetStream:         wnats.JetStreamConfig{},
	}, wlog)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("creating publisher: %w", err)
	}
	b.pub = pub
	return b, nil
}

// natsSubject makes a name (natsName) its own subject and queue group.
func natsSubject(_, name string) *wnats.SubjectDetail {
	return &wnats.SubjectDetail{Primary: name, QueueGroup: name}
}

func (b *natsBroker) publisher() message.Publisher { return &natsPublisher{b: b} }

func (b *natsBroker) newSubscriber() (message.Subscriber, error) {
	sub, err := wnats.NewSubscriber(wnats.SubscriberConfig{
		URL:               b.url,
		SubscribersCount:  1,
		AckWaitTimeout:    natsAckWait,
		NatsOptions:       b.opts,
		Unmarshaler:       &wnats.NATSMarshaler{},
		SubjectCalculator: natsSubject,
		JetStream: wnats.JetStreamConfig{
			SubscribeOptions: []nats.SubOpt{
				nats.DeliverAll(),
				nats.AckExplicit(),
				nats.AckWait(natsAckWait),
				nats.ManualAck(),
			},
			DurableCalculator: func(_, name string) string { return name },
		},
	}, b.wlog)
	if err != nil {
		return nil, fmt.Errorf("creating subscriber: %w", err)
	}
	return &natsSubscriber{b: b, sub: sub}, nil
}

// declare creates the topics' work-queue streams.
func (b *natsBroker) declare(ctx context.Context, topics ...string) error {
	for _, topic := range topics {
		if _, ok := b.declared.Load(topic); ok {
			continue
		}
		name := natsName(b.prefix, topic)
		_, err := b.js.StreamInfo(name, nats.Context(ctx))
		if errors.Is(err, nats.ErrStreamNotFound) {
			_, err = b.js.AddStream(&nats.StreamConfig{
				Name:      name,
				Subjects:  []string{name},
				Retention: nats.WorkQueuePolicy,
				Storage:   nats.FileStorage,
			}, nats.Context(ctx))
		}
		if err != nil {
			return fmt.Errorf("declaring stream %s: %w", name, err)
		}
		b.declared.Store(topic, struct{}{})
	}
	return nil
}

// waiting is the number of messages in the topic's stream: those not yet
// acked, delivered or not (a work-queue stream deletes acked messages).
func (b *natsBroker) waiting(ctx context.Context, topic string) (int64, bool, error) {
	info, err := b.js.StreamInfo(natsName(b.prefix, topic), nats.Context(ctx))
	if errors.Is(err, nats.ErrStreamNotFound) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading stream of %s: %w", topic, err)
	}
	return int64(info.State.Msgs), true, nil
}

func (b *natsBroker) close() error {
	err := b.pub.Close()
	b.conn.Close()
	return err
}

// natsPublisher declares a topic's stream before its first publish and
// publishes to its subject.
type natsPublisher struct{ b *natsBroker }

func (p *natsPublisher) Publish(topic string, msgs ...*message.Message) error {
	ctx := context.Background()
	if len(msgs) > 0 {
		ctx = msgs[0].Context()
	}
	if err := p.b.declare(ctx, topic); err != nil {
		return err
	}
	return p.b.pub.Publish(natsName(p.b.prefix, topic), msgs...)
}

// Close is a no-op: the broker's publisher is closed with the Queue.
func (p *natsPublisher) Close() error { return nil }

// natsSubscriber declares a topic's stream before subscribing to it.
type natsSubscriber struct {
	b   *natsBroker
	sub *wnats.Subscriber
}

func (s *natsSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.b.declare(ctx, topic); err != nil {
		return nil, err
	}
	return s.sub.Subscribe(ctx, natsName(s.b.prefix, topic))
}

func (s *natsSubscriber) Close() error { return s.sub.Close() }
