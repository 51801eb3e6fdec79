package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/metrics"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/routing"
	"github.com/sony/gobreaker/v2"
)

// The topics of the stages.
const (
	TopicDocReceived     = "doc.received"
	TopicOrderParsed     = "order.parsed"
	TopicOrderNormalized = "order.normalized"
	TopicOrderAccepted   = "order.accepted"
)

// Topics lists every topic the pipeline uses.
var Topics = []string{TopicDocReceived, TopicOrderParsed, TopicOrderNormalized, TopicOrderAccepted}

// ErrPermanent marks an error that retrying cannot cure: the message goes
// to quarantine at once.
var ErrPermanent = errors.New("permanent failure")

// errNoTx: a stage message that does not come from the queue's subscriber.
var errNoTx = errors.New("message carries no subscriber transaction")

// Processor turns a document's bytes into messages, orders and acks
// (ediproc.Processor in the gateway).
type Processor interface {
	Process(ctx context.Context, r io.Reader, file string, opts ediproc.Options, emit func(*ediproc.Message) error) (*ediproc.Summary, error)
}

// Deps are what the pipeline is built from.
type Deps struct {
	Store *store.Store
	// Queue is the stages' message queue (NewSQLiteQueue, or pgq on
	// PostgreSQL).
	Queue     Queue
	Config    func() *config.Config
	Processor Processor
	Backends  map[string]routing.Backend
	// BackendSet, when set, stands in for Backends: it returns the
	// backends of the running configuration for one delivery batch and a
	// release the batch calls when it is done with them (a config reload
	// swaps the set and closes the old backends once their batches are
	// released).
	BackendSet func() (backends map[string]routing.Backend, release func())
	Outbounds  map[string]channels.Outbound
	// PartnerOutbounds are channels whose outbound depends on the partner
	// (a hosted SFTP server: each partner's own out/ folder).
	PartnerOutbounds map[string]func(partnerID string) (channels.Outbound, error)
	Metrics          *metrics.Metrics
	Logger           *slog.Logger
	Now              func() time.Time
	// Capture reads draft orders from faxes and order mails; nil rejects
	// them with a reason.
	Capture Capture
	// BreakerOpen is how long a backend's circuit breaker stays open
	// after it trips; 30 s when zero.
	BreakerOpen time.Duration
	// Fault, when set, is called at named points (crash tests):
	// "after-intake-commit", and "intake-normalize" before intake
	// normalizes one of the orders it parsed, in its transaction.
	Fault func(point string)
	// Singleton runs fn where exactly one node of a cluster must run it
	// (the delivery, outbound-ack and retention workers): under a lease,
	// returning when ctx ends. Nil runs fn at once (one node).
	Singleton func(ctx context.Context, name string, fn func(ctx context.Context))
	// IntakeBacklog is how many documents and orders may wait for the
	// parse and normalize stages before the intake of pulled sources
	// (folders, SFTP, mailboxes) pauses: 256 when zero, no limit when
	// negative. Pushed documents (the API) are never held back.
	IntakeBacklog int
	// Consumers is how many subscribers each stage runs on this node (1
	// when zero). More than one pays where the queue lets consumers
	// compete and the database takes concurrent writers (postgres); on
	// sqlite one writer does all the writing anyway.
	Consumers int
	// WorkerPoll is how often the delivery worker looks for due
	// deliveries when idle (the ack sender: twice that); 10 ms when zero.
	WorkerPoll time.Duration
}

// Pipeline runs the stages and the background workers.
type Pipeline struct {
	d      Deps
	log    *slog.Logger
	wlog   watermill.LoggerAdapter
	router *message.Router
	subs   []message.Subscriber
	acks   *sourceAcks
	blocks controlBlocks
	// breakers hold one circuit breaker per backend.
	breakers *breakers
	routes   routeTables
	engines  engines
	sources  sourceStates
	// routed passes the orders routing stored to the delivery worker.
	routed *orderHandoff
	// stagesOnly makes intake publish the orders it parsed instead of
	// normalizing them in its transaction (tests: the stage path).
	stagesOnly bool
	// intakeNormalizeMax bounds the orders intake normalizes per
	// transaction (intakeNormalizeMax; tests set it lower).
	intakeNormalizeMax int
	// normalizedAtIntake counts the orders intake normalized.
	normalizedAtIntake atomic.Int64
	// guardedRetries counts the intake batches stored again with each
	// order in a savepoint (normalizeParsed).
	guardedRetries atomic.Int64
	// routedStale counts the orders routing handed off that were not
	// the order as committed.
	routedStale atomic.Int64

	mu      sync.Mutex
	running bool
}

// payload is the body of every stage message.
type payload struct {
	DocumentID string `json:"document_id,omitempty"`
	OrderID    string `json:"order_id,omitempty"`
}

// New builds the pipeline; Run starts it.
func New(d Deps) (*Pipeline, error) {
	if d.Store == nil || d.Queue == nil || d.Config == nil || d.Processor == nil {
		return nil, errors.New("pipeline: store, queue, config and processor are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New(nil)
	}
	if d.Fault == nil {
		d.Fault = func(string) {}
	}
	if d.WorkerPoll <= 0 {
		d.WorkerPoll = 10 * time.Millisecond
	}
	if d.Singleton == nil {
		d.Singleton = func(ctx context.Context, _ string, fn func(context.Context)) { fn(ctx) }
	}
	p := &Pipeline{d: d, log: d.Logger, wlog: WatermillLogger(d.Logger), routed: newOrderHandoff(handoffMax, handoffTTL, time.Now),
		intakeNormalizeMax: intakeNormalizeMax}
	p.acks = newSourceAcks(p)
	p.blocks.p = p
	open := d.BreakerOpen
	if open <= 0 {
		open = breakerOpen
	}
	p.breakers = newBreakers(open, func(backend string, from, to gobreaker.State) {
		p.log.Warn("backend circuit breaker", "backend", backend, "from", from.String(), "to", to.String())
	})
	return p, nil
}

// Init creates the queue's tables. Run calls it too.
func (p *Pipeline) Init(ctx context.Context) error {
	return p.d.Queue.InitializeSchema(ctx, Topics...)
}

// Depths reports the messages waiting per topic, for metrics.
func (p *Pipeline) Depths(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64, len(Topics))
	for _, t := range Topics {
		n, err := p.d.Queue.Depth(ctx, t, stageOf[t])
		if err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}

var stageOf = map[string]string{
	TopicDocReceived:     "parse",
	TopicOrderParsed:     "normalize",
	TopicOrderNormalized: "decide",
	TopicOrderAccepted:   "route",
}

type stage struct {
	name  string
	topic string
	fn    func(ctx context.Context, tx *store.Tx, pub message.Publisher, msg *message.Message, pl payload) error
}

// Run runs the router and the workers until ctx ends, then stops them:
// handlers in flight finish (bounded by the config's drain timeout).
func (p *Pipeline) Run(ctx context.Context) error {
	if err := p.Init(ctx); err != nil {
		return fmt.Errorf("initializing the queue: %w", err)
	}
	cfg := p.d.Config()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.Pipeline.DrainTimeout}, p.wlog)
	if err != nil {
		return fmt.Errorf("creating router: %w", err)
	}
	router.AddMiddleware(
		middleware.Recoverer,
		middleware.CorrelationID,
		p.quarantine,
		middleware.Retry{
			// Retries hold the write lock: keep them few and short; what
			// outlives them goes to quarantine.
			MaxRetries:          min(cfg.Pipeline.Retry.MaxAttempts-1, 4),
			InitialInterval:     min(cfg.Pipeline.Retry.InitialInterval, 50*time.Millisecond),
			MaxInterval:         min(cfg.Pipeline.Retry.MaxInterval, 500*time.Millisecond),
			Multiplier:          2,
			RandomizationFactor: 0.3,
			ShouldRetry:         func(rp middleware.RetryParams) bool { return !errors.Is(rp.Err, ErrPermanent) },
			Logger:              p.wlog,
		}.Middleware,
		p.d.Queue.Transactional,
	)
	stages := []stage{
		{"parse", TopicDocReceived, p.parse},
		{"normalize", TopicOrderParsed, p.normalize},
		{"decide", TopicOrderNormalized, p.decide},
		{"route", TopicOrderAccepted, p.route},
	}
	for _, s := range stages {
		for c := range max(p.d.Consumers, 1) {
			sub, err := p.d.Queue.NewSubscriber(s.name)
			if err != nil {
				return fmt.Errorf("creating subscriber of %s: %w", s.name, err)
			}
			p.subs = append(p.subs, sub)
			name := s.name
			if c > 0 {
				name = fmt.Sprintf("%s-%d", s.name, c+1)
			}
			router.AddConsumerHandler(name, s.topic, sub, p.handler(s))
		}
	}
	p.router = router

	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.acks.run(wctx) }()
	for name, w := range map[string]func(context.Context){"ack-sender": p.runAckSender, "deliveries": p.runDeliveries, "retention": p.runRetention} {
		wg.Add(1)
		go func() { defer wg.Done(); p.d.Singleton(wctx, "pipeline:"+name, w) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- router.Run(context.WithoutCancel(ctx)) }()
	select {
	case <-router.Running():
	case err := <-errc:
		stopWorkers()
		wg.Wait()
		return fmt.Errorf("starting router: %w", err)
	}
	p.mu.Lock()
	p.running = true
	p.mu.Unlock()
	p.log.Info("pipeline running", "stages", len(stages))

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	p.mu.Lock()
	p.running = false
	p.mu.Unlock()
	p.log.Info("pipeline draining")
	if err := router.Close(); err != nil {
		p.log.Warn("closing router", "err", err)
	}
	for _, s := range p.subs {
		_ = s.Close()
	}
	stopWorkers()
	wg.Wait()
	return runErr
}

// Ready reports whether the router is running.
func (p *Pipeline) Ready(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return errors.New("pipeline not running")
	}
	return nil
}

// handler adapts a stage to watermill: payload decoding, the message's
// transaction, metrics.
func (p *Pipeline) handler(s stage) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		start := time.Now()
		defer p.d.Metrics.ObserveStage(s.name, start)
		var pl payload
		if err := json.Unmarshal(msg.Payload, &pl); err != nil {
			return fmt.Errorf("%s: decoding payload: %w: %w", s.name, ErrPermanent, err)
		}
		sqlTx, ok := p.d.Queue.TxFromContext(msg.Context())
		if !ok {
			return fmt.Errorf("%s: %w", s.name, errNoTx)
		}
		pub, err := p.d.Queue.NewPublisherInTx(sqlTx)
		if err != nil {
			return err
		}
		return s.fn(msg.Context(), p.d.Store.WrapTx(sqlTx), pub, msg, pl)
	}
}

// quarantine is the outermost error handler: a message whose handler
// failed permanently or past its retries is recorded in quarantine in the
// message's own transaction and acked, so the stage moves on.
func (p *Pipeline) quarantine(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			return out, nil
		}
		sqlTx, ok := p.d.Queue.TxFromContext(msg.Context())
		if !ok {
			return nil, err
		}
		ctx := msg.Context()
		tx := p.d.Store.WrapTx(sqlTx)
		topic := message.SubscribeTopicFromCtx(ctx)
		meta := map[string]string{}
		for k, v := range msg.Metadata {
			meta[k] = v
		}
		if _, _, qErr := tx.InsertQuarantine(ctx, store.QuarantineInput{Topic: topic, MessageUUID: msg.UUID,
			Payload: msg.Payload, Metadata: meta, Error: err.Error()}); qErr != nil {
			return nil, errors.Join(err, qErr)
		}
		var pl payload
		_ = json.Unmarshal(msg.Payload, &pl)
		// Best effort: the document or order may not exist (that may be
		// why the message failed). In a savepoint, because on PostgreSQL a
		// failed statement would abort the transaction, quarantine row
		// included.
		reason := err.Error()
		_ = bestEffort(ctx, sqlTx, func() error {
			if pl.DocumentID != "" {
				if serr := tx.SetDocumentStatus(ctx, pl.DocumentID, store.DocumentQuarantined, reason); serr != nil {
					return serr
				}
				if _, serr := tx.AddEvent(ctx, store.EventInput{DocumentID: pl.DocumentID, Actor: "system", Kind: "quarantined", Reason: reason}); serr != nil {
					return serr
				}
			}
			if pl.OrderID != "" {
				if _, serr := tx.AddEvent(ctx, store.EventInput{OrderID: pl.OrderID, Actor: "system", Kind: "quarantined", Reason: reason}); serr != nil {
					return serr
				}
			}
			return nil
		})
		p.log.Error("message quarantined", "topic", topic, "document_id", pl.DocumentID, "order_id", pl.OrderID, "err", err)
		return nil, nil
	}
}

// bestEffort runs fn in a savepoint of tx and rolls its writes back when
// it fails, leaving tx usable (PostgreSQL aborts a transaction on a failed
// statement unless it is inside a savepoint).
func bestEffort(ctx context.Context, tx *sql.Tx, fn func() error) error {
	ctx = context.WithoutCancel(ctx)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT best_effort"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT best_effort"); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		_, _ = tx.ExecContext(ctx, "RELEASE SAVEPOINT best_effort")
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT best_effort")
	return err
}

// publish sends the next stage's message in the current transaction.
func publish(pub message.Publisher, topic string, parent *message.Message, pl payload) error {
	b, err := json.Marshal(pl)
	if err != nil {
		return err
	}
	m := message.NewMessage(watermill.NewULID(), b)
	if parent != nil {
		middleware.SetCorrelationID(middleware.MessageCorrelationID(parent), m)
	}
	if err := pub.Publish(topic, m); err != nil {
		return fmt.Errorf("publishing to %s: %w", topic, err)
	}
	return nil
}

// write runs fn in a write transaction of the shared writer, with a
// publisher in the same transaction.
func (p *Pipeline) write(ctx context.Context, fn func(tx *store.Tx, pub message.Publisher) error) error {
	return p.d.Queue.InTx(ctx, func(sqlTx *sql.Tx) error {
		pub, err := p.d.Queue.NewPublisherInTx(sqlTx)
		if err != nil {
			return err
		}
		return batchedEvents(ctx, p.d.Store.WrapTx(sqlTx), func(tx *store.Tx) error { return fn(tx, pub) })
	})
}

// writeTx is write without a publisher.
func (p *Pipeline) writeTx(ctx context.Context, fn func(tx *store.Tx) error) error {
	return p.d.Queue.InTx(ctx, func(sqlTx *sql.Tx) error {
		return batchedEvents(ctx, p.d.Store.WrapTx(sqlTx), fn)
	})
}

// batchedEvents runs fn with tx holding its timeline events back
// (store.Tx.DeferEvents) and writes them after fn, in a few multi-row
// inserts: a batch of intake or of deliveries adds one or two events per
// item.
func batchedEvents(ctx context.Context, tx *store.Tx, fn func(tx *store.Tx) error) error {
	tx.DeferEvents()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.FlushEvents(ctx)
}
