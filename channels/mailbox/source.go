package mailbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"

	"github.com/ordergate/ordergate/channels"
)

// Source is an IMAP mailbox as a channels.Source.
type Source struct {
	cfg   Config
	log   *slog.Logger
	spool channels.Spool
	// reading admits one Read at a time to the connection.
	reading chan struct{}

	mu   sync.Mutex
	conn *conn // nil when not connected
}

var _ channels.Source = (*Source)(nil)

// conn is one Connect..Close span; its session is replaced when the
// connection is lost.
type conn struct {
	closed    chan struct{}
	closeOnce sync.Once

	mu   sync.Mutex
	sess *session // nil while reconnecting
}

func (c *conn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// New returns an unconnected Source.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Source{
		cfg:     cfg,
		log:     cfg.Logger.With("channel", cfg.Name, "mailbox", cfg.Mailbox),
		spool:   channels.Spool{Dir: cfg.SpoolDir, MaxBytes: cfg.MaxMessageBytes},
		reading: make(chan struct{}, 1),
	}, nil
}

// Connect connects and logs in. Calling it on a connected source does
// nothing.
func (s *Source) Connect(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return nil
	}
	sess, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("imap %s: %w", s.cfg.Name, err)
	}
	s.conn = &conn{closed: make(chan struct{}), sess: sess}
	s.log.Info("connected", "server", s.cfg.Host, "uidvalidity", sess.uidValidity, "idle", sess.canIdle && !s.cfg.PollOnly)
	return nil
}

// Close disconnects, unblocking Read. It is idempotent.
func (s *Source) Close(ctx context.Context) error {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	c.closeOnce.Do(func() { close(c.closed) })
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	c.mu.Unlock()
	if sess != nil {
		sess.shutdown()
	}
	return nil
}

func (s *Source) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// Read returns the next mail.
func (s *Source) Read(ctx context.Context) (channels.Document, channels.AckFunc, error) {
	if err := ctx.Err(); err != nil {
		return channels.Document{}, nil, err
	}
	c := s.current()
	if c == nil {
		return channels.Document{}, nil, fmt.Errorf("imap %s: %w", s.cfg.Name, channels.ErrNotConnected)
	}
	select {
	case s.reading <- struct{}{}:
		defer func() { <-s.reading }()
	case <-ctx.Done():
		return channels.Document{}, nil, ctx.Err()
	case <-c.closed:
		return channels.Document{}, nil, fmt.Errorf("imap %s: %w", s.cfg.Name, channels.ErrNotConnected)
	}
	for {
		if err := ctx.Err(); err != nil {
			return channels.Document{}, nil, err
		}
		if c.isClosed() {
			return channels.Document{}, nil, fmt.Errorf("imap %s: %w", s.cfg.Name, channels.ErrNotConnected)
		}
		sess, err := s.session(ctx, c)
		if err != nil {
			return channels.Document{}, nil, err
		}
		doc, ack, err := s.next(ctx, c, sess)
		if err == nil && ack != nil {
			return doc, ack, nil
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return channels.Document{}, nil, cerr
			}
			if c.isClosed() {
				return channels.Document{}, nil, fmt.Errorf("imap %s: %w", s.cfg.Name, channels.ErrNotConnected)
			}
			s.drop(c, sess, err)
		}
	}
}

// next hands out the next queued mail, or searches, or waits. It returns
// a nil ack and nil error when the caller should loop.
func (s *Source) next(ctx context.Context, c *conn, sess *session) (channels.Document, channels.AckFunc, error) {
	uid, ok := sess.take()
	if !ok {
		if sess.needsSearch() {
			return channels.Document{}, nil, sess.search(ctx, c)
		}
		return channels.Document{}, nil, sess.wait(ctx, c)
	}
	doc, err := sess.fetch(ctx, c, uid)
	if errors.Is(err, errGone) {
		sess.forget(ctx, uid)
		return channels.Document{}, nil, nil
	}
	if err != nil {
		sess.release(uid)
		return channels.Document{}, nil, err
	}
	return doc, sess.ackFunc(c, uid, doc), nil
}

// session returns the live session of c, reconnecting with capped
// exponential backoff while it is gone.
func (s *Source) session(ctx context.Context, c *conn) (*session, error) {
	backoff := s.cfg.ReconnectMin
	for {
		c.mu.Lock()
		sess := c.sess
		c.mu.Unlock()
		if sess != nil && !sess.dead() {
			return sess, nil
		}
		if sess != nil {
			s.drop(c, sess, errors.New("connection closed by the server"))
		}
		newSess, err := s.dial(ctx)
		if err == nil {
			c.mu.Lock()
			if c.isClosed() {
				c.mu.Unlock()
				newSess.shutdown()
				return nil, fmt.Errorf("imap %s: %w", s.cfg.Name, channels.ErrNotConnected)
			}
			c.sess = newSess
			c.mu.Unlock()
			s.log.Info("reconnected", "server", s.cfg.Host, "uidvalidity", newSess.uidValidity)
			return newSess, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		// Jitter: 75%..125% of the step.
		wait := time.Duration(float64(backoff) * (0.75 + rand.Float64()/2))
		s.log.Warn("reconnecting failed", "server", s.cfg.Host, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-c.closed:
			t.Stop()
			return nil, fmt.Errorf("imap %s: %w", s.cfg.Name, channels.ErrNotConnected)
		case <-t.C:
		}
		backoff = min(backoff*2, s.cfg.ReconnectMax)
	}
}

// drop ends sess after an error; the next Read reconnects.
func (s *Source) drop(c *conn, sess *session, err error) {
	c.mu.Lock()
	if c.sess == sess {
		c.sess = nil
	}
	c.mu.Unlock()
	if !c.isClosed() {
		s.log.Warn("connection lost", "server", s.cfg.Host, "err", err)
	}
	sess.shutdown()
}

// sourceKey is the stable key of a mail by its content.
func (s *Source) sourceKey(sum [32]byte) string {
	return "imap:" + s.cfg.Host + "/" + s.cfg.Mailbox + ":" + hex.EncodeToString(sum[:])
}

// oversizeKey keys a mail whose bytes were not taken.
func (s *Source) oversizeKey(messageID string, size int64, date time.Time) string {
	sum := sha256.Sum256([]byte(messageID + "\x00" + strconv.FormatInt(size, 10) + "\x00" + date.UTC().Format(time.RFC3339)))
	return "imap:" + s.cfg.Host + "/" + s.cfg.Mailbox + ":oversize:" + hex.EncodeToString(sum[:])
}

// meta builds a document's Meta from the envelope.
func meta(env *imap.Envelope, uid imap.UID, uidValidity uint32, date time.Time, size int64) map[string]string {
	m := map[string]string{
		"uid":         strconv.FormatUint(uint64(uid), 10),
		"uidvalidity": strconv.FormatUint(uint64(uidValidity), 10),
		"size":        strconv.FormatInt(size, 10),
	}
	if !date.IsZero() {
		m["internal_date"] = date.UTC().Format(time.RFC3339)
	}
	if env != nil {
		if len(env.From) > 0 {
			m["from"] = sanitizeText(env.From[0].Addr(), 320)
		}
		if env.Subject != "" {
			m["subject"] = sanitizeText(env.Subject, 200)
		}
		if env.MessageID != "" {
			// go-imap strips the angle brackets; keep the header's form.
			m["message_id"] = "<" + sanitizeText(strings.Trim(env.MessageID, "<>"), 996) + ">"
		}
	}
	return m
}

// sanitizeText makes a header value safe to store and show: valid UTF-8,
// control characters as spaces, runs of space collapsed, at most n runes.
func sanitizeText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n])
	}
	return s
}

// domainOf returns the domain of an address for logs.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

// mailName is a document name for a mail: its subject as a file name.
func mailName(subject string) string {
	if subject == "" {
		return "mail.eml"
	}
	return channels.SanitizeName(sanitizeText(subject, 80)) + ".eml"
}
