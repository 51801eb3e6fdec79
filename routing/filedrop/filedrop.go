package filedrop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/routing"
)

var (
	_ routing.Backend      = (*Backend)(nil)
	_ routing.BatchBackend = (*Backend)(nil)
)

// maxIDChars bounds the order id part of a file name.
const maxIDChars = 100

// Config configures a Backend.
type Config struct {
	// Name is the backend's name. Required.
	Name string
	// Dir is the folder files are written to; created if missing.
	// Required.
	Dir string
	// Clock returns the current time for receipts; default time.Now.
	Clock func() time.Time
	// Logger receives the backend's log; default discards.
	Logger *slog.Logger
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("filedrop: name is required"))
	}
	if c.Dir == "" {
		errs = append(errs, fmt.Errorf("filedrop %s: dir is required", c.Name))
	}
	return errors.Join(errs...)
}

// Backend writes deliveries as files into a folder.
type Backend struct {
	name   string
	out    *dirdrop.Outbox
	clock  func() time.Time
	log    *slog.Logger
	closed atomic.Bool
}

// New checks cfg, creates the folder if needed and returns the backend.
func New(cfg Config) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("filedrop %s: creating %s: %w", cfg.Name, cfg.Dir, err)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Backend{
		name:  cfg.Name,
		out:   &dirdrop.Outbox{Dir: cfg.Dir},
		clock: cfg.Clock,
		log:   cfg.Logger.With("backend", cfg.Name),
	}, nil
}

// Name returns the configured name.
func (b *Backend) Name() string { return b.name }

// PayloadOnly marks the backend a routing.PayloadBackend: it sends the
// payload and the delivery's ids, not the order's fields.
func (b *Backend) PayloadOnly() {}

// Deliver writes d's payload to FileName(d) unless that file exists.
func (b *Backend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	if err := b.check(ctx, d); err != nil {
		return routing.Receipt{}, err
	}
	name := FileName(d)
	created, err := b.out.Write(ctx, name, d.Payload.Body)
	return b.receipt(d, name, created, err)
}

// DeliverBatch is Deliver for several deliveries, written with one fsync
// of the folder for all of them (dirdrop.Outbox.WriteBatch). The outcome
// of ds[i] is at index i.
func (b *Backend) DeliverBatch(ctx context.Context, ds []routing.Delivery) ([]routing.Receipt, []error) {
	receipts := make([]routing.Receipt, len(ds))
	errs := make([]error, len(ds))
	files := make([]channels.OutFile, 0, len(ds))
	var idx []int // ds index of files[k]
	for i, d := range ds {
		if errs[i] = b.check(ctx, d); errs[i] != nil {
			continue
		}
		files = append(files, channels.OutFile{Name: FileName(d), Body: d.Payload.Body})
		idx = append(idx, i)
	}
	if len(files) == 0 {
		return receipts, errs
	}
	for k, r := range b.out.WriteBatch(ctx, files) {
		i := idx[k]
		receipts[i], errs[i] = b.receipt(ds[i], files[k].Name, r.Created, r.Err)
	}
	return receipts, errs
}

// check refuses a delivery before any file is touched.
func (b *Backend) check(ctx context.Context, d routing.Delivery) error {
	if b.closed.Load() {
		return fmt.Errorf("filedrop %s: delivering %s: %w", b.name, d.Key, routing.ErrClosed)
	}
	if err := d.ValidatePayload(); err != nil {
		return fmt.Errorf("filedrop %s: %w", b.name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("filedrop %s: delivering %s: %w", b.name, d.Key, err)
	}
	return nil
}

// receipt turns the outcome of writing d's file name into Deliver's.
func (b *Backend) receipt(d routing.Delivery, name string, created bool, err error) (routing.Receipt, error) {
	log := b.log.With("order_id", d.OrderID, "key", d.Key, "file", name)
	switch {
	case errors.Is(err, dirdrop.ErrConflict):
		log.Warn("file for this delivery exists with other content; kept it")
		return routing.Receipt{ExternalRef: name, At: b.clock(), Duplicate: true,
			Detail: "file " + name + " already exists (with other content); kept"}, nil
	case err != nil:
		return routing.Receipt{}, fmt.Errorf("filedrop %s: delivering %s: %w", b.name, d.Key, err)
	case !created:
		log.Info("file for this delivery already exists")
		return routing.Receipt{ExternalRef: name, At: b.clock(), Duplicate: true,
			Detail: "file " + name + " already exists"}, nil
	}
	log.Info("wrote file", "bytes", len(d.Payload.Body))
	return routing.Receipt{ExternalRef: name, At: b.clock(), Detail: "wrote " + name}, nil
}

// Close marks the backend closed. It is idempotent.
func (b *Backend) Close(context.Context) error {
	b.closed.Store(true)
	return nil
}

// FileName returns the file name of a delivery: the safe order id, ".r",
// the revision and the format's extension.
func FileName(d routing.Delivery) string {
	return safeID(d.OrderID) + ".r" + strconv.Itoa(d.Revision) + d.Payload.Format.Extension()
}

// safeID keeps ASCII letters, digits, '_' and '-' (and '.' inside),
// replaces anything else with '_', and appends a hash of the real id when
// it changed anything, so distinct ids stay distinct.
func safeID(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	changed := s != id
	if strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, ".", "_")
		changed = true
	}
	if len(s) > maxIDChars {
		s = s[:maxIDChars]
		changed = true
	}
	if changed || s == "" {
		sum := sha256.Sum256([]byte(id))
		s = fmt.Sprintf("%s-%x", s, sum[:5])
	}
	return s
}
