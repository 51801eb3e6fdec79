package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/channels/mailbox"
	"github.com/ordergate/ordergate/channels/sftpdrop"
	"github.com/ordergate/ordergate/channels/sftpserver"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/filedrop"
	"github.com/ordergate/ordergate/routing/nats"
	"github.com/ordergate/ordergate/routing/rabbitmq"
	sftpbackend "github.com/ordergate/ordergate/routing/sftp"
	"github.com/ordergate/ordergate/routing/webhook"
)

// builtChannels are the enabled channels: the sources the pipeline polls,
// the outbounds acks go through (per channel, or per channel and partner),
// and the HTTP channels served by the API.
type builtChannels struct {
	sources          map[string]channels.Source
	outbounds        map[string]channels.Outbound
	partnerOutbounds map[string]func(partnerID string) (channels.Outbound, error)
	web              []config.Channel
	desk             []config.Channel
}

// buildChannels makes the enabled channels.
// minAge is a channel's min_age for its package: the configuration's 0
// (written in the file: the defaults fill in an absent key) means no
// wait, which the packages spell none, their zero being their default.
func minAge(configured, none time.Duration) time.Duration {
	if configured == 0 {
		return none
	}
	return configured
}

func buildChannels(cfg *config.Config, st *store.Store, log *slog.Logger) (*builtChannels, error) {
	b := &builtChannels{sources: map[string]channels.Source{}, outbounds: map[string]channels.Outbound{},
		partnerOutbounds: map[string]func(string) (channels.Outbound, error){}}
	for _, ch := range cfg.Channels {
		if !ch.Enabled {
			continue
		}
		clog := log.With("channel", ch.Name)
		switch ch.Type {
		case config.ChannelDir:
			// Paths in the config are relative to the working directory
			// (dirdrop would take done/error relative to the inbox).
			for _, d := range []*string{&ch.Path, &ch.DoneDir, &ch.ErrorDir, &ch.Outbox} {
				if *d == "" {
					continue
				}
				abs, err := filepath.Abs(*d)
				if err != nil {
					return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
				}
				*d = abs
				if err := os.MkdirAll(abs, 0o750); err != nil {
					return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
				}
			}
			src, err := dirdrop.New(dirdrop.Config{Name: ch.Name, Path: ch.Path, DoneDir: ch.DoneDir, ErrorDir: ch.ErrorDir,
				Patterns: ch.Patterns, Poll: ch.Poll, MinAge: minAge(ch.MinAge, dirdrop.NoMinAge), DoneFileSuffix: ch.DoneFile,
				MaxFileBytes: int64(ch.MaxFileBytes), Logger: clog})
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			b.sources[ch.Name] = src
			if ch.Outbox != "" {
				b.outbounds[ch.Name] = &dirdrop.Outbox{Dir: ch.Outbox}
			}
		case config.ChannelSFTPServer:
			users := make([]sftpserver.User, 0, len(ch.Users))
			for _, u := range ch.Users {
				keys := append([]string(nil), u.PublicKeys...)
				if u.AuthorizedKeysFile != "" {
					raw, err := os.ReadFile(u.AuthorizedKeysFile)
					if err != nil {
						return nil, fmt.Errorf("channel %s user %s: %w", ch.Name, u.Name, err)
					}
					keys = append(keys, string(raw))
				}
				users = append(users, sftpserver.User{Name: u.Name, Partner: u.Partner, PublicKeys: keys})
			}
			srv, err := sftpserver.New(sftpserver.Config{Name: ch.Name, Listen: ch.Listen, HostKeyFile: ch.HostKeyFile,
				RootDir: ch.RootDir, MaxFileBytes: int64(ch.MaxFileBytes), QuotaBytes: int64(ch.QuotaBytes), Users: users}, clog)
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			b.sources[ch.Name] = srv
			b.partnerOutbounds[ch.Name] = func(partnerID string) (channels.Outbound, error) { return srv.PartnerOutbound(partnerID) }
		case config.ChannelSFTP:
			ep, err := sftpEndpoint(ch)
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			src, err := sftpdrop.New(sftpdrop.Config{Name: ch.Name, Server: ep, Inbox: ch.Inbox, Archive: ch.Archive,
				DeleteAfterIngest: ch.DeleteAfterIngest, ErrorDir: ch.ErrorDir, Outbox: ch.Outbox, Patterns: ch.Patterns,
				Poll: ch.Poll, MinAge: minAge(ch.MinAge, sftpdrop.NoMinAge), DoneFileSuffix: ch.DoneFile, MaxFilesPerPoll: ch.MaxFilesPerPoll,
				MaxConcurrent: ch.MaxConcurrent, PageSize: ch.PageSize, MaxFileBytes: int64(ch.MaxFileBytes)}, clog)
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			b.sources[ch.Name] = src
			if ch.Outbox != "" {
				b.outbounds[ch.Name] = src
			}
		case config.ChannelIMAP:
			mc := mailbox.Config{Name: ch.Name, Host: ch.Host, Port: ch.Port, TLS: ch.TLS, InsecurePlaintext: ch.InsecurePlaintext,
				User: ch.User, Mailbox: ch.Mailbox, DoneMailbox: ch.DoneMailbox, ErrorMailbox: ch.ErrorMailbox,
				AfterIngest: ch.AfterIngest, MaxMessageBytes: int64(ch.MaxMessageBytes), PollOnly: !ch.Idle, Poll: ch.Poll,
				Checkpoints: st.Checkpoints(), Logger: clog}
			if ch.InsecurePlaintext && mc.TLS == "" {
				mc.TLS = "none"
			}
			s, err := ch.Password().Value()
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			mc.Password = s.Reveal()
			if ch.CAFile != "" {
				pool, err := certPool(ch.CAFile)
				if err != nil {
					return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
				}
				mc.TLSConfig = &tls.Config{RootCAs: pool, ServerName: ch.Host, MinVersion: tls.VersionTLS12}
			}
			src, err := mailbox.New(mc)
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
			}
			b.sources[ch.Name] = src
		case config.ChannelWeb:
			b.web = append(b.web, ch)
		case config.ChannelDesk:
			b.desk = append(b.desk, ch)
		default:
			return nil, fmt.Errorf("channel %s: type %s is not available in this version; disable it (enabled: false)", ch.Name, ch.Type)
		}
	}
	return b, nil
}

// sftpEndpoint is an sftp channel's server: address, user, credentials
// (resolved from their references) and the pinned host key.
func sftpEndpoint(ch config.Channel) (sftpdrop.Endpoint, error) {
	ep := sftpdrop.Endpoint{Host: ch.Host, Port: ch.Port, User: ch.User, PrivateKeyFile: ch.PrivateKeyFile,
		KnownHostsFile: ch.KnownHosts, HostKeyFingerprint: ch.HostKeyFingerprint}
	if ref := ch.Password(); !ref.IsZero() {
		s, err := ref.Value()
		if err != nil {
			return ep, err
		}
		ep.Password = s.Reveal()
	}
	if ref := ch.PrivateKeyPassphrase(); !ref.IsZero() {
		s, err := ref.Value()
		if err != nil {
			return ep, err
		}
		ep.PrivateKeyPassphrase = s.Reveal()
	}
	return ep, nil
}

// buildBackends makes the backends the routes use. A broker that cannot be
// reached at start does not stop the gateway: its backend connects on the
// first delivery and, until then, deliveries wait and are retried.
func buildBackends(ctx context.Context, cfg *config.Config, log *slog.Logger) (map[string]routing.Backend, error) {
	used := map[string]bool{}
	for _, r := range cfg.Routes {
		for _, b := range r.To {
			used[b] = true
		}
	}
	out := map[string]routing.Backend{}
	for _, b := range cfg.Backends {
		if !used[b.Name] {
			continue
		}
		blog := log.With("backend", b.Name)
		var be routing.Backend
		var err error
		switch b.Type {
		case config.BackendFiledrop:
			be, err = filedrop.New(filedrop.Config{Name: b.Name, Dir: b.Dir, Logger: blog})
		case config.BackendWebhook:
			var secret []byte
			if ref := b.Secret(); !ref.IsZero() {
				s, serr := ref.Value()
				if serr != nil {
					return nil, fmt.Errorf("backend %s: %w", b.Name, serr)
				}
				secret = []byte(s.Reveal())
			}
			be, err = webhook.New(webhook.Config{Name: b.Name, URL: b.URL, Secret: secret, Timeout: b.Timeout,
				CAFile: b.CAFile, RefHeader: b.RefHeader, RefField: b.RefField}, blog)
		case config.BackendSFTP:
			ch, ok := cfg.Channel(b.Channel)
			if !ok {
				return nil, fmt.Errorf("backend %s: no channel %q", b.Name, b.Channel)
			}
			ep, eerr := sftpEndpoint(ch)
			if eerr != nil {
				return nil, fmt.Errorf("backend %s (channel %s): %w", b.Name, ch.Name, eerr)
			}
			dir := b.Dir
			if dir == "" {
				dir = ch.Outbox
			}
			be, err = sftpbackend.New(sftpbackend.Config{Name: b.Name, Server: ep, Dir: dir}, blog)
		case config.BackendRabbitMQ:
			s, serr := b.URLRef().Value()
			if serr != nil {
				return nil, fmt.Errorf("backend %s: %w", b.Name, serr)
			}
			rc := rabbitmq.Config{Name: b.Name, URL: s.Reveal(), Queue: b.Queue, Exchange: b.Exchange, RoutingKey: b.RoutingKey}
			be = newLazyBackend(ctx, b.Name, blog, func(ctx context.Context) (routing.Backend, error) { return rabbitmq.New(ctx, rc, blog) })
		case config.BackendNATS:
			nc := nats.Config{Name: b.Name, URL: b.URL, Subject: b.Subject, Stream: b.Stream}
			be = newLazyBackend(ctx, b.Name, blog, func(ctx context.Context) (routing.Backend, error) { return nats.New(ctx, nc, blog) })
		default:
			return nil, fmt.Errorf("backend %s: type %s is not available in this version", b.Name, b.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("backend %s: %w", b.Name, err)
		}
		out[b.Name] = be
	}
	return out, nil
}

// lazyBackend connects its backend on first use and again after a failed
// connect, so a broker that is down at start or for a while only delays
// deliveries (they are retried with backoff like any transient failure).
type lazyBackend struct {
	name string
	log  *slog.Logger
	dial func(ctx context.Context) (routing.Backend, error)
	mu   sync.Mutex
	b    routing.Backend
}

func newLazyBackend(ctx context.Context, name string, log *slog.Logger, dial func(ctx context.Context) (routing.Backend, error)) *lazyBackend {
	l := &lazyBackend{name: name, log: log, dial: dial}
	if _, err := l.get(ctx); err != nil {
		log.Warn("backend not reachable at start; deliveries to it wait and are retried", "err", err)
	}
	return l
}

func (l *lazyBackend) get(ctx context.Context) (routing.Backend, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b != nil {
		return l.b, nil
	}
	b, err := l.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting backend %s: %w", l.name, err)
	}
	l.b = b
	return b, nil
}

func (l *lazyBackend) Name() string { return l.name }

func (l *lazyBackend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	b, err := l.get(ctx)
	if err != nil {
		return routing.Receipt{}, err
	}
	return b.Deliver(ctx, d)
}

func (l *lazyBackend) Close(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b == nil {
		return nil
	}
	return l.b.Close(ctx)
}

// certPool reads PEM certificates of a private CA.
func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
