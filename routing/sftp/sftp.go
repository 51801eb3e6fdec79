package sftp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"sync/atomic"
	"time"

	"github.com/ordergate/ordergate/channels/sftpdrop"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/filedrop"
)

var _ routing.Backend = (*Backend)(nil)

// Config configures a Backend. Secrets in Server are resolved values.
type Config struct {
	// Name is the backend's name. Required.
	Name string
	// Server is the SFTP server and its login (host key pinned). Required.
	Server sftpdrop.Endpoint
	// Dir is the remote folder files are written to, created when
	// missing. Required.
	Dir string
	// Clock returns the current time for receipts; default time.Now.
	Clock func() time.Time
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("sftp backend: name is required"))
	}
	if c.Dir == "" {
		errs = append(errs, fmt.Errorf("sftp backend %s: dir is required", c.Name))
	}
	if err := c.Server.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("sftp backend %s: %w", c.Name, err))
	}
	return errors.Join(errs...)
}

// Backend uploads deliveries as files to an SFTP folder.
type Backend struct {
	name   string
	dir    string
	remote *sftpdrop.Remote
	clock  func() time.Time
	log    *slog.Logger
	closed atomic.Bool
}

// New checks cfg, reads the key and known_hosts files and returns the
// backend; it connects on the first delivery. A nil log discards.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("backend", cfg.Name)
	remote, err := sftpdrop.NewRemote(cfg.Server, log)
	if err != nil {
		return nil, fmt.Errorf("sftp backend %s: %w", cfg.Name, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Backend{name: cfg.Name, dir: path.Clean(cfg.Dir), remote: remote, clock: cfg.Clock, log: log}, nil
}

// Name returns the configured name.
func (b *Backend) Name() string { return b.name }

// PayloadOnly marks the backend a routing.PayloadBackend: it sends the
// payload and the delivery's ids, not the order's fields.
func (b *Backend) PayloadOnly() {}

// Deliver uploads d's payload as FileName(d) unless that file exists.
func (b *Backend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	if b.closed.Load() {
		return routing.Receipt{}, fmt.Errorf("sftp backend %s: delivering %s: %w", b.name, d.Key, routing.ErrClosed)
	}
	if err := d.ValidatePayload(); err != nil {
		return routing.Receipt{}, fmt.Errorf("sftp backend %s: %w", b.name, err)
	}
	if err := ctx.Err(); err != nil {
		return routing.Receipt{}, fmt.Errorf("sftp backend %s: delivering %s: %w", b.name, d.Key, err)
	}
	name := filedrop.FileName(d)
	ref := path.Join(b.dir, name)
	log := b.log.With("order_id", d.OrderID, "key", d.Key, "file", ref)
	created, err := b.remote.Put(ctx, b.dir, name, d.Payload.Body)
	switch {
	case errors.Is(err, sftpdrop.ErrConflict):
		log.Warn("file for this delivery exists with other content; kept it")
		return routing.Receipt{ExternalRef: ref, At: b.clock(), Duplicate: true,
			Detail: "file " + ref + " already exists (with other content); kept"}, nil
	case err != nil:
		return routing.Receipt{}, fmt.Errorf("sftp backend %s: delivering %s: %w", b.name, d.Key, err)
	case !created:
		log.Info("file for this delivery already exists")
		return routing.Receipt{ExternalRef: ref, At: b.clock(), Duplicate: true,
			Detail: "file " + ref + " already exists"}, nil
	}
	log.Info("uploaded file", "bytes", len(d.Payload.Body))
	return routing.Receipt{ExternalRef: ref, At: b.clock(),
		Detail: fmt.Sprintf("uploaded %s to %s", ref, b.remote.Addr())}, nil
}

// Close closes the connection; Deliver afterwards fails with
// routing.ErrClosed. It is idempotent.
func (b *Backend) Close(context.Context) error {
	b.closed.Store(true)
	return b.remote.Shutdown()
}
