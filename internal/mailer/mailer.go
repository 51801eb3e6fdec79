package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TLS modes of a Config.
const (
	TLSStartTLS = "starttls" // plaintext greeting, then STARTTLS (port 587)
	TLSImplicit = "implicit" // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: needs InsecurePlaintext
)

// Config configures a Mailer.
type Config struct {
	// Host is the SMTP server (submission). Required.
	Host string
	// Port defaults to 465 with TLS implicit, else 587.
	Port int
	// TLS is TLSStartTLS (default), TLSImplicit or TLSNone.
	TLS string
	// InsecurePlaintext allows TLSNone.
	InsecurePlaintext bool
	// TLSConfig verifies the server (RootCAs; ServerName defaults to
	// Host). InsecureSkipVerify is refused.
	TLSConfig *tls.Config
	// User and Password authenticate with PLAIN (Password resolved by
	// the caller from its reference). No User: no authentication.
	User     string
	Password string
	// From is the default sender, "Name <addr>" or "addr". Required.
	From string
	// Timeout bounds one Send; default 60 s.
	Timeout time.Duration
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Logger receives the mailer's log; default discards.
	Logger *slog.Logger
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("mailer: host is required"))
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit:
		if c.InsecurePlaintext {
			errs = append(errs, errors.New("mailer: insecure_plaintext is set together with TLS"))
		}
	case TLSNone:
		if !c.InsecurePlaintext {
			errs = append(errs, errors.New("mailer: tls none sends the password in clear; set insecure_plaintext: true to allow it"))
		}
	default:
		errs = append(errs, fmt.Errorf("mailer: tls %q is not starttls, implicit or none", c.TLS))
	}
	if c.TLSConfig != nil && c.TLSConfig.InsecureSkipVerify {
		errs = append(errs, errors.New("mailer: TLS certificate verification cannot be switched off"))
	}
	if c.User != "" && c.Password == "" {
		errs = append(errs, errors.New("mailer: user without a password"))
	}
	if _, err := parseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("mailer: from: %w", err))
	}
	return errors.Join(errs...)
}

// Mailer sends mail through one SMTP server. It is safe for concurrent
// use; each Send uses its own connection.
type Mailer struct {
	cfg  Config
	log  *slog.Logger
	from string // the envelope sender
}

// New returns a Mailer for cfg.
func New(cfg Config) (*Mailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	from, _ := parseAddress(cfg.From)
	return &Mailer{cfg: cfg, log: cfg.Logger.With("component", "mailer"), from: from.Address}, nil
}

// Send builds msg and delivers it. It returns when the server accepted
// the message or with the error.
func (m *Mailer) Send(ctx context.Context, msg *Message) error {
	raw, err := msg.Build(m.cfg.From, m.cfg.Clock())
	if err != nil {
		return fmt.Errorf("building mail: %w", err)
	}
	rcpts, _ := msg.Recipients()
	envFrom := m.from
	if msg.From != "" {
		a, _ := parseAddress(msg.From)
		envFrom = a.Address
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if err := m.deliver(ctx, envFrom, rcpts, raw); err != nil {
		m.log.Warn("sending mail failed", "message_id", msg.MessageID, "to_domains", domains(rcpts), "err", err)
		return fmt.Errorf("sending mail %s: %w", msg.MessageID, err)
	}
	m.log.Info("mail sent", "message_id", msg.MessageID, "to_domains", domains(rcpts), "bytes", len(raw))
	return nil
}

func (m *Mailer) deliver(ctx context.Context, from string, rcpts []string, raw []byte) error {
	cfg := m.cfg
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tlsCfg := &tls.Config{}
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = cfg.Host
	}
	tlsCfg.InsecureSkipVerify = false
	if tlsCfg.MinVersion < tls.VersionTLS12 {
		tlsCfg.MinVersion = tls.VersionTLS12
	}
	var c *smtp.Client
	switch cfg.TLS {
	case TLSImplicit:
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		c = smtp.NewClient(tc)
	case TLSStartTLS:
		// Fails when the server does not offer STARTTLS: nothing is sent
		// in clear beyond EHLO.
		if c, err = smtp.NewClientStartTLS(conn, tlsCfg); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if cfg.TLS != TLSNone {
		if _, ok := c.TLSConnectionState(); !ok {
			return errors.New("refusing to authenticate without TLS")
		}
	}
	if cfg.User != "" {
		if err := c.Auth(sasl.NewPlainClient("", cfg.User, cfg.Password)); err != nil {
			return fmt.Errorf("authenticating as the configured user: %w", scrub(err, cfg.Password))
		}
	}
	if err := c.SendMail(from, rcpts, bytes.NewReader(raw)); err != nil {
		return err
	}
	if err := c.Quit(); err != nil {
		m.log.Debug("QUIT failed after the mail was accepted", "err", err)
	}
	return nil
}

// scrub keeps a secret out of an error a server might have echoed.
func scrub(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "***"))
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

func domains(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, domainOf(a))
	}
	return out
}
