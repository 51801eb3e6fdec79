package web

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"strconv"
	"strings"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// fieldDef is one editable field of a draft: its path (the key of
// Confidence and Boxes), how to read it and how to write it.
type fieldDef struct {
	Path  string
	Label string
	Group string
	Type  string // text | date | number
	get   func(*order.Order) string
	set   func(*order.Order, string) error
}

func decString(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func parseOptDecimal(s string) (*decimal.Decimal, error) {
	if s == "" {
		return nil, nil
	}
	d, err := decimal.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return &d, nil
}

func dateString(d order.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

func parseOptDate(s string) (order.Date, error) {
	if s == "" {
		return order.Date{}, nil
	}
	return order.ParseDate(s)
}

func textField(path, label, group string, ptr func(*order.Order) *string) fieldDef {
	return fieldDef{Path: path, Label: label, Group: group, Type: "text",
		get: func(o *order.Order) string { return *ptr(o) },
		set: func(o *order.Order, v string) error { *ptr(o) = v; return nil }}
}

// partyAddress returns party i's address, adding an empty one when it has
// none (only setters call it: getters must not change the order).
func partyAddress(o *order.Order, i int) *order.Address {
	if o.Parties[i].Address == nil {
		o.Parties[i].Address = &order.Address{}
	}
	return o.Parties[i].Address
}

func addrField(i int, field, label, group string, ptr func(*order.Address) *string) fieldDef {
	return fieldDef{Path: order.PartyPath(i, field), Label: label, Group: group, Type: "text",
		get: func(o *order.Order) string {
			if o.Parties[i].Address == nil {
				return ""
			}
			return *ptr(o.Parties[i].Address)
		},
		set: func(o *order.Order, v string) error { *ptr(partyAddress(o, i)) = v; return nil }}
}

// draftFields lists the editable fields of an order: the header, each
// party's name, id and address, each line's item and figures.
func draftFields(o *order.Order) []fieldDef {
	fs := []fieldDef{
		textField("po_number", "PO number", "Order", func(o *order.Order) *string { return &o.PONumber }),
		{Path: "po_date", Label: "PO date", Group: "Order", Type: "date",
			get: func(o *order.Order) string { return dateString(o.PODate) },
			set: func(o *order.Order, v string) (err error) { o.PODate, err = parseOptDate(v); return err }},
		{Path: "requested_delivery", Label: "Requested delivery", Group: "Order", Type: "date",
			get: func(o *order.Order) string { return dateString(o.RequestedDelivery) },
			set: func(o *order.Order, v string) (err error) { o.RequestedDelivery, err = parseOptDate(v); return err }},
		textField("currency", "Currency", "Order", func(o *order.Order) *string { return &o.Currency }),
		textField("customer_id", "Customer", "Order", func(o *order.Order) *string { return &o.CustomerID }),
	}
	for i := range o.Parties {
		i := i
		group := "Party: " + o.Parties[i].Role
		addr := func(o *order.Order) *order.Address { return partyAddress(o, i) }
		fs = append(fs,
			textField(order.PartyPath(i, "name"), "Name", group, func(o *order.Order) *string { return &o.Parties[i].Name }),
			textField(order.PartyPath(i, "id"), "Id", group, func(o *order.Order) *string { return &o.Parties[i].ID }),
			fieldDef{Path: order.PartyPath(i, "address.lines"), Label: "Street", Group: group, Type: "text",
				get: func(o *order.Order) string {
					if o.Parties[i].Address == nil {
						return ""
					}
					return strings.Join(o.Parties[i].Address.Lines, "; ")
				},
				set: func(o *order.Order, v string) error {
					a := addr(o)
					a.Lines = nil
					for _, l := range strings.Split(v, ";") {
						if l = strings.TrimSpace(l); l != "" {
							a.Lines = append(a.Lines, l)
						}
					}
					return nil
				}},
			addrField(i, "address.postal_code", "Postal code", group, func(a *order.Address) *string { return &a.PostalCode }),
			addrField(i, "address.city", "City", group, func(a *order.Address) *string { return &a.City }),
			addrField(i, "address.country", "Country", group, func(a *order.Address) *string { return &a.Country }),
		)
	}
	for i := range o.Lines {
		i := i
		group := "Line " + strconv.Itoa(i+1)
		fs = append(fs,
			fieldDef{Path: order.LinePath(i, "quantity"), Label: "Quantity", Group: group, Type: "number",
				get: func(o *order.Order) string { return o.Lines[i].Quantity.String() },
				set: func(o *order.Order, v string) error {
					d, err := decimal.Parse(v)
					if err != nil {
						return fmt.Errorf("%q is not a number", v)
					}
					o.Lines[i].Quantity = d
					return nil
				}},
			textField(order.LinePath(i, "unit"), "Unit", group, func(o *order.Order) *string { return &o.Lines[i].Unit }),
			textField(order.LinePath(i, "sku"), "SKU", group, func(o *order.Order) *string { return &o.Lines[i].SKU }),
			textField(order.LinePath(i, "gtin"), "GTIN", group, func(o *order.Order) *string { return &o.Lines[i].GTIN }),
			textField(order.LinePath(i, "buyer_part"), "Buyer part", group, func(o *order.Order) *string { return &o.Lines[i].BuyerPart }),
			textField(order.LinePath(i, "description"), "Description", group, func(o *order.Order) *string { return &o.Lines[i].Description }),
			fieldDef{Path: order.LinePath(i, "unit_price"), Label: "Unit price", Group: group, Type: "number",
				get: func(o *order.Order) string { return decString(o.Lines[i].UnitPrice) },
				set: func(o *order.Order, v string) (err error) { o.Lines[i].UnitPrice, err = parseOptDecimal(v); return err }},
		)
	}
	return fs
}

// fieldView is a field as the review page shows it.
type fieldView struct {
	Path       string
	ID         string // the HTML id
	Label      string
	Type       string
	Value      string
	Confidence string // "" when the extractor gave none
	Low        bool
	Box        *order.Box
	Err        string
}

type fieldGroup struct {
	Name   string
	Fields []fieldView
}

type pageView struct {
	N      int
	Width  int
	Height int
	Boxes  []boxView
}

type boxView struct {
	FieldID    string
	Low        bool
	X, Y, W, H float64
}

type reviewData struct {
	Draft   Draft
	Groups  []fieldGroup
	Pages   []pageView
	Low     int
	Comment string
	Errors  []string
}

func fieldID(path string) string {
	r := strings.NewReplacer("[", "-", "]", "", ".", "-")
	return "f-" + r.Replace(path)
}

// reviewView builds the page's view of a draft; values and errors override
// the draft's values for a re-shown form.
func reviewView(d Draft, values map[string]string, errs map[string]string) (reviewData, error) {
	th := d.Threshold
	if th <= 0 {
		th = DefaultConfidenceThreshold
	}
	rd := reviewData{Draft: d}
	boxesByPage := map[int][]boxView{}
	o := d.Order
	for _, f := range draftFields(&o) {
		v := fieldView{Path: f.Path, ID: fieldID(f.Path), Label: f.Label, Type: f.Type, Value: f.get(&o), Err: errs[f.Path]}
		if nv, ok := values[f.Path]; ok {
			v.Value = nv
		}
		if c, ok := o.Confidence[f.Path]; ok {
			v.Confidence = strconv.FormatFloat(c*100, 'f', 0, 64) + "%"
			v.Low = c < th
			if v.Low {
				rd.Low++
			}
		}
		if b, ok := o.Boxes[f.Path]; ok {
			bb := b
			v.Box = &bb
			boxesByPage[b.Page] = append(boxesByPage[b.Page], boxView{FieldID: v.ID, Low: v.Low, X: b.X, Y: b.Y, W: b.W, H: b.H})
		}
		if n := len(rd.Groups); n == 0 || rd.Groups[n-1].Name != f.Group {
			rd.Groups = append(rd.Groups, fieldGroup{Name: f.Group})
		}
		g := &rd.Groups[len(rd.Groups)-1]
		g.Fields = append(g.Fields, v)
	}
	for i, img := range d.Pages {
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		if err != nil {
			return reviewData{}, fmt.Errorf("reading page %d of draft %s: %w", i+1, d.ID, err)
		}
		rd.Pages = append(rd.Pages, pageView{N: i + 1, Width: cfg.Width, Height: cfg.Height, Boxes: boxesByPage[i+1]})
	}
	return rd, nil
}

func (u *UI) reviewQueue(w http.ResponseWriter, r *http.Request, s *session) {
	ds, err := u.svc.ReviewQueue(r.Context())
	if err != nil {
		u.serviceError(w, r, s, "reading the review queue", err)
		return
	}
	u.render(w, r, s, http.StatusOK, "review_queue.html", page{Title: "Review queue", Data: ds})
}

func (u *UI) reviewDraft(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := u.svc.GetDraft(r.Context(), r.PathValue("id"))
	if err != nil {
		u.serviceError(w, r, s, "reading the draft", err)
		return
	}
	rd, err := reviewView(d, nil, nil)
	if err != nil {
		u.serviceError(w, r, s, "reading the draft", err)
		return
	}
	u.render(w, r, s, http.StatusOK, "review_draft.html", page{Title: "Review " + d.ID, Data: rd})
}

func (u *UI) reviewPageImage(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := u.svc.GetDraft(r.Context(), r.PathValue("id"))
	if err != nil {
		u.serviceError(w, r, s, "reading the draft", err)
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(d.Pages) {
		u.renderError(w, r, s, http.StatusNotFound, "No such page.")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Write(d.Pages[n-1])
}

// reviewAccept applies the reviewer's edits to the draft's order, checks
// it and hands it on with the list of corrections.
func (u *UI) reviewAccept(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d, err := u.svc.GetDraft(ctx, r.PathValue("id"))
	if err != nil {
		u.serviceError(w, r, s, "reading the draft", err)
		return
	}
	corrected := cloneOrder(d.Order)
	values := map[string]string{}
	errs := map[string]string{}
	var changes []FieldChange
	for _, f := range draftFields(&corrected) {
		if _, ok := r.PostForm[f.Path]; !ok {
			continue
		}
		nv := strings.TrimSpace(r.PostForm.Get(f.Path))
		values[f.Path] = nv
		old := f.get(&d.Order)
		if nv == old {
			continue
		}
		if err := f.set(&corrected, nv); err != nil {
			errs[f.Path] = err.Error()
			continue
		}
		changes = append(changes, FieldChange{Path: f.Path, Old: old, New: nv})
		// A human has confirmed the value: full confidence.
		if corrected.Confidence != nil {
			corrected.Confidence[f.Path] = 1
		}
	}
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	var problems []string
	if len(errs) == 0 {
		if err := corrected.Validate(); err != nil {
			problems = strings.Split(err.Error(), "\n")
		}
	}
	if len(errs) > 0 || len(problems) > 0 {
		rd, err := reviewView(d, values, errs)
		if err != nil {
			u.serviceError(w, r, s, "reading the draft", err)
			return
		}
		rd.Comment, rd.Errors = comment, problems
		u.render(w, r, s, http.StatusUnprocessableEntity, "review_draft.html", page{Title: "Review " + d.ID, Data: rd})
		return
	}
	orderID, err := u.svc.AcceptDraft(ctx, DraftDecision{DraftID: d.ID, Order: &corrected, Changes: changes, User: s.user.Name, Comment: comment})
	if err != nil {
		u.serviceError(w, r, s, "accepting the draft", err)
		return
	}
	u.audit(ctx, s.user.Name, "draft.accept", d.ID, map[string]any{"order_id": orderID, "changes": changes, "comment": comment})
	u.log.InfoContext(ctx, "web: draft accepted", "user", s.user.Name, "draft", d.ID, "order_id", orderID, "corrections", len(changes))
	redirect(w, r, "/orders/"+orderID+"?notice=accepted")
}

func (u *UI) reviewReject(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, s, http.StatusBadRequest, "The form could not be read.")
		return
	}
	id := r.PathValue("id")
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	if comment == "" {
		d, err := u.svc.GetDraft(ctx, id)
		if err != nil {
			u.serviceError(w, r, s, "reading the draft", err)
			return
		}
		rd, err := reviewView(d, nil, nil)
		if err != nil {
			u.serviceError(w, r, s, "reading the draft", err)
			return
		}
		rd.Errors = []string{"Say why the draft is rejected."}
		u.render(w, r, s, http.StatusUnprocessableEntity, "review_draft.html", page{Title: "Review " + d.ID, Data: rd})
		return
	}
	if err := u.svc.RejectDraft(ctx, DraftDecision{DraftID: id, User: s.user.Name, Comment: comment}); err != nil {
		u.serviceError(w, r, s, "rejecting the draft", err)
		return
	}
	u.audit(ctx, s.user.Name, "draft.reject", id, map[string]any{"comment": comment})
	u.log.InfoContext(ctx, "web: draft rejected", "user", s.user.Name, "draft", id)
	redirect(w, r, "/review?notice=draftreject")
}

// cloneOrder deep-copies the parts of an order the review edits.
func cloneOrder(o order.Order) order.Order {
	c := o
	c.Parties = make([]order.Party, len(o.Parties))
	for i, p := range o.Parties {
		c.Parties[i] = p
		if p.Address != nil {
			a := *p.Address
			a.Lines = append([]string(nil), p.Address.Lines...)
			c.Parties[i].Address = &a
		}
	}
	c.Lines = append([]order.Line(nil), o.Lines...)
	c.Notes = append([]string(nil), o.Notes...)
	if o.Confidence != nil {
		c.Confidence = make(map[string]float64, len(o.Confidence))
		for k, v := range o.Confidence {
			c.Confidence[k] = v
		}
	}
	if o.Boxes != nil {
		c.Boxes = make(map[string]order.Box, len(o.Boxes))
		for k, v := range o.Boxes {
			c.Boxes[k] = v
		}
	}
	c.Holds = append([]order.Hold(nil), o.Holds...)
	return c
}
