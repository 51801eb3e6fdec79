package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/govalues/decimal"
	"github.com/oklog/ulid/v2"
	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/web"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// webService is the operator UI's data, over the store and the pipeline.
type webService struct {
	st       *store.Store
	pipe     *pipeline.Pipeline
	in       *submitIntake
	cfg      func() *config.Config
	desk     string // the desk channel's name
	maxRaw   int64
	pages    func(ctx context.Context, doc store.Document, raw []byte) ([][]byte, error)
	location *time.Location
}

var _ web.Service = (*webService)(nil)

// mapErr turns the gateway's errors into the UI's classes.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %w", web.ErrNotFound, err)
	case errors.Is(err, rules.ErrWrongRole), errors.Is(err, rules.ErrSameUser):
		return fmt.Errorf("%w: %w", web.ErrForbidden, err)
	case errors.Is(err, pipeline.ErrNotHeld), errors.Is(err, rules.ErrDecided), errors.Is(err, pipeline.ErrNotInReview):
		return fmt.Errorf("%w: %w", web.ErrConflict, err)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, rules.ErrNoUser):
		return fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	return err
}

func (s *webService) customer(ctx context.Context, c store.Customer) web.Customer {
	out := web.Customer{ID: c.Number, Name: c.Name, Phone: c.Phone, Currency: c.Currency, SalesRep: c.SalesRep}
	tos, err := s.st.ShipTos(ctx, c.Number)
	if err == nil {
		for _, t := range tos {
			p := order.Party{Role: order.RoleShipTo, ID: t.Code, Name: t.Name,
				Address: &order.Address{City: t.City, Region: t.Region, PostalCode: t.PostalCode, Country: t.Country}}
			if t.Street != "" {
				p.Address.Lines = []string{t.Street}
			}
			out.ShipTos = append(out.ShipTos, p)
		}
	}
	return out
}

func (s *webService) SearchCustomers(ctx context.Context, q string, limit int) ([]web.Customer, error) {
	cs, err := s.st.FindCustomers(ctx, q, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]web.Customer, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.customer(ctx, c))
	}
	return out, nil
}

func (s *webService) GetCustomer(ctx context.Context, id string) (web.Customer, error) {
	c, err := s.st.GetCustomer(ctx, id)
	if err != nil {
		return web.Customer{}, mapErr(err)
	}
	return s.customer(ctx, c), nil
}

func (s *webService) today() order.Date {
	now := time.Now().In(s.location)
	d, _ := order.NewDate(now.Year(), now.Month(), now.Day())
	return d
}

func (s *webService) SearchProducts(ctx context.Context, customerID, q string, limit int) ([]web.Product, error) {
	ps, err := s.st.FindProducts(ctx, q, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]web.Product, 0, len(ps))
	for _, p := range ps {
		wp := web.Product{SKU: p.SKU, GTIN: p.GTIN, Description: p.Description, Unit: p.BaseUnit}
		if customerID != "" {
			if pr, err := s.st.PriceFor(ctx, customerID, p.SKU, decimal.One, s.today()); err == nil {
				price := pr.Price
				wp.Price, wp.Currency = &price, pr.Currency
			}
		}
		out = append(out, wp)
	}
	return out, nil
}

// newOrderID returns an order id of the store's form.
func newOrderID() string {
	return "ord_" + ulid.MustNew(ulid.Now(), rand.Reader).String()
}

// SubmitPhoneOrder takes a phone order into the same intake as every
// channel (channel phone, a canonical order document). The form's request
// id is the idempotency key: posting the same form twice makes one order.
func (s *webService) SubmitPhoneOrder(ctx context.Context, o *order.Order, user string) (string, error) {
	if o == nil {
		return "", fmt.Errorf("%w: no order", web.ErrInvalid)
	}
	c := *o
	c.ID, c.Channel, c.Status = newOrderID(), order.ChannelPhone, order.StatusReceived
	if c.Source.Standard == "" {
		c.Source.Standard = "DESK"
	}
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	body, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	key := c.Source.RequestID
	if key == "" {
		key = c.ID
	}
	t, err := s.in.take(ctx, channels.Document{Channel: s.desk, SourceKey: "desk:" + user + ":" + key, Name: c.ID + ".json",
		Body: channels.BytesBody(body), SHA256: sha256.Sum256(body), Received: time.Now(),
		Meta: map[string]string{metaOrderID: c.ID, metaUser: user}})
	if err != nil {
		return "", err
	}
	if t.Doc.Status == store.DocumentRejected {
		return "", fmt.Errorf("%w: %s", web.ErrInvalid, t.Doc.Error)
	}
	return t.Doc.Metadata[metaOrderID], nil
}

func (s *webService) summary(ctx context.Context, r store.OrderRecord, names map[string]string) web.OrderSummary {
	sum := web.OrderSummary{ID: r.ID, Channel: r.Channel, Status: r.Status, PONumber: r.PONumber, CustomerID: r.CustomerID,
		Currency: r.Currency, CreatedAt: r.CreatedAt}
	if r.CustomerID != "" {
		name, ok := names[r.CustomerID]
		if !ok {
			if c, err := s.st.GetCustomer(ctx, r.CustomerID); err == nil {
				name = c.Name
			}
			names[r.CustomerID] = name
		}
		sum.CustomerName = name
	}
	if o, err := r.Order(); err == nil {
		sum.Lines = len(o.Lines)
		if t, ok := o.LinesTotal(); ok {
			sum.Total = &t
		}
	}
	return sum
}

func (s *webService) ListOrders(ctx context.Context, f web.OrderFilter) (web.OrderList, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := strings.TrimSpace(f.Query)
	names := map[string]string{}
	if strings.HasPrefix(q, "ord_") {
		r, err := s.st.GetOrder(ctx, q)
		if errors.Is(err, store.ErrNotFound) {
			return web.OrderList{}, nil
		}
		if err != nil {
			return web.OrderList{}, mapErr(err)
		}
		return web.OrderList{Orders: []web.OrderSummary{s.summary(ctx, r, names)}}, nil
	}
	base := store.OrderFilter{Status: f.Status, Channel: f.Channel, From: f.From, To: f.To}
	filters := []store.OrderFilter{base}
	if q != "" {
		byPO, byCustomer := base, base
		byPO.PONumber, byCustomer.CustomerID = q, q
		filters = []store.OrderFilter{byPO, byCustomer}
	}
	for i, flt := range filters {
		page, err := s.st.ListOrders(ctx, flt, f.Cursor, limit)
		if err != nil {
			return web.OrderList{}, mapErr(err)
		}
		if len(page.Orders) == 0 && i < len(filters)-1 {
			continue
		}
		out := web.OrderList{Next: page.Next}
		for _, r := range page.Orders {
			out.Orders = append(out.Orders, s.summary(ctx, r, names))
		}
		return out, nil
	}
	return web.OrderList{}, nil
}

// heldState reads the holds of an approval state.
func holdsOf(a store.Approval) ([]web.HoldInfo, error) {
	var st struct {
		Approval rules.ApprovalState `json:"approval"`
		Holds    []rules.Hold        `json:"holds"`
	}
	if err := json.Unmarshal(a.State, &st); err != nil {
		return nil, err
	}
	next := map[string]string{}
	for _, h := range st.Approval.Holds {
		next[h.Hold] = h.Next()
	}
	out := make([]web.HoldInfo, 0, len(st.Holds))
	for _, h := range st.Holds {
		out = append(out, web.HoldInfo{Rule: h.Rule, Reason: h.Reason, Numbers: h.Numbers, Role: next[h.Label()]})
	}
	return out, nil
}

func (s *webService) GetOrder(ctx context.Context, id string) (web.OrderDetail, error) {
	r, err := s.st.GetOrder(ctx, id)
	if err != nil {
		return web.OrderDetail{}, mapErr(err)
	}
	o, err := r.Order()
	if err != nil {
		return web.OrderDetail{}, err
	}
	o.ID = r.ID
	d := web.OrderDetail{Order: *o, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DocumentID: r.DocumentID, HasRaw: true}
	if a, err := s.st.GetApproval(ctx, id); err == nil && a.Status == store.ApprovalPending {
		if d.Holds, err = holdsOf(a); err != nil {
			return web.OrderDetail{}, err
		}
	} else {
		for _, h := range o.Holds {
			d.Holds = append(d.Holds, web.HoldInfo{Rule: h.Rule, Reason: h.Reason})
		}
	}
	evs, err := s.st.Timeline(ctx, id)
	if err != nil {
		return web.OrderDetail{}, err
	}
	for _, e := range evs {
		te := web.TimelineEvent{At: e.At, Actor: e.Actor, Kind: e.Kind, Reason: e.Reason}
		if len(e.Data) > 0 {
			te.Detail = string(e.Data)
		}
		d.Timeline = append(d.Timeline, te)
	}
	acks, err := s.st.AcksOfDocument(ctx, r.DocumentID)
	if err != nil {
		return web.OrderDetail{}, err
	}
	for _, a := range acks {
		kind := a.Kind
		if base, oid, ok := strings.Cut(a.Kind, "-"); ok {
			if !strings.HasPrefix(oid, id) {
				continue // another order's response in the same document
			}
			kind = base
		}
		ai := web.AckInfo{At: a.CreatedAt, Kind: kind, Status: string(a.Status), Via: a.Destination}
		if !a.SentAt.IsZero() {
			ai.At = a.SentAt
		}
		d.Acks = append(d.Acks, ai)
	}
	return d, nil
}

func (s *webService) RawDocument(ctx context.Context, orderID string) (web.RawDocument, error) {
	r, err := s.st.GetOrder(ctx, orderID)
	if err != nil {
		return web.RawDocument{}, mapErr(err)
	}
	doc, err := s.st.GetDocument(ctx, r.DocumentID)
	if err != nil {
		return web.RawDocument{}, mapErr(err)
	}
	b, err := s.raw(doc)
	if err != nil {
		return web.RawDocument{}, err
	}
	return web.RawDocument{Filename: doc.Filename, ContentType: doc.ContentType, Body: b}, nil
}

func (s *webService) raw(doc store.Document) ([]byte, error) {
	rc, err := s.st.Archive().Open(doc.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the raw document %s: %w", doc.ID, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, s.maxRaw+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > s.maxRaw {
		return nil, fmt.Errorf("%w: the raw document is larger than %d bytes; use the API", web.ErrInvalid, s.maxRaw)
	}
	return b, nil
}

func (s *webService) HeldOrders(ctx context.Context) ([]web.HeldOrder, error) {
	as, err := s.st.PendingApprovals(ctx, 1000)
	if err != nil {
		return nil, mapErr(err)
	}
	names := map[string]string{}
	out := make([]web.HeldOrder, 0, len(as))
	for _, a := range as {
		r, err := s.st.GetOrder(ctx, a.OrderID)
		if err != nil {
			return nil, err
		}
		holds, err := holdsOf(a)
		if err != nil {
			return nil, err
		}
		out = append(out, web.HeldOrder{OrderSummary: s.summary(ctx, r, names), HeldAt: a.CreatedAt, Holds: holds})
	}
	return out, nil
}

// decide decides in the user's approval roles (never trusting a role
// the UI did not take from the user), or as an admin's override.
func (s *webService) decide(ctx context.Context, d web.Decision, reject bool) (web.Decided, error) {
	roles := d.Roles
	if roles == nil {
		roles = []string{}
	}
	res, err := s.pipe.Decide(ctx, pipeline.Decision{OrderID: d.OrderID, User: d.User, Role: d.Role, Roles: roles,
		MayOverride: d.MayOverride, Comment: d.Comment, Reject: reject})
	if err != nil {
		return web.Decided{}, mapErr(err)
	}
	return web.Decided{Role: res.Role, Override: res.Override}, nil
}

func (s *webService) Approve(ctx context.Context, d web.Decision) (web.Decided, error) {
	return s.decide(ctx, d, false)
}
func (s *webService) Reject(ctx context.Context, d web.Decision) (web.Decided, error) {
	return s.decide(ctx, d, true)
}

// threshold is the confidence below which a captured field needs a look.
const threshold = web.DefaultConfidenceThreshold

func (s *webService) ReviewQueue(ctx context.Context) ([]web.DraftSummary, error) {
	var out []web.DraftSummary
	cursor := ""
	for {
		page, err := s.st.ListOrders(ctx, store.OrderFilter{Status: order.StatusReview, Ascending: true}, cursor, 500)
		if err != nil {
			return nil, mapErr(err)
		}
		for _, r := range page.Orders {
			o, err := r.Order()
			if err != nil {
				return nil, err
			}
			ds := web.DraftSummary{ID: r.ID, Channel: r.Channel, ReceivedAt: r.CreatedAt, PONumber: r.PONumber, CustomerID: r.CustomerID}
			for _, c := range o.Confidence {
				if c < threshold {
					ds.LowConfidence++
				}
			}
			for _, b := range o.Boxes {
				ds.Pages = max(ds.Pages, b.Page)
			}
			if doc, err := s.st.GetDocument(ctx, r.DocumentID); err == nil {
				ds.From = doc.Metadata["from"]
			}
			out = append(out, ds)
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

func (s *webService) GetDraft(ctx context.Context, id string) (web.Draft, error) {
	r, err := s.st.GetOrder(ctx, id)
	if err != nil {
		return web.Draft{}, mapErr(err)
	}
	if r.Status != order.StatusReview {
		return web.Draft{}, fmt.Errorf("%w: order %s is %s, not in review", web.ErrNotFound, id, r.Status)
	}
	o, err := r.Order()
	if err != nil {
		return web.Draft{}, err
	}
	o.ID = r.ID
	d := web.Draft{ID: r.ID, DocumentID: r.DocumentID, Channel: r.Channel, ReceivedAt: r.CreatedAt, Order: *o, Threshold: threshold}
	doc, err := s.st.GetDocument(ctx, r.DocumentID)
	if err != nil {
		return web.Draft{}, mapErr(err)
	}
	d.From, d.Subject = doc.Metadata["from"], doc.Metadata["subject"]
	if s.pages != nil {
		raw, err := s.raw(doc)
		if err != nil {
			return web.Draft{}, err
		}
		if d.Pages, err = s.pages(ctx, doc, raw); err != nil {
			return web.Draft{}, fmt.Errorf("rendering the pages of %s: %w", doc.ID, err)
		}
	}
	return d, nil
}

func (s *webService) AcceptDraft(ctx context.Context, d web.DraftDecision) (string, error) {
	if err := s.pipe.AcceptDraft(ctx, d.DraftID, d.Order, d.User, d.Comment, d.Changes); err != nil {
		return "", mapErr(err)
	}
	return d.DraftID, nil
}

func (s *webService) RejectDraft(ctx context.Context, d web.DraftDecision) error {
	return mapErr(s.pipe.RejectDraft(ctx, d.DraftID, d.User, d.Comment))
}

func (s *webService) Dashboard(ctx context.Context) (web.Dashboard, error) {
	now := time.Now().In(s.location)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.location)
	act, err := s.st.ActivitySince(ctx, midnight)
	if err != nil {
		return web.Dashboard{}, err
	}
	qs, err := s.st.Queues(ctx)
	if err != nil {
		return web.Dashboard{}, err
	}
	d := web.Dashboard{DocumentsToday: act.Documents, OrdersToday: act.Orders, TouchlessToday: act.Touchless,
		Queues: web.Queues{Review: qs.Review, Held: qs.Held, FailedDeliveries: qs.DeadDeliveries, Quarantine: qs.Quarantine}}
	live := map[string]pipeline.SourceStatus{}
	for _, st := range s.pipe.Sources() {
		live[st.Name] = st
	}
	for _, ch := range s.cfg().Channels {
		if !ch.Enabled {
			continue
		}
		cs := web.ChannelStatus{Name: ch.Name, Type: ch.Type}
		if c, ok := act.Channels[ch.Name]; ok {
			cs.DocumentsToday, cs.OrdersToday, cs.ErrorsToday = c.Documents, c.Orders, c.Rejected
			cs.LastError, cs.LastErrorAt = c.LastError, c.LastErrorAt
		}
		if st, ok := live[ch.Name]; ok {
			cs.LastPoll = st.LastDocument
			if st.Connected && st.ConnectedAt.After(cs.LastPoll) {
				cs.LastPoll = st.ConnectedAt
			}
			if st.LastErrorAt.After(cs.LastErrorAt) {
				cs.LastError, cs.LastErrorAt = st.LastError, st.LastErrorAt
			}
		}
		d.Channels = append(d.Channels, cs)
	}
	return d, nil
}
