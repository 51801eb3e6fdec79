package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ordergate/ordergate/channels"
)

// TLS modes of a Config.
const (
	TLSImplicit = "implicit" // TLS from the first byte (port 993)
	TLSStartTLS = "starttls" // plaintext greeting, then STARTTLS (port 143)
	TLSNone     = "none"     // no TLS at all: needs InsecurePlaintext
)

// After-ingest modes of a Config.
const (
	AfterIngestMove = "move" // move committed mails to DoneMailbox
	AfterIngestFlag = "flag" // flag committed mails and leave them
)

// Keywords the channel sets.
const (
	KeywordDone     = "$OrdergateDone"
	KeywordRejected = "$OrdergateRejected"
)

// Defaults of a Config.
const (
	DefaultMailbox         = "INBOX"
	DefaultMaxMessageBytes = 25 << 20
	DefaultPoll            = time.Minute
	DefaultReconnectMin    = time.Second
	DefaultReconnectMax    = time.Minute
	DefaultDialTimeout     = 30 * time.Second
)

// Checkpoints stores small values across restarts (the lead's store
// settings table). Load returns "" and no error for a key never saved.
type Checkpoints interface {
	Load(ctx context.Context, key string) (string, error)
	Save(ctx context.Context, key, value string) error
}

// Config configures a Source.
type Config struct {
	// Name is the channel name (Document.Channel, log attribute). Required.
	Name string
	// Host is the IMAP server. Required.
	Host string
	// Port defaults to 993 with TLS implicit, else 143.
	Port int
	// TLS is TLSImplicit (default), TLSStartTLS or TLSNone.
	TLS string
	// InsecurePlaintext allows TLSNone. Without it the channel never
	// connects without TLS.
	InsecurePlaintext bool
	// TLSConfig verifies the server (RootCAs; ServerName defaults to
	// Host). Nil: the system roots. InsecureSkipVerify is refused.
	TLSConfig *tls.Config
	// User and Password log in (Password resolved from its reference by
	// the caller). Required.
	User     string
	Password string
	// Mailbox is the folder read; default DefaultMailbox.
	Mailbox string
	// DoneMailbox receives committed mails with AfterIngest "move"; it is
	// created when missing.
	DoneMailbox string
	// ErrorMailbox, when set, receives rejected mails (after flagging);
	// created when missing.
	ErrorMailbox string
	// AfterIngest is AfterIngestMove or AfterIngestFlag; default move when
	// DoneMailbox is set, else flag.
	AfterIngest string
	// MaxMessageBytes is the largest mail taken; default
	// DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// PollOnly switches IDLE off; the mailbox is then searched every Poll.
	PollOnly bool
	// Poll is how often the mailbox is searched while nothing is ready
	// (also during IDLE); default DefaultPoll.
	Poll time.Duration
	// ReconnectMin and ReconnectMax bound the backoff between reconnects;
	// defaults DefaultReconnectMin and DefaultReconnectMax.
	ReconnectMin, ReconnectMax time.Duration
	// DialTimeout bounds connecting, TLS and login; default
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// Checkpoints remembers UIDVALIDITY and the acked UID; nil: none.
	Checkpoints Checkpoints
	// SpoolDir is where mails larger than 1 MiB are spooled; default
	// os.TempDir().
	SpoolDir string
	// Logger receives the channel's log; default discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.TLS == "" {
		c.TLS = TLSImplicit
	}
	if c.Port == 0 {
		if c.TLS == TLSImplicit {
			c.Port = 993
		} else {
			c.Port = 143
		}
	}
	if c.Mailbox == "" {
		c.Mailbox = DefaultMailbox
	}
	if c.AfterIngest == "" {
		if c.DoneMailbox != "" {
			c.AfterIngest = AfterIngestMove
		} else {
			c.AfterIngest = AfterIngestFlag
		}
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.Poll == 0 {
		c.Poll = DefaultPoll
	}
	if c.ReconnectMin == 0 {
		c.ReconnectMin = DefaultReconnectMin
	}
	if c.ReconnectMax == 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	c.ReconnectMax = max(c.ReconnectMax, c.ReconnectMin)
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("imap %s: "+format, append([]any{c.Name}, args...)...))
	}
	if c.Name == "" {
		bad("name is required")
	}
	if c.Host == "" {
		bad("host is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port %d out of range", c.Port)
	}
	switch c.TLS {
	case "", TLSImplicit, TLSStartTLS:
		if c.InsecurePlaintext {
			bad("insecure_plaintext is set together with tls %q; leave tls out for plaintext", c.withDefaults().TLS)
		}
	case TLSNone:
		if !c.InsecurePlaintext {
			bad("tls none sends the password in clear; set insecure_plaintext: true to allow it")
		}
	default:
		bad("tls %q is not implicit, starttls or none", c.TLS)
	}
	if c.TLSConfig != nil && c.TLSConfig.InsecureSkipVerify {
		bad("TLS certificate verification cannot be switched off")
	}
	if c.User == "" {
		bad("user is required")
	}
	if c.Password == "" {
		bad("password is required")
	}
	switch c.AfterIngest {
	case "", AfterIngestFlag:
	case AfterIngestMove:
		if c.DoneMailbox == "" {
			bad("after_ingest move needs done_mailbox")
		}
	default:
		bad("after_ingest %q is not move or flag", c.AfterIngest)
	}
	mbox := c.withDefaults().Mailbox
	for key, m := range map[string]string{"done_mailbox": c.DoneMailbox, "error_mailbox": c.ErrorMailbox} {
		if m != "" && strings.EqualFold(m, mbox) {
			bad("%s is the mailbox read itself", key)
		}
	}
	if c.MaxMessageBytes < 0 {
		bad("max_message_bytes %d is negative", c.MaxMessageBytes)
	}
	if c.MaxMessageBytes > channels.DefaultMaxBytes {
		bad("max_message_bytes %d exceeds %d", c.MaxMessageBytes, channels.DefaultMaxBytes)
	}
	if c.Poll < 0 || c.ReconnectMin < 0 || c.ReconnectMax < 0 || c.DialTimeout < 0 {
		bad("durations must not be negative")
	}
	return errors.Join(errs...)
}
