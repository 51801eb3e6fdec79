package routing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/normalize/order"
)

// Sentinel errors of the contract.
var (
	// ErrPermanent marks a failure that retrying cannot fix.
	ErrPermanent = errors.New("permanent delivery failure")
	// ErrClosed: the backend was closed.
	ErrClosed = errors.New("backend closed")
)

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds. It
// returns nil for nil and err itself when it is already permanent.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// Backend is a destination orders are delivered to.
type Backend interface {
	// Name is the backend's configured name, unique in a Registry.
	Name() string
	// Deliver hands d to the destination and returns once the
	// destination has it durably. A redelivery of the same d.Key must
	// not create a second artifact where the destination allows the
	// backend to guarantee that; otherwise it carries the same Key.
	// Errors wrapping ErrPermanent are not retried; others are.
	Deliver(ctx context.Context, d Delivery) (Receipt, error)
	// Close releases the backend's resources. It is idempotent; Deliver
	// afterwards fails with ErrClosed.
	Close(ctx context.Context) error
}

// PayloadBackend is a Backend that sends a delivery's payload and ids
// only, never the order's fields: the pipeline hands it deliveries
// without the decoded order (Delivery.Order nil), which spares decoding
// the stored order once per delivery. Its Deliver checks deliveries with
// ValidatePayload.
type PayloadBackend interface {
	Backend
	PayloadOnly()
}

// BatchBackend is a Backend that can take several deliveries at once
// more cheaply than one by one (files written with one folder fsync).
// DeliverBatch returns one Receipt and one error per delivery, in order,
// each what Deliver would have returned for it: one delivery failing does
// not fail the others, and a delivery whose error is nil is as durable as
// after Deliver when DeliverBatch returns.
type BatchBackend interface {
	Backend
	DeliverBatch(ctx context.Context, ds []Delivery) ([]Receipt, []error)
}

// Format is the shape a payload is rendered in, as routes name it.
type Format string

// The formats routes may ask for.
const (
	FormatJSON          Format = "json"           // the canonical order JSON
	FormatCSV           Format = "csv"            // one row per line
	FormatX12850        Format = "x12-850"        // X12 850 purchase order
	FormatEDIFACTOrders Format = "edifact-orders" // EDIFACT ORDERS message
)

// Extension returns the file name extension for the format, with its dot;
// ".dat" for a format it does not know.
func (f Format) Extension() string {
	switch f {
	case FormatJSON:
		return ".json"
	case FormatCSV:
		return ".csv"
	case FormatX12850:
		return ".x12"
	case FormatEDIFACTOrders:
		return ".edi"
	}
	return ".dat"
}

// ContentType is the MIME type of the format.
func (f Format) ContentType() string {
	switch f {
	case FormatJSON:
		return "application/json"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatX12850:
		return "application/edi-x12"
	case FormatEDIFACTOrders:
		return "application/edifact"
	}
	return "application/octet-stream"
}

// Payload is an order rendered for a destination.
type Payload struct {
	Format      Format
	ContentType string // MIME type, e.g. "application/json"
	Body        []byte
}

// Delivery is one order to hand to one backend.
type Delivery struct {
	// Key is the idempotency key, DeliveryKey(OrderID, Revision): the same
	// on every attempt.
	Key string
	// OrderID is the order's id as the store assigned it.
	OrderID string
	// Revision counts the order's versions, from 1; a changed order is a
	// new revision and so a new delivery.
	Revision int
	// Order is the order itself, for backends that need its fields; nil
	// in a delivery to a PayloadBackend.
	Order *order.Order
	// Payload is the order rendered in the route's format.
	Payload Payload
	// Attempt is 1 for the first attempt; informational.
	Attempt int
}

// DeliveryKey returns the idempotency key of an order revision:
// "<orderID>.r<revision>".
func DeliveryKey(orderID string, revision int) string {
	return fmt.Sprintf("%s.r%d", orderID, revision)
}

// NewDelivery returns the first attempt of delivering revision of o (whose
// ID the store has assigned) rendered as p.
func NewDelivery(o *order.Order, revision int, p Payload) (Delivery, error) {
	if o == nil {
		return Delivery{}, Permanent(errors.New("new delivery: nil order"))
	}
	d := Delivery{
		Key:      DeliveryKey(o.ID, revision),
		OrderID:  o.ID,
		Revision: revision,
		Order:    o,
		Payload:  p,
		Attempt:  1,
	}
	if err := d.Validate(); err != nil {
		return Delivery{}, err
	}
	return d, nil
}

// Validate reports every problem of d at once, wrapped in ErrPermanent.
func (d Delivery) Validate() error { return d.validate(true) }

// ValidatePayload is Validate for a PayloadBackend: d need not carry the
// order (when it does, its id is checked).
func (d Delivery) ValidatePayload() error { return d.validate(false) }

func (d Delivery) validate(needOrder bool) error {
	var errs []error
	if d.OrderID == "" {
		errs = append(errs, errors.New("order id is empty"))
	}
	if d.Revision < 1 {
		errs = append(errs, fmt.Errorf("revision %d is not positive", d.Revision))
	}
	if want := DeliveryKey(d.OrderID, d.Revision); d.Key != want {
		errs = append(errs, fmt.Errorf("key %q is not %q", d.Key, want))
	}
	if d.Order == nil {
		if needOrder {
			errs = append(errs, errors.New("order is nil"))
		}
	} else if d.Order.ID != d.OrderID {
		errs = append(errs, fmt.Errorf("order id %q differs from the delivery's %q", d.Order.ID, d.OrderID))
	}
	if d.Payload.Format == "" {
		errs = append(errs, errors.New("payload format is empty"))
	}
	if d.Payload.ContentType == "" {
		errs = append(errs, errors.New("payload content type is empty"))
	}
	if len(errs) > 0 {
		return Permanent(fmt.Errorf("invalid delivery %q: %w", d.Key, errors.Join(errs...)))
	}
	return nil
}

// Receipt is the destination's answer to a delivery.
type Receipt struct {
	// ExternalRef is the destination's reference: a file name, an id in
	// the answer, a message id. The same for a redelivery the destination
	// deduplicated.
	ExternalRef string
	// At is when the destination took the delivery.
	At time.Time
	// Detail is a short human-readable note for the order's timeline.
	Detail string
	// Duplicate reports that the destination already had this Key and
	// nothing new was created.
	Duplicate bool
}

// RetryAfter reports how long the backend asked to wait before the next
// attempt (an HTTP 429/503 Retry-After, a broker's flow control), when
// err carries such a hint: any error in err's chain with a method
// RetryAfter() time.Duration.
func RetryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return d, true
		}
	}
	return 0, false
}
