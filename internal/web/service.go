package web

import (
	"context"
	"errors"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// Errors a Service returns (wrapped) so the UI can answer with the right
// status. store.ErrNotFound is understood as ErrNotFound too.
var (
	// ErrNotFound: no order, draft or customer with that id.
	ErrNotFound = errors.New("web: not found")
	// ErrConflict: the object is no longer in a state that allows the
	// action (an order already decided, a draft already accepted).
	ErrConflict = errors.New("web: conflict")
	// ErrInvalid: the submitted order or decision is not acceptable; the
	// error text is shown to the user, so it must not carry secrets.
	ErrInvalid = errors.New("web: invalid")
	// ErrForbidden: the Service refuses the user's role for this action.
	ErrForbidden = errors.New("web: forbidden")
)

// Service is everything the screens read and change beyond users,
// sessions and the audit log. Implementations must be safe for concurrent
// use; a change must be visible to the reads that follow it.
type Service interface {
	// SearchCustomers finds customers by number, name or phone
	// (case-insensitive substring), at most limit.
	SearchCustomers(ctx context.Context, q string, limit int) ([]Customer, error)
	// GetCustomer returns one customer with its ship-to addresses.
	GetCustomer(ctx context.Context, id string) (Customer, error)
	// SearchProducts finds products by SKU, GTIN or description for a
	// customer, with the customer's price; exact SKU or GTIN matches first.
	SearchProducts(ctx context.Context, customerID, q string, limit int) ([]Product, error)
	// SubmitPhoneOrder hands a keyed order (Channel phone, Source.Standard
	// DESK) to the intake, as every channel does, and returns its id.
	SubmitPhoneOrder(ctx context.Context, o *order.Order, user string) (orderID string, err error)

	// ListOrders searches orders, newest first.
	ListOrders(ctx context.Context, f OrderFilter) (OrderList, error)
	// GetOrder returns an order with its holds, timeline and acks.
	GetOrder(ctx context.Context, id string) (OrderDetail, error)
	// RawDocument returns the document an order was read from.
	RawDocument(ctx context.Context, orderID string) (RawDocument, error)

	// HeldOrders returns the orders waiting for a decision, oldest first.
	HeldOrders(ctx context.Context) ([]HeldOrder, error)
	// Approve releases a held order; Reject rejects it. Both record the
	// decision on the order's timeline and say the role it was made in.
	Approve(ctx context.Context, d Decision) (Decided, error)
	Reject(ctx context.Context, d Decision) (Decided, error)

	// ReviewQueue returns the captured drafts waiting for review, oldest
	// first.
	ReviewQueue(ctx context.Context) ([]DraftSummary, error)
	// GetDraft returns a draft with its confidences, boxes and page images.
	GetDraft(ctx context.Context, id string) (Draft, error)
	// AcceptDraft continues the corrected order in the pipeline and
	// records the corrections on its timeline; it returns the order id.
	AcceptDraft(ctx context.Context, d DraftDecision) (orderID string, err error)
	// RejectDraft rejects a draft with the user's comment.
	RejectDraft(ctx context.Context, d DraftDecision) error

	// Dashboard returns the figures of the start page.
	Dashboard(ctx context.Context) (Dashboard, error)
}

// Customer is an account that orders from us.
type Customer struct {
	ID       string
	Name     string
	Phone    string
	Currency string        // the customer's price currency, e.g. "EUR"
	BillTo   *order.Party  // optional
	ShipTos  []order.Party // the delivery addresses on file; the first is the default
	SalesRep string        // who gets the desk notes, optional
}

// Product is an item with the price for one customer.
type Product struct {
	SKU         string
	GTIN        string
	Description string
	Unit        string           // the default order unit, e.g. "EA"
	Price       *decimal.Decimal // the customer's unit price; nil when none is on file
	Currency    string
}

// OrderFilter selects orders; zero fields select all.
type OrderFilter struct {
	Query    string // PO number, order id, customer number or name
	Status   order.Status
	Channel  order.Channel
	From, To time.Time // created in [From, To)
	Cursor   string    // from OrderList.Next
	Limit    int       // 50 when zero
}

// OrderList is one page of orders.
type OrderList struct {
	Orders []OrderSummary
	Next   string // cursor of the next page; "" on the last
}

// OrderSummary is an order's row in lists.
type OrderSummary struct {
	ID           string
	Channel      order.Channel
	Status       order.Status
	PONumber     string
	CustomerID   string
	CustomerName string
	Total        *decimal.Decimal
	Currency     string
	Lines        int
	CreatedAt    time.Time
}

// OrderDetail is an order with everything the detail page shows.
type OrderDetail struct {
	Order      order.Order // with ID, Status, Holds
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DocumentID string
	HasRaw     bool // RawDocument has bytes for this order
	Holds      []HoldInfo
	Timeline   []TimelineEvent
	Acks       []AckInfo
}

// HoldInfo is a rule's hold with the figures behind it.
type HoldInfo struct {
	Rule    string
	Reason  string
	Numbers map[string]string // e.g. "exposure": "12400.00 EUR", "limit": "10000.00 EUR"
	Role    string            // the role that may decide, "" for any approver
}

// TimelineEvent is one entry of an order's timeline.
type TimelineEvent struct {
	At     time.Time
	Actor  string
	Kind   string
	Reason string
	Detail string // optional, shown as is (e.g. JSON of corrections)
}

// AckInfo is an acknowledgement sent (or queued) for the order's document.
type AckInfo struct {
	At      time.Time
	Kind    string // 997, 999, TA1, CONTRL, 855, ORDRSP, email
	Control string // its control number
	Status  string // pending, sent, failed
	Via     string
}

// RawDocument is a document's raw bytes.
type RawDocument struct {
	Filename    string
	ContentType string
	Body        []byte
}

// HeldOrder is an order waiting for a decision.
type HeldOrder struct {
	OrderSummary
	HeldAt time.Time
	Holds  []HoldInfo
}

// Decision is an approver's decision on a held order, made in one of the
// user's approval roles that the order waits for, or by an admin
// (MayOverride) as an override when the admin holds none of them.
type Decision struct {
	OrderID string
	User    string
	// Role, when set, is the one role of Roles to decide in.
	Role        string
	Roles       []string // the user's approval roles (not nil)
	MayOverride bool     // the user is an admin
	Comment     string
}

// Decided is how a decision was made: in Role, or as an admin's
// Override.
type Decided struct {
	Role     string
	Override bool
}

// DraftSummary is a draft's row in the review queue.
type DraftSummary struct {
	ID            string
	Channel       order.Channel // fax or email
	ReceivedAt    time.Time
	From          string // sender address or fax number
	PONumber      string
	CustomerID    string
	LowConfidence int // fields below the threshold
	Pages         int
}

// Draft is a captured order waiting for review.
type Draft struct {
	ID         string
	DocumentID string
	Channel    order.Channel
	ReceivedAt time.Time
	From       string
	Subject    string
	// Order carries Confidence and Boxes per field path ("po_number",
	// "lines[0].quantity", "parties[1].name").
	Order order.Order
	// Pages are the page images as PNG, page 1 first; boxes refer to their
	// pixels.
	Pages [][]byte
	// Threshold is the confidence below which a field is highlighted
	// (DefaultConfidenceThreshold when zero).
	Threshold float64
}

// DefaultConfidenceThreshold is the confidence below which a draft's field
// is highlighted for review.
const DefaultConfidenceThreshold = 0.9

// FieldChange is one correction a reviewer made to a draft.
type FieldChange struct {
	Path string `json:"path"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// DraftDecision is a reviewer's decision on a draft.
type DraftDecision struct {
	DraftID string
	Order   *order.Order  // the corrected order (accept only)
	Changes []FieldChange // what the reviewer changed, for the timeline
	User    string
	Comment string
}

// Dashboard is the start page's figures.
type Dashboard struct {
	Channels       []ChannelStatus
	DocumentsToday int
	OrdersToday    int
	TouchlessToday int // orders today that needed no human
	Queues         Queues
}

// TouchlessRate is TouchlessToday / OrdersToday in percent, or -1 when
// there were no orders today.
func (d Dashboard) TouchlessRate() float64 {
	if d.OrdersToday == 0 {
		return -1
	}
	return 100 * float64(d.TouchlessToday) / float64(d.OrdersToday)
}

// ChannelStatus is one channel's state.
type ChannelStatus struct {
	Name           string
	Type           string
	LastPoll       time.Time
	LastError      string
	LastErrorAt    time.Time
	ErrorsToday    int
	DocumentsToday int
	OrdersToday    int
}

// Queues are the sizes of the work queues.
type Queues struct {
	Review           int
	Held             int
	FailedDeliveries int
	Quarantine       int
}
