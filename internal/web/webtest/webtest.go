package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/web"
	"github.com/ordergate/ordergate/normalize/order"
)

// Service is the in-memory web.Service.
type Service struct {
	mu        sync.Mutex
	now       func() time.Time
	seq       int
	customers []customer
	products  []web.Product
	orders    map[string]*entry
	drafts    map[string]*draft
	channels  []web.ChannelStatus
	tasks     []web.Task       // open tasks (tasks.go)
	dead      []web.DeadLetter // dead letters (deadletters.go)
	// Submitted records the orders handed to SubmitPhoneOrder, in order.
	Submitted []*order.Order
}

type customer struct {
	web.Customer
	Limit  decimal.Decimal // credit limit
	Prices map[string]decimal.Decimal
}

type entry struct {
	o        order.Order
	created  time.Time
	updated  time.Time
	docID    string
	raw      web.RawDocument
	holds    []web.HoldInfo
	events   []web.TimelineEvent
	acks     []web.AckInfo
	heldAt   time.Time
	touched  bool // a human acted on it
	customer string
}

type draft struct {
	d       web.Draft
	decided bool
}

var _ web.Service = (*Service)(nil)

func dec(s string) decimal.Decimal { return decimal.MustParse(s) }

func pdec(s string) *decimal.Decimal { d := dec(s); return &d }

// New returns a service seeded with customers, products, one held order
// and two fax/e-mail drafts. now is the clock (time.Now when nil).
func New(now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{now: now, orders: map[string]*entry{}, drafts: map[string]*draft{}}
	s.products = []web.Product{
		{SKU: "SCR-100", GTIN: "4012345000016", Description: "Wood screws 4x40, box of 200", Unit: "BX", Currency: "EUR"},
		{SKU: "SCR-120", GTIN: "4012345000023", Description: "Wood screws 5x60, box of 100", Unit: "BX", Currency: "EUR"},
		{SKU: "DRL-550", GTIN: "4012345000030", Description: "Cordless drill 18V", Unit: "EA", Currency: "EUR"},
		{SKU: "HAM-300", GTIN: "4012345000047", Description: "Claw hammer 300g", Unit: "EA", Currency: "EUR"},
		{SKU: "GLV-010", GTIN: "4012345000054", Description: "Work gloves, size 10", Unit: "PR", Currency: "EUR"},
	}
	s.customers = []customer{
		{Customer: web.Customer{ID: "C-1000", Name: "Baumarkt Nord GmbH", Phone: "+49 40 5550100", Currency: "EUR", SalesRep: "J. Weber",
			ShipTos: []order.Party{
				{Role: order.RoleShipTo, ID: "ST-HH-01", IDScheme: order.SchemeBuyer, Name: "Baumarkt Nord Lager Hamburg",
					Address: &order.Address{Lines: []string{"Lagerstrasse 5"}, PostalCode: "20457", City: "Hamburg", Country: "DE"}},
				{Role: order.RoleShipTo, ID: "ST-KI-02", IDScheme: order.SchemeBuyer, Name: "Baumarkt Nord Kiel",
					Address: &order.Address{Lines: []string{"Hafenweg 2"}, PostalCode: "24103", City: "Kiel", Country: "DE"}},
			}},
			Limit:  dec("50000"),
			Prices: map[string]decimal.Decimal{"SCR-100": dec("12.50"), "SCR-120": dec("14.90"), "DRL-550": dec("89.00"), "HAM-300": dec("9.80"), "GLV-010": dec("3.20")}},
		{Customer: web.Customer{ID: "C-2000", Name: "Werkzeug Sued AG", Phone: "+49 89 5550200", Currency: "EUR",
			ShipTos: []order.Party{{Role: order.RoleShipTo, ID: "ST-MUC", Name: "Werkzeug Sued Muenchen",
				Address: &order.Address{Lines: []string{"Industriestr. 9"}, PostalCode: "80331", City: "Muenchen", Country: "DE"}}}},
			Limit:  dec("1000"),
			Prices: map[string]decimal.Decimal{"SCR-100": dec("13.10"), "DRL-550": dec("92.00")}},
	}
	// The seeded order and drafts are from today (the dashboard counts
	// today's orders): two hours ago, or shortly after midnight when the
	// day is younger than that; step spaces the drafts after the order.
	n := now()
	y, m, d := n.Date()
	t0, step := n.Add(-2*time.Hour), 10*time.Minute
	if midnight := time.Date(y, m, d, 0, 0, 0, 0, n.Location()); t0.Before(midnight) {
		t0, step = midnight, n.Sub(midnight)/3
	}
	s.channels = []web.ChannelStatus{
		{Name: "nord-sftp", Type: "sftp", LastPoll: now().Add(-time.Minute), DocumentsToday: 12, OrdersToday: 12},
		{Name: "fax", Type: "imap", LastPoll: now().Add(-30 * time.Second), DocumentsToday: 3, OrdersToday: 1, ErrorsToday: 1,
			LastError: "IMAP: connection reset", LastErrorAt: now().Add(-time.Hour)},
		{Name: "desk", Type: "phone"},
	}
	// A held order: over Werkzeug Sued's credit limit.
	held := order.Order{Channel: order.ChannelEDI, Source: order.Source{Standard: "X12", Version: "004010", File: "inbound/po_4711.edi"},
		Purpose: order.PurposeOriginal, PONumber: "4500012345", Currency: "EUR", CustomerID: "C-2000",
		Parties: []order.Party{{Role: order.RoleBuyer, ID: "C-2000", Name: "Werkzeug Sued AG"}},
		Lines:   []order.Line{{LineNo: "1", Quantity: dec("24"), Unit: "EA", UnitPrice: pdec("92.00"), SKU: "DRL-550", Description: "Cordless drill 18V"}}}
	s.insert(held, t0, "doc_held", web.RawDocument{Filename: "po_4711.edi", ContentType: "text/plain",
		Body: []byte("ISA*00*          *00*          *ZZ*WERKZEUGSUED   *ZZ*TOOLSUPPLY     *261127*0900*U*00401*000004711*0*P*>~\n")}, "system")
	s.addDraft(t0.Add(step), order.ChannelFax, "+49 89 5550299")
	s.addDraft(t0.Add(2*step), order.ChannelEmail, "einkauf@baumarkt-nord.de")
	return s
}

func (s *Service) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_%04d", prefix, s.seq)
}

// insert stores an order, runs the credit-limit rule and records the
// timeline; the caller holds no lock (New) or s.mu.
func (s *Service) insert(o order.Order, at time.Time, docID string, raw web.RawDocument, actor string) *entry {
	o.ID = s.nextID("ord")
	e := &entry{o: o, created: at, updated: at, docID: docID, raw: raw, customer: o.CustomerID}
	e.events = append(e.events, web.TimelineEvent{At: at, Actor: actor, Kind: "received", Reason: "channel " + string(o.Channel)})
	total, _ := o.LinesTotal()
	exposure := s.exposure(o.CustomerID)
	var limit decimal.Decimal
	hasLimit := false
	for _, c := range s.customers {
		if c.ID == o.CustomerID && !c.Limit.IsZero() {
			limit, hasLimit = c.Limit, true
		}
	}
	after, _ := exposure.Add(total)
	if hasLimit && after.Cmp(limit) > 0 {
		reason := fmt.Sprintf("exposure %s %s exceeds limit %s %s", after.Round(2).Pad(2), o.Currency, limit.Round(2).Pad(2), o.Currency)
		e.o.Status = order.StatusHeld
		e.o.Holds = []order.Hold{{Rule: "credit_limit", Reason: reason}}
		e.holds = []web.HoldInfo{{Rule: "credit_limit", Reason: reason, Numbers: map[string]string{
			"exposure": after.Round(2).Pad(2).String() + " " + o.Currency, "limit": limit.Round(2).Pad(2).String() + " " + o.Currency,
			"order total": total.Round(2).Pad(2).String() + " " + o.Currency}}}
		e.heldAt = at
		e.events = append(e.events, web.TimelineEvent{At: at, Actor: "system", Kind: "held", Reason: reason})
	} else {
		e.o.Status = order.StatusAccepted
		e.events = append(e.events, web.TimelineEvent{At: at, Actor: "system", Kind: "accepted", Reason: "all rules passed"})
		if o.Channel == order.ChannelEDI {
			e.acks = append(e.acks, web.AckInfo{At: at, Kind: "997", Control: "0001", Status: "sent", Via: "nord-sftp"})
		}
	}
	s.orders[e.o.ID] = e
	return e
}

// exposure is the sum of open (accepted or held) orders of a customer.
func (s *Service) exposure(customerID string) decimal.Decimal {
	var sum decimal.Decimal
	for _, e := range s.orders {
		if e.o.CustomerID == customerID && (e.o.Status == order.StatusAccepted || e.o.Status == order.StatusHeld) {
			if t, ok := e.o.LinesTotal(); ok {
				sum, _ = sum.Add(t)
			}
		}
	}
	return sum
}

// addDraft adds a captured draft with two lines; the quantity of line 1
// and the PO number are read with low confidence.
func (s *Service) addDraft(at time.Time, ch order.Channel, from string) {
	id := s.nextID("drf")
	o := order.Order{Channel: ch, Source: order.Source{Standard: "PDF", File: id + ".pdf"}, Purpose: order.PurposeOriginal,
		PONumber: "BN-77I2", Currency: "EUR", CustomerID: "C-1000", Status: order.StatusReview,
		Parties: []order.Party{{Role: order.RoleBuyer, ID: "C-1000", Name: "Baumarkt Nord GmbH"},
			{Role: order.RoleShipTo, Name: "Baumarkt Nord Lager Hamburg", Address: &order.Address{Lines: []string{"Lagerstrasse 5"}, PostalCode: "20457", City: "Hamburg", Country: "DE"}}},
		Lines: []order.Line{
			{LineNo: "1", Quantity: dec("8"), Unit: "BX", SKU: "SCR-100", Description: "Wood screws 4x40", UnitPrice: pdec("12.50")},
			{LineNo: "2", Quantity: dec("3"), Unit: "EA", SKU: "DRL-550", Description: "Cordless drill 18V", UnitPrice: pdec("89.00")},
		},
		Confidence: map[string]float64{"po_number": 0.62, "customer_id": 0.97, "lines[0].quantity": 0.41, "lines[0].sku": 0.95,
			"lines[1].quantity": 0.98, "lines[1].sku": 0.96, "parties[1].name": 0.93},
		Boxes: map[string]order.Box{
			"po_number":         {Page: 1, X: 420, Y: 80, W: 140, H: 24},
			"customer_id":       {Page: 1, X: 60, Y: 80, W: 120, H: 24},
			"parties[1].name":   {Page: 1, X: 60, Y: 140, W: 300, H: 24},
			"lines[0].sku":      {Page: 1, X: 60, Y: 260, W: 110, H: 22},
			"lines[0].quantity": {Page: 1, X: 420, Y: 260, W: 60, H: 22},
			"lines[1].sku":      {Page: 1, X: 60, Y: 300, W: 110, H: 22},
			"lines[1].quantity": {Page: 1, X: 420, Y: 300, W: 60, H: 22},
		},
	}
	s.drafts[id] = &draft{d: web.Draft{ID: id, DocumentID: "doc_" + id, Channel: ch, ReceivedAt: at, From: from,
		Subject: "Bestellung", Order: o, Pages: [][]byte{pageImage(o.Boxes)}}}
}

// pageImage draws a plain 600x800 page with dark bars where the boxes are,
// standing in for text.
func pageImage(boxes map[string]order.Box) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 600, 800))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	ink := image.NewUniform(color.RGBA{40, 40, 40, 255})
	for _, b := range boxes {
		r := image.Rect(int(b.X)+4, int(b.Y)+6, int(b.X+b.W)-4, int(b.Y+b.H)-6)
		draw.Draw(img, r, ink, image.Point{}, draw.Src)
	}
	draw.Draw(img, image.Rect(40, 40, 560, 44), ink, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func (s *Service) findCustomer(id string) (customer, bool) {
	for _, c := range s.customers {
		if c.ID == id {
			return c, true
		}
	}
	return customer{}, false
}

// SearchCustomers implements web.Service.
func (s *Service) SearchCustomers(ctx context.Context, q string, limit int) ([]web.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q = strings.ToLower(strings.TrimSpace(q))
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	var out []web.Customer
	for _, c := range s.customers {
		phone := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, c.Phone)
		if q == "" || strings.Contains(strings.ToLower(c.ID), q) || strings.Contains(strings.ToLower(c.Name), q) ||
			(len(digits) >= 3 && strings.Contains(phone, digits)) {
			out = append(out, c.Customer)
		}
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// GetCustomer implements web.Service.
func (s *Service) GetCustomer(ctx context.Context, id string) (web.Customer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.findCustomer(id)
	if !ok {
		return web.Customer{}, fmt.Errorf("customer %q: %w", id, web.ErrNotFound)
	}
	return c.Customer, nil
}

// SearchProducts implements web.Service.
func (s *Service) SearchProducts(ctx context.Context, customerID, q string, limit int) ([]web.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.findCustomer(customerID)
	if !ok {
		return nil, fmt.Errorf("customer %q: %w", customerID, web.ErrNotFound)
	}
	q = strings.TrimSpace(q)
	lq := strings.ToLower(q)
	var exact, other []web.Product
	for _, p := range s.products {
		if price, ok := c.Prices[p.SKU]; ok {
			p.Price = &price
		}
		switch {
		case strings.EqualFold(p.SKU, q) || p.GTIN == q:
			exact = append(exact, p)
		case q != "" && (strings.Contains(strings.ToLower(p.SKU), lq) || strings.Contains(p.GTIN, q) || containsWords(p.Description, lq)):
			other = append(other, p)
		}
	}
	out := append(exact, other...)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func containsWords(text, q string) bool {
	text = strings.ToLower(text)
	for _, w := range strings.Fields(q) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return q != ""
}

// SubmitPhoneOrder implements web.Service: the order is validated, stored,
// run through the credit-limit rule and put on the timeline.
func (s *Service) SubmitPhoneOrder(ctx context.Context, o *order.Order, user string) (string, error) {
	if o.Channel != order.ChannelPhone {
		return "", fmt.Errorf("%w: channel %q is not phone", web.ErrInvalid, o.Channel)
	}
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.findCustomer(o.CustomerID); !ok {
		return "", fmt.Errorf("%w: unknown customer %q", web.ErrInvalid, o.CustomerID)
	}
	// The request id makes a re-submitted form a duplicate, as the intake's
	// source key does.
	for _, e := range s.orders {
		if o.Source.RequestID != "" && e.o.Source.RequestID == o.Source.RequestID {
			return e.o.ID, nil
		}
	}
	cp := *o
	s.Submitted = append(s.Submitted, &cp)
	body, _ := json.MarshalIndent(o, "", "  ")
	e := s.insert(cp, s.now(), s.nextID("doc"), web.RawDocument{Filename: "desk.json", ContentType: "application/json", Body: body}, user)
	e.touched = true
	return e.o.ID, nil
}

func summary(e *entry) web.OrderSummary {
	sum := web.OrderSummary{ID: e.o.ID, Channel: e.o.Channel, Status: e.o.Status, PONumber: e.o.PONumber,
		CustomerID: e.o.CustomerID, Currency: e.o.Currency, Lines: len(e.o.Lines), CreatedAt: e.created}
	if b := e.o.Party(order.RoleBuyer); b != nil {
		sum.CustomerName = b.Name
	}
	if t, ok := e.o.LinesTotal(); ok {
		sum.Total = &t
	}
	return sum
}

// ListOrders implements web.Service (no paging: every match in one page).
func (s *Service) ListOrders(ctx context.Context, f web.OrderFilter) (web.OrderList, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := strings.ToLower(f.Query)
	var out []web.OrderSummary
	for _, e := range s.orders {
		sum := summary(e)
		if f.Status != "" && e.o.Status != f.Status || f.Channel != "" && e.o.Channel != f.Channel ||
			!f.From.IsZero() && e.created.Before(f.From) || !f.To.IsZero() && !e.created.Before(f.To) {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(sum.ID+" "+sum.PONumber+" "+sum.CustomerID+" "+sum.CustomerName), q) {
			continue
		}
		out = append(out, sum)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return web.OrderList{Orders: out}, nil
}

// GetOrder implements web.Service.
func (s *Service) GetOrder(ctx context.Context, id string) (web.OrderDetail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.orders[id]
	if !ok {
		return web.OrderDetail{}, fmt.Errorf("order %q: %w", id, web.ErrNotFound)
	}
	return web.OrderDetail{Order: e.o, CreatedAt: e.created, UpdatedAt: e.updated, DocumentID: e.docID, HasRaw: len(e.raw.Body) > 0,
		Holds: append([]web.HoldInfo(nil), e.holds...), Timeline: append([]web.TimelineEvent(nil), e.events...),
		Acks: append([]web.AckInfo(nil), e.acks...)}, nil
}

// RawDocument implements web.Service.
func (s *Service) RawDocument(ctx context.Context, orderID string) (web.RawDocument, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.orders[orderID]
	if !ok || len(e.raw.Body) == 0 {
		return web.RawDocument{}, fmt.Errorf("raw document of %q: %w", orderID, web.ErrNotFound)
	}
	return e.raw, nil
}

// HeldOrders implements web.Service.
func (s *Service) HeldOrders(ctx context.Context) ([]web.HeldOrder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []web.HeldOrder
	for _, e := range s.orders {
		if e.o.Status == order.StatusHeld {
			out = append(out, web.HeldOrder{OrderSummary: summary(e), HeldAt: e.heldAt, Holds: append([]web.HoldInfo(nil), e.holds...)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].HeldAt.Before(out[j].HeldAt) || out[i].HeldAt.Equal(out[j].HeldAt) && out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *Service) decide(d web.Decision, to order.Status, kind string) (web.Decided, error) {
	// The fake's holds wait for the approval role "approver"; an admin
	// holding it not overrides.
	role := "approver"
	if !slices.Contains(d.Roles, role) || (d.Role != "" && d.Role != role) {
		if !d.MayOverride {
			return web.Decided{}, fmt.Errorf("%s with roles %v deciding on %s: %w", d.User, d.Roles, d.OrderID, web.ErrForbidden)
		}
		role = "admin override"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.orders[d.OrderID]
	if !ok {
		return web.Decided{}, fmt.Errorf("order %q: %w", d.OrderID, web.ErrNotFound)
	}
	if e.o.Status != order.StatusHeld {
		return web.Decided{}, fmt.Errorf("order %q is %s: %w", d.OrderID, e.o.Status, web.ErrConflict)
	}
	now := s.now()
	e.o.Status, e.updated, e.touched = to, now, true
	e.events = append(e.events, web.TimelineEvent{At: now, Actor: d.User, Kind: kind, Reason: d.Comment,
		Detail: fmt.Sprintf(`{"role":%q}`, role)})
	return web.Decided{Role: role, Override: role == "admin override"}, nil
}

// Approve implements web.Service.
func (s *Service) Approve(ctx context.Context, d web.Decision) (web.Decided, error) {
	return s.decide(d, order.StatusAccepted, "approved")
}

// Reject implements web.Service.
func (s *Service) Reject(ctx context.Context, d web.Decision) (web.Decided, error) {
	return s.decide(d, order.StatusRejected, "rejected")
}

// ReviewQueue implements web.Service.
func (s *Service) ReviewQueue(ctx context.Context) ([]web.DraftSummary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []web.DraftSummary
	for _, dr := range s.drafts {
		if dr.decided {
			continue
		}
		d := dr.d
		low := 0
		for _, c := range d.Order.Confidence {
			if c < web.DefaultConfidenceThreshold {
				low++
			}
		}
		out = append(out, web.DraftSummary{ID: d.ID, Channel: d.Channel, ReceivedAt: d.ReceivedAt, From: d.From,
			PONumber: d.Order.PONumber, CustomerID: d.Order.CustomerID, LowConfidence: low, Pages: len(d.Pages)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, nil
}

// GetDraft implements web.Service.
func (s *Service) GetDraft(ctx context.Context, id string) (web.Draft, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dr, ok := s.drafts[id]
	if !ok || dr.decided {
		return web.Draft{}, fmt.Errorf("draft %q: %w", id, web.ErrNotFound)
	}
	return dr.d, nil
}

// AcceptDraft implements web.Service: the corrected order enters the
// pipeline (the rules run) with the corrections on its timeline.
func (s *Service) AcceptDraft(ctx context.Context, d web.DraftDecision) (string, error) {
	if d.Order == nil {
		return "", fmt.Errorf("%w: no order", web.ErrInvalid)
	}
	if err := d.Order.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", web.ErrInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dr, ok := s.drafts[d.DraftID]
	if !ok {
		return "", fmt.Errorf("draft %q: %w", d.DraftID, web.ErrNotFound)
	}
	if dr.decided {
		return "", fmt.Errorf("draft %q was decided: %w", d.DraftID, web.ErrConflict)
	}
	dr.decided = true
	now := s.now()
	o := *d.Order
	e := s.insert(o, now, dr.d.DocumentID, web.RawDocument{Filename: dr.d.ID + ".png", ContentType: "image/png", Body: dr.d.Pages[0]}, "system")
	changes, _ := json.Marshal(d.Changes)
	// The review happened before the rules ran: put it right after receipt.
	rev := web.TimelineEvent{At: now, Actor: d.User, Kind: "reviewed", Reason: fmt.Sprintf("%d correction(s). %s", len(d.Changes), d.Comment), Detail: string(changes)}
	e.events = append(e.events[:1], append([]web.TimelineEvent{rev}, e.events[1:]...)...)
	e.touched, e.updated, e.created, e.events[0].At = true, now, dr.d.ReceivedAt, dr.d.ReceivedAt
	return e.o.ID, nil
}

// RejectDraft implements web.Service.
func (s *Service) RejectDraft(ctx context.Context, d web.DraftDecision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dr, ok := s.drafts[d.DraftID]
	if !ok {
		return fmt.Errorf("draft %q: %w", d.DraftID, web.ErrNotFound)
	}
	if dr.decided {
		return fmt.Errorf("draft %q was decided: %w", d.DraftID, web.ErrConflict)
	}
	dr.decided = true
	return nil
}

// Dashboard implements web.Service.
func (s *Service) Dashboard(ctx context.Context) (web.Dashboard, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	db := web.Dashboard{Channels: append([]web.ChannelStatus(nil), s.channels...)}
	for _, c := range s.channels {
		db.DocumentsToday += c.DocumentsToday
	}
	for _, e := range s.orders {
		if !e.created.Before(today) {
			db.OrdersToday++
			if !e.touched && e.o.Status != order.StatusHeld {
				db.TouchlessToday++
			}
		}
		if e.o.Status == order.StatusHeld {
			db.Queues.Held++
		}
	}
	for _, dr := range s.drafts {
		if !dr.decided {
			db.Queues.Review++
		}
	}
	return db, nil
}

// DraftIDs returns the ids of the drafts still waiting, oldest first.
func (s *Service) DraftIDs() []string {
	q, _ := s.ReviewQueue(context.Background())
	var ids []string
	for _, d := range q {
		ids = append(ids, d.ID)
	}
	return ids
}

// HeldIDs returns the ids of the held orders, oldest first.
func (s *Service) HeldIDs() []string {
	h, _ := s.HeldOrders(context.Background())
	var ids []string
	for _, o := range h {
		ids = append(ids, o.ID)
	}
	return ids
}
