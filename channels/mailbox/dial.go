package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/text/encoding/htmlindex"
)

// ErrInsecure: the connection would send credentials without TLS.
var ErrInsecure = errors.New("refusing to log in without TLS")

// wordDecoder decodes RFC 2047 words in envelope fields in every charset
// x/text knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(strings.ToLower(charset))
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(input), nil
}}

// dial connects, secures, logs in and selects the mailbox. No byte of the
// credentials leaves before TLS is up, unless InsecurePlaintext allows it.
func (s *Source) dial(ctx context.Context) (*session, error) {
	cfg := s.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	// Unblock the greeting, STARTTLS and login when ctx ends.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	sess := newSession(s)
	opts := &imapclient.Options{
		WordDecoder: wordDecoder,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					signal(sess.wake)
				}
			},
		},
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
	opts.TLSConfig = tlsCfg

	var client *imapclient.Client
	secure := false
	switch cfg.TLS {
	case TLSImplicit:
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		client, secure = imapclient.New(tc, opts), true
	case TLSStartTLS:
		// NewStartTLS sends STARTTLS whatever the server advertised and
		// fails when it is refused (a stripped STARTTLS), when the
		// handshake fails, or on PREAUTH before TLS.
		c, err := imapclient.NewStartTLS(raw, opts)
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", addr, ctxErr(ctx, err))
		}
		client, secure = c, true
	default:
		if !cfg.InsecurePlaintext {
			raw.Close()
			return nil, fmt.Errorf("connecting to %s: %w", addr, ErrInsecure)
		}
		client = imapclient.New(raw, opts)
	}
	sess.client = client
	fail := func(format string, err error) (*session, error) {
		client.Close()
		return nil, fmt.Errorf(format, ctxErr(ctx, err))
	}
	if err := client.WaitGreeting(); err != nil {
		return fail("waiting for the greeting: %w", err)
	}
	if !secure && !cfg.InsecurePlaintext {
		return fail("logging in: %w", ErrInsecure)
	}
	if client.State() == imap.ConnStateNotAuthenticated {
		if client.Caps().Has(imap.CapLoginDisabled) {
			return fail("logging in: %w", errors.New("the server has LOGINDISABLED"))
		}
		if err := client.Login(cfg.User, cfg.Password).Wait(); err != nil {
			return fail("logging in as the configured user: %w", err)
		}
	}
	for _, m := range []string{cfg.DoneMailbox, cfg.ErrorMailbox} {
		if m == "" || (m == cfg.DoneMailbox && cfg.AfterIngest != AfterIngestMove) {
			continue
		}
		if _, err := client.Status(m, &imap.StatusOptions{NumMessages: true}).Wait(); err != nil {
			if err := client.Create(m, nil).Wait(); err != nil {
				return fail("creating mailbox: %w", err)
			}
		}
	}
	sel, err := client.Select(cfg.Mailbox, nil).Wait()
	if err != nil {
		return fail("selecting the mailbox: %w", err)
	}
	caps := client.Caps()
	sess.uidValidity = sel.UIDValidity
	sess.uidNext = sel.UIDNext
	sess.canMove = caps.Has(imap.CapMove) || caps.Has(imap.CapIMAP4rev2)
	sess.canUIDExpunge = caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2)
	sess.canIdle = caps.Has(imap.CapIdle) || caps.Has(imap.CapIMAP4rev2)
	if err := sess.loadCheckpoint(ctx); err != nil {
		s.log.Warn("loading the checkpoint failed; searching the whole mailbox", "err", err)
	}
	return sess, nil
}

// ctxErr prefers the context's error: a connection closed by the
// AfterFunc shows up as a use of a closed connection.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
