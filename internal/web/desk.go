package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// maxDeskLines bounds the lines of one keyed order.
const maxDeskLines = 200

// deskLine is one row of the desk's line table.
type deskLine struct {
	Index      int
	Item       string // what was typed: SKU, GTIN or description
	Qty        string
	Unit       string
	SKU        string // the resolved product
	Product    *Product
	Candidates []Product // when Item matches several products
	Amount     string
	Err        string
	Focus      bool
}

func (l deskLine) blank() bool { return strings.TrimSpace(l.Item) == "" && l.SKU == "" }

type deskData struct {
	CQ        string
	Customers []Customer
	Customer  *Customer
	RequestID string
	PO        string
	Requested string
	ShipTo    int
	Notes     string
	Lines     []deskLine
	Errors    []string
	Total     string
	Currency  string
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "desk-" + hex.EncodeToString(b)
}

func (u *UI) deskPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	d := deskData{CQ: strings.TrimSpace(r.URL.Query().Get("cq")), RequestID: newRequestID()}
	if id := r.URL.Query().Get("customer"); id != "" {
		c, err := u.svc.GetCustomer(ctx, id)
		if err != nil {
			u.serviceError(w, r, s, "reading the customer", err)
			return
		}
		d.Customer = &c
		d.Currency = c.Currency
		d.Lines = []deskLine{{Index: 0, Qty: "1", Focus: true}}
	} else if d.CQ != "" {
		cs, err := u.svc.SearchCustomers(ctx, d.CQ, 20)
		if err != nil {
			u.serviceError(w, r, s, "searching customers", err)
			return
		}
		d.Customers = cs
	}
	u.render(w, r, s, http.StatusOK, "desk.html", page{Title: "Order desk", Data: d})
}

// deskPost handles the desk form: op "add" (Enter's default) resolves the
// lines and adds a row, "remove-N" drops row N, "submit" submits.
func (u *UI) deskPost(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := r.PostForm
	c, err := u.svc.GetCustomer(ctx, f.Get("customer"))
	if err != nil {
		u.serviceError(w, r, s, "reading the customer", err)
		return
	}
	d := deskData{Customer: &c, Currency: c.Currency, RequestID: f.Get("rid"), PO: strings.TrimSpace(f.Get("po")),
		Requested: strings.TrimSpace(f.Get("requested")), Notes: strings.TrimSpace(f.Get("notes"))}
	if d.RequestID == "" {
		d.RequestID = newRequestID()
	}
	d.ShipTo, _ = strconv.Atoi(f.Get("shipto"))
	items, qtys, units, skus := f["item"], f["qty"], f["unit"], f["sku"]
	if len(items) > maxDeskLines {
		u.renderError(w, r, s, http.StatusRequestEntityTooLarge, fmt.Sprintf("An order can have at most %d lines.", maxDeskLines))
		return
	}
	op := f.Get("op")
	for i := range items {
		l := deskLine{Item: strings.TrimSpace(items[i]), Qty: at(qtys, i), Unit: at(units, i), SKU: at(skus, i)}
		// A choice among candidates wins; a resolved SKU counts only while
		// the item text still shows it (the user may have typed over it).
		if pick := f.Get("pick-" + strconv.Itoa(i)); pick != "" {
			l.Item, l.SKU = pick, pick
		} else if !strings.EqualFold(l.Item, l.SKU) {
			l.SKU = ""
		}
		if l.blank() || op == "remove-"+strconv.Itoa(i) {
			continue
		}
		d.Lines = append(d.Lines, l)
	}
	problems := u.resolveLines(r, &d)
	switch {
	case op == "submit" && len(d.Lines) == 0:
		d.Errors = append(d.Errors, "Add at least one line.")
	case op == "submit" && problems == 0:
		o, errs := deskOrder(&d, u.now().Format("060102-150405"))
		if len(errs) == 0 {
			id, err := u.svc.SubmitPhoneOrder(ctx, o, s.user.Name)
			if err == nil {
				u.audit(ctx, s.user.Name, "desk.submit", id, map[string]any{"customer": c.ID, "po_number": o.PONumber,
					"lines": len(o.Lines), "request_id": d.RequestID})
				u.log.InfoContext(ctx, "web: phone order submitted", "user", s.user.Name, "order_id", id, "lines", len(o.Lines))
				redirect(w, r, "/orders/"+id+"?notice=submitted")
				return
			}
			if !errors.Is(err, ErrInvalid) {
				u.serviceError(w, r, s, "submitting the order", err)
				return
			}
			errs = append(errs, err.Error())
		}
		d.Errors = append(d.Errors, errs...)
	}
	// Always offer one empty row to type into; Enter lands there.
	d.Lines = append(d.Lines, deskLine{Qty: "1"})
	for i := range d.Lines {
		d.Lines[i].Index = i
	}
	if op != "submit" || len(d.Errors) == 0 {
		d.Lines[len(d.Lines)-1].Focus = true
	}
	status := http.StatusOK
	if op == "submit" {
		status = http.StatusUnprocessableEntity
	}
	u.render(w, r, s, status, "desk.html", page{Title: "Order desk", Data: d})
}

func at(vs []string, i int) string {
	if i < len(vs) {
		return strings.TrimSpace(vs[i])
	}
	return ""
}

// resolveLines finds each line's product (exact SKU or GTIN, or the only
// match of the search), fills unit and price, and returns the number of
// lines with a problem.
func (u *UI) resolveLines(r *http.Request, d *deskData) int {
	problems := 0
	var total decimal.Decimal
	totalOK := true
	for i := range d.Lines {
		l := &d.Lines[i]
		q := l.SKU
		if q == "" {
			q = strings.TrimSpace(l.Item)
		}
		ps, err := u.svc.SearchProducts(r.Context(), d.Customer.ID, q, 10)
		if err != nil {
			u.log.ErrorContext(r.Context(), "web: searching products", "err", err)
			l.Err = "The product search failed."
			problems++
			continue
		}
		var pick *Product
		for j := range ps {
			if strings.EqualFold(ps[j].SKU, q) || (ps[j].GTIN != "" && ps[j].GTIN == q) {
				pick = &ps[j]
				break
			}
		}
		if pick == nil && l.SKU == "" && len(ps) == 1 {
			pick = &ps[0]
		}
		switch {
		case pick != nil:
			l.Product, l.SKU, l.Item = pick, pick.SKU, pick.SKU
			if l.Unit == "" {
				l.Unit = pick.Unit
			}
		case len(ps) == 0:
			l.Err, l.SKU = "No product matches.", ""
			problems++
			continue
		default:
			l.Candidates, l.SKU = ps, ""
			l.Err = "Several products match: choose one."
			problems++
			continue
		}
		if l.Qty == "" {
			l.Qty = "1"
		}
		qty, err := decimal.Parse(l.Qty)
		if err != nil || !qty.IsPos() {
			l.Err = "The quantity must be a positive number."
			problems++
			totalOK = false
			continue
		}
		if pick.Price == nil {
			totalOK = false
			continue
		}
		amt, err := qty.Mul(*pick.Price)
		if err == nil {
			l.Amount = amt.String()
			total, err = total.Add(amt)
		}
		if err != nil {
			totalOK = false
		}
	}
	if totalOK && len(d.Lines) > 0 {
		d.Total = total.String()
	}
	return problems
}

// deskOrder builds the canonical order from resolved desk data.
func deskOrder(d *deskData, stamp string) (*order.Order, []string) {
	var errs []string
	c := d.Customer
	o := &order.Order{
		Channel:    order.ChannelPhone,
		Source:     order.Source{Standard: "DESK", RequestID: d.RequestID},
		Purpose:    order.PurposeOriginal,
		PONumber:   d.PO,
		Currency:   c.Currency,
		CustomerID: c.ID,
		Status:     order.StatusReceived,
	}
	if o.PONumber == "" {
		o.PONumber = "PHONE-" + stamp
	}
	if d.Requested != "" {
		date, err := order.ParseDate(d.Requested)
		if err != nil {
			errs = append(errs, "Requested date: "+err.Error())
		}
		o.RequestedDelivery = date
	}
	if d.Notes != "" {
		o.Notes = []string{d.Notes}
	}
	o.Parties = append(o.Parties, order.Party{Role: order.RoleBuyer, ID: c.ID, IDScheme: order.SchemeSeller, Name: c.Name})
	if c.BillTo != nil {
		o.Parties = append(o.Parties, *c.BillTo)
	}
	if d.ShipTo >= 0 && d.ShipTo < len(c.ShipTos) {
		st := c.ShipTos[d.ShipTo]
		st.Role = order.RoleShipTo
		o.Parties = append(o.Parties, st)
	}
	for i, l := range d.Lines {
		qty, _ := decimal.Parse(l.Qty)
		ln := order.Line{LineNo: strconv.Itoa(i + 1), Quantity: qty, Unit: l.Unit}
		if p := l.Product; p != nil {
			ln.SKU, ln.SupplierPart, ln.GTIN, ln.Description, ln.UnitPrice = p.SKU, p.SKU, p.GTIN, p.Description, p.Price
		}
		o.Lines = append(o.Lines, ln)
	}
	if err := o.Validate(); err != nil {
		errs = append(errs, strings.Split(err.Error(), "\n")...)
	}
	return o, errs
}

// deskCustomers answers the script's customer search as JSON.
func (u *UI) deskCustomers(w http.ResponseWriter, r *http.Request, s *session) {
	cs, err := u.svc.SearchCustomers(r.Context(), strings.TrimSpace(r.URL.Query().Get("q")), 10)
	if err != nil {
		u.log.ErrorContext(r.Context(), "web: searching customers", "err", err)
		http.Error(w, "search failed", http.StatusInternalServerError)
		return
	}
	type item struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
	}
	out := make([]item, 0, len(cs))
	for _, c := range cs {
		out = append(out, item{c.ID, c.Name, c.Phone})
	}
	writeJSON(w, out)
}

// deskProducts answers the script's product search as JSON, with the
// customer's prices.
func (u *UI) deskProducts(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	ps, err := u.svc.SearchProducts(r.Context(), q.Get("customer"), strings.TrimSpace(q.Get("q")), 10)
	if err != nil {
		u.log.ErrorContext(r.Context(), "web: searching products", "err", err)
		http.Error(w, "search failed", http.StatusInternalServerError)
		return
	}
	type item struct {
		SKU         string `json:"sku"`
		GTIN        string `json:"gtin,omitempty"`
		Description string `json:"description"`
		Unit        string `json:"unit"`
		Price       string `json:"price,omitempty"`
		Currency    string `json:"currency,omitempty"`
	}
	out := make([]item, 0, len(ps))
	for _, p := range ps {
		it := item{SKU: p.SKU, GTIN: p.GTIN, Description: p.Description, Unit: p.Unit, Currency: p.Currency}
		if p.Price != nil {
			it.Price = p.Price.String()
		}
		out = append(out, it)
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
