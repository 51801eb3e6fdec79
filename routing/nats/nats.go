package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ordergate/ordergate/routing"
)

var _ routing.Backend = (*Backend)(nil)

// Defaults of Config.
const (
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultAckTimeout      = 10 * time.Second
	DefaultConnectTimeout  = 5 * time.Second
)

// Header names the backend sets on every message, besides Nats-Msg-Id.
const (
	HeaderContentType = "Content-Type"
	HeaderKey         = "Ordergate-Key"
	HeaderOrderID     = "Ordergate-Order-Id"
	HeaderRevision    = "Ordergate-Revision"
	HeaderFormat      = "Ordergate-Format"
)

// Config configures a Backend.
type Config struct {
	// Name is the backend's name. Required.
	Name string
	// URL is the server's nats:// URL (or a comma-separated list).
	// Required.
	URL string
	// Subject is the subject messages are published on. Required; no
	// wildcards.
	Subject string
	// Stream is the JetStream stream that must take the messages; created
	// when missing. Empty: any stream capturing Subject.
	Stream string
	// DuplicateWindow is the duplicate window of a stream New creates;
	// default 2 minutes.
	DuplicateWindow time.Duration
	// AckTimeout bounds the wait for the PubAck; default 10 s.
	AckTimeout time.Duration
	// ConnectTimeout bounds connecting; default 5 s.
	ConnectTimeout time.Duration
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("nats: name is required"))
	}
	if c.URL == "" {
		errs = append(errs, fmt.Errorf("nats %s: url is required", c.Name))
	}
	for _, u := range strings.Split(c.URL, ",") {
		if c.URL == "" {
			break
		}
		pu, err := url.Parse(strings.TrimSpace(u))
		if err != nil {
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err // without the URL, which may carry a token
			}
			errs = append(errs, fmt.Errorf("nats %s: url is not a URL: %w", c.Name, err))
			continue
		}
		if !slices.Contains([]string{"nats", "tls", "ws", "wss"}, pu.Scheme) {
			errs = append(errs, fmt.Errorf("nats %s: url scheme %q is not nats, tls, ws or wss", c.Name, pu.Scheme))
		}
	}
	switch {
	case c.Subject == "":
		errs = append(errs, fmt.Errorf("nats %s: subject is required", c.Name))
	case strings.ContainsAny(c.Subject, "*> \t\r\n") || strings.HasPrefix(c.Subject, ".") ||
		strings.HasSuffix(c.Subject, ".") || strings.Contains(c.Subject, ".."):
		errs = append(errs, fmt.Errorf("nats %s: subject %q is not a valid subject to publish on", c.Name, c.Subject))
	}
	if strings.ContainsAny(c.Stream, ".*> \t\r\n/\\") {
		errs = append(errs, fmt.Errorf("nats %s: stream %q is not a valid stream name", c.Name, c.Stream))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"duplicate window", c.DuplicateWindow}, {"ack timeout", c.AckTimeout}, {"connect timeout", c.ConnectTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("nats %s: %s %v is negative", c.Name, d.name, d.v))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Backend publishes deliveries to a JetStream stream.
type Backend struct {
	cfg Config
	log *slog.Logger
	nc  *nats.Conn
	js  jetstream.JetStream

	closed atomic.Bool

	// lost is closed when the connection drops and replaced when it is
	// back, so publishes waiting for an ack fail at once instead of at
	// AckTimeout.
	lostMu sync.Mutex
	lost   chan struct{}
}

// errDisconnected: the connection dropped while a publish waited.
var errDisconnected = errors.New("disconnected from the server before the ack")

func (b *Backend) disconnected() {
	b.lostMu.Lock()
	defer b.lostMu.Unlock()
	select {
	case <-b.lost:
	default:
		close(b.lost)
	}
}

func (b *Backend) reconnected() {
	b.lostMu.Lock()
	defer b.lostMu.Unlock()
	select {
	case <-b.lost:
		b.lost = make(chan struct{})
	default:
	}
}

func (b *Backend) lostSignal() <-chan struct{} {
	b.lostMu.Lock()
	defer b.lostMu.Unlock()
	return b.lost
}

// New checks cfg, connects, and creates or checks the stream. log may be
// nil.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("backend", cfg.Name)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nats %s: %w", cfg.Name, err)
	}
	b := &Backend{cfg: cfg, log: log, lost: make(chan struct{})}
	timeout := cfg.ConnectTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	nc, err := nats.Connect(cfg.URL,
		nats.Name("ordergate "+cfg.Name),
		nats.Timeout(timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		// Publishes while disconnected fail at once instead of waiting
		// in a buffer for a reconnect that may not come.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.disconnected()
			log.Warn("disconnected from the NATS server", "err", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			b.reconnected()
			log.Info("reconnected to the NATS server")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			log.Warn("NATS error", "err", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("nats %s: connecting: %w", cfg.Name, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats %s: %w", cfg.Name, err)
	}
	b.nc, b.js = nc, js
	if cfg.Stream != "" {
		if err := b.ensureStream(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("nats %s: %w", cfg.Name, err)
		}
	}
	return b, nil
}

// ensureStream creates the stream or checks that it captures the subject.
func (b *Backend) ensureStream(ctx context.Context) error {
	s, err := b.js.Stream(ctx, b.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = b.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:       b.cfg.Stream,
			Subjects:   []string{b.cfg.Subject},
			Storage:    jetstream.FileStorage,
			Retention:  jetstream.LimitsPolicy,
			Duplicates: b.cfg.DuplicateWindow,
		})
		if err == nil {
			b.log.Info("created stream", "stream", b.cfg.Stream, "subject", b.cfg.Subject)
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("creating stream %s: %w", b.cfg.Stream, err)
		}
		s, err = b.js.Stream(ctx, b.cfg.Stream) // created concurrently
	}
	if err != nil {
		return fmt.Errorf("looking up stream %s: %w", b.cfg.Stream, err)
	}
	info := s.CachedInfo()
	if !slices.ContainsFunc(info.Config.Subjects, func(p string) bool { return SubjectMatches(p, b.cfg.Subject) }) {
		return fmt.Errorf("stream %s (subjects %q) does not capture subject %s", b.cfg.Stream, info.Config.Subjects, b.cfg.Subject)
	}
	if info.Config.Duplicates <= 0 {
		b.log.Warn("stream has no duplicate window: redeliveries are not deduplicated", "stream", b.cfg.Stream)
	}
	return nil
}

// SubjectMatches reports whether subject matches the pattern, which may
// hold the wildcards * (one token) and > (the rest, at least one token).
func SubjectMatches(pattern, subject string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, p := range pt {
		switch {
		case p == ">":
			return i == len(pt)-1 && len(st) > i
		case i >= len(st):
			return false
		case p != "*" && p != st[i]:
			return false
		}
	}
	return len(pt) == len(st)
}

// Name returns the configured name.
func (b *Backend) Name() string { return b.cfg.Name }

// PayloadOnly marks the backend a routing.PayloadBackend: it sends the
// payload and the delivery's ids, not the order's fields.
func (b *Backend) PayloadOnly() {}

// Deliver publishes d with Nats-Msg-Id = d.Key and waits for the PubAck.
func (b *Backend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	if err := d.ValidatePayload(); err != nil {
		return routing.Receipt{}, fmt.Errorf("nats %s: %w", b.cfg.Name, err)
	}
	ack, err := b.publish(ctx, d)
	if err != nil {
		return routing.Receipt{}, fmt.Errorf("nats %s: delivering %s: %w", b.cfg.Name, d.Key, err)
	}
	ref := ack.Stream + ":" + strconv.FormatUint(ack.Sequence, 10)
	r := routing.Receipt{ExternalRef: ref, At: b.cfg.Clock(), Duplicate: ack.Duplicate}
	if ack.Duplicate {
		r.Detail = "stream " + ack.Stream + " already had this delivery as message " + strconv.FormatUint(ack.Sequence, 10)
	} else {
		r.Detail = "stored in stream " + ack.Stream + " as message " + strconv.FormatUint(ack.Sequence, 10)
	}
	b.log.Debug("delivered", "order_id", d.OrderID, "key", d.Key, "ref", ref, "duplicate", ack.Duplicate)
	return r, nil
}

func (b *Backend) publish(ctx context.Context, d routing.Delivery) (*jetstream.PubAck, error) {
	if b.closed.Load() {
		return nil, routing.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	msg := nats.NewMsg(b.cfg.Subject)
	msg.Data = d.Payload.Body
	msg.Header.Set(HeaderContentType, d.Payload.ContentType)
	msg.Header.Set(HeaderKey, d.Key)
	msg.Header.Set(HeaderOrderID, d.OrderID)
	msg.Header.Set(HeaderRevision, strconv.Itoa(d.Revision))
	msg.Header.Set(HeaderFormat, string(d.Payload.Format))
	opts := []jetstream.PublishOpt{jetstream.WithMsgID(d.Key)}
	if b.cfg.Stream != "" {
		opts = append(opts, jetstream.WithExpectStream(b.cfg.Stream))
	}
	lost := b.lostSignal()
	tctx, cancelTimeout := context.WithTimeout(ctx, b.cfg.AckTimeout)
	defer cancelTimeout()
	actx, cancel := context.WithCancelCause(tctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lost:
			cancel(errDisconnected)
		case <-actx.Done():
		}
	}()
	ack, err := b.js.PublishMsg(actx, msg, opts...)
	switch {
	case err != nil && errors.Is(context.Cause(actx), errDisconnected):
		return nil, fmt.Errorf("publishing to %s: %w", b.cfg.Subject, errDisconnected)
	case err != nil && b.closed.Load():
		return nil, fmt.Errorf("publishing: %w", routing.ErrClosed)
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("waiting for the stream's ack: %w", ctx.Err())
	case errors.Is(err, nats.ErrNoResponders):
		return nil, fmt.Errorf("no stream takes subject %s (or JetStream is not ready): %w", b.cfg.Subject, err)
	case err != nil:
		return nil, fmt.Errorf("publishing to %s: %w", b.cfg.Subject, err)
	case b.cfg.Stream != "" && ack.Stream != b.cfg.Stream:
		return nil, fmt.Errorf("acked by stream %s, want %s", ack.Stream, b.cfg.Stream)
	}
	return ack, nil
}

// Close closes the connection; Delivers still waiting for an ack fail
// with routing.ErrClosed (the message may still be stored: a retry is
// deduplicated). It is idempotent.
func (b *Backend) Close(context.Context) error {
	if b.closed.Swap(true) {
		return nil
	}
	b.nc.Close()
	return nil
}
