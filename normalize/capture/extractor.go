package capture

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// DefaultThreshold is the confidence every field of a touchless draft
// reaches.
const DefaultThreshold = 0.9

// ErrNoOrder means the document holds neither an order line nor a PO
// number.
var ErrNoOrder = errors.New("no order found")

// Options configure Extract.
type Options struct {
	// Threshold is the confidence below which a field sends the draft to
	// review (DefaultThreshold when zero; the profile's when it has one).
	Threshold float64
	// Profile overrides the core for the sender (nil: none).
	Profile *Profile
	// Sender is what the channel knows about the sender.
	Sender Sender
	// MasterData confirms and corrects the draft (nil: no matching; every
	// unconfirmed item then stays below the threshold).
	MasterData MasterData
	// Channel and Standard go to the order (fax/PDF by default).
	Channel  order.Channel
	Standard string
	// Now is the reference date when the document has no fax header date
	// (time.Now when zero).
	Now time.Time
}

// FieldReport is what Extract concluded about one field.
type FieldReport struct {
	Path       string
	Read       string  // as read, "" when absent
	Value      string  // as put into the order
	Confidence float64 // 0..1
	Reason     string  // why the confidence is what it is
}

// Report explains a draft.
type Report struct {
	Kind      Kind
	Profile   string // the profile applied, "" for none
	Threshold float64
	Touchless bool // every field reached the threshold
	Fields    []FieldReport
}

// Low returns the fields below the threshold.
func (r *Report) Low() []FieldReport {
	var out []FieldReport
	for _, f := range r.Fields {
		if f.Confidence < r.Threshold {
			out = append(out, f)
		}
	}
	return out
}

type extraction struct {
	ctx  context.Context
	o    *order.Order
	rep  *Report
	rd   *reading
	opts Options
	md   MasterData
	ref  order.Date // reference date for plausibility
	cur  *rawLine   // the line being extracted
}

func (x *extraction) set(path string, r raw, value string, conf float64, reason string) {
	conf = math.Max(0, math.Min(1, conf))
	conf = math.Round(conf*1000) / 1000
	x.o.Confidence[path] = conf
	if r.found && r.box.Page > 0 {
		x.o.Boxes[path] = r.box
	} else if b, ok := x.evidenceBox(path); ok {
		x.o.Boxes[path] = b
	}
	if r.found && r.text != "" {
		// Where the value was read, with the text as read: the reviewer's
		// corrections are compared with it to learn a profile.
		x.o.SetProvenance(path, ReadProvenance(r.box.Page, r.text))
	}
	x.rep.Fields = append(x.rep.Fields, FieldReport{Path: path, Read: r.text, Value: value, Confidence: conf, Reason: reason})
}

// evidenceBox is the box of a field that was not read from one place
// but confirmed or derived: a line's field (a unit from the item master,
// an amount computed) points at its line, the lines at the table, a
// customer found by its fax number or name at where those were read.
func (x *extraction) evidenceBox(path string) (order.Box, bool) {
	var ws []order.Box
	add := func(r raw) {
		if r.found && r.box.Page > 0 {
			ws = append(ws, r.box)
		}
	}
	addLine := func(rl *rawLine) {
		for _, r := range []raw{rl.pos, rl.item, rl.gtin, rl.desc, rl.qty, rl.unit, rl.price, rl.amount} {
			add(r)
		}
	}
	switch {
	case path == "lines":
		for i := range x.rd.lines {
			addLine(&x.rd.lines[i])
		}
	case strings.HasPrefix(path, "lines[") && x.cur != nil:
		addLine(x.cur)
	case path == "customer_id":
		for _, p := range x.rd.phones {
			add(p)
		}
		if len(ws) == 0 && len(x.rd.names) > 0 {
			add(x.rd.names[0])
		}
		ws = ws[:min(1, len(ws))]
	}
	if len(ws) == 0 {
		return order.Box{}, false
	}
	// The union, on the first box's page.
	u := ws[0]
	for _, b := range ws[1:] {
		if b.Page != u.Page {
			continue
		}
		x0, y0 := math.Min(u.X, b.X), math.Min(u.Y, b.Y)
		x1, y1 := math.Max(u.X+u.W, b.X+b.W), math.Max(u.Y+u.H, b.Y+b.H)
		u = order.Box{Page: u.Page, X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
	}
	return u, true
}

// Extract turns a captured document into a draft order with a confidence
// and a box for every field it read (see the package documentation).
func Extract(ctx context.Context, d *Document, opts Options) (*order.Order, *Report, error) {
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.Profile != nil && opts.Profile.Threshold > 0 {
		opts.Threshold = opts.Profile.Threshold
	}
	if opts.Profile != nil && opts.Profile.PONumberPattern != "" && opts.Profile.poRe == nil {
		if err := opts.Profile.compile(); err != nil {
			return nil, nil, fmt.Errorf("compiling profile %s: %w", opts.Profile.Name, err)
		}
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	rd := read(d, opts.Profile)
	if len(rd.lines) == 0 && !rd.header[FieldPONumber].found {
		return nil, nil, ErrNoOrder
	}
	o := &order.Order{Channel: opts.Channel, Source: order.Source{Standard: opts.Standard}, Purpose: order.PurposeOriginal,
		Lines: []order.Line{}, Confidence: map[string]float64{}, Boxes: map[string]order.Box{}}
	if o.Channel == "" {
		o.Channel = order.ChannelFax
	}
	if o.Source.Standard == "" {
		o.Source.Standard = "PDF"
	}
	rep := &Report{Kind: d.Kind, Threshold: opts.Threshold}
	if opts.Profile != nil {
		rep.Profile = opts.Profile.Name
	}
	x := &extraction{ctx: ctx, o: o, rep: rep, rd: rd, opts: opts, md: opts.MasterData}
	x.ref = order.Date{Year: opts.Now.Year(), Month: opts.Now.Month(), Day: opts.Now.Day()}
	if rd.faxDate.found {
		// The fax machine's date, unless misread (far from now).
		if dv, ok := ParseDate(rd.faxDate.text, DMY); ok && abs(daysBetween(x.ref, dv.Date)) <= 400 {
			x.ref = dv.Date
		}
	}
	if err := x.header(); err != nil {
		return nil, nil, err
	}
	if err := x.customer(); err != nil {
		return nil, nil, err
	}
	if err := x.lines(); err != nil {
		return nil, nil, err
	}
	x.totals()
	for _, pg := range d.Pages {
		if pg.Width > 0 && pg.Height > 0 {
			// The page's size, with the fields' boxes: a reviewer's
			// correction is placed on the page by it (a region learned).
			o.Boxes[PagePath(pg.Number)] = order.Box{Page: pg.Number, W: pg.Width, H: pg.Height}
		}
	}
	for i, n := range rd.notes {
		// Free text for whoever handles the order, with where it was read;
		// no confidence: a note is passed on, never interpreted.
		path := fmt.Sprintf("notes[%d]", i)
		o.Notes = append(o.Notes, n.text)
		if n.box.Page > 0 {
			o.Boxes[path] = n.box
		}
		o.SetProvenance(path, ReadProvenance(n.box.Page, n.text))
	}
	rep.Touchless = len(o.Lines) > 0 && o.PONumber != ""
	for _, c := range o.Confidence {
		if c < opts.Threshold {
			rep.Touchless = false
		}
	}
	if rep.Touchless {
		o.Status = order.StatusReceived
	} else {
		o.Status = order.StatusReview
	}
	sort.SliceStable(rep.Fields, func(i, j int) bool { return fieldOrder(rep.Fields[i].Path) < fieldOrder(rep.Fields[j].Path) })
	return o, rep, nil
}

// PagePath is the key of page n's own box (its size) in a draft's Boxes.
func PagePath(n int) string { return fmt.Sprintf("pages[%d]", n) }

// PageSize returns a draft's page size from its boxes (0, 0 when it has
// none), for Corrections.
func PageSize(o *order.Order) func(page int) (w, h float64) {
	return func(page int) (float64, float64) {
		b := o.Boxes[PagePath(page)]
		return b.W, b.H
	}
}

func fieldOrder(p string) int {
	switch {
	case p == "po_number":
		return 0
	case p == "po_date":
		return 1
	case p == "customer_id":
		return 2
	case strings.HasPrefix(p, "lines"):
		return 3
	}
	return 4
}

// exact reports whether the document's words are exact (a text layer, a
// mail body, rows), not recognised.
func (x *extraction) exact() bool { return x.rd.kind != KindOCR }

func (x *extraction) header() error {
	po := x.rd.header[FieldPONumber]
	if po.found {
		v := strings.Trim(po.text, " .,:;")
		conf := po.conf * (0.9 + 0.1*po.label)
		reason := "read after its label"
		p := x.opts.Profile
		if p != nil && p.poRe != nil {
			if p.poRe.MatchString(v) {
				reason = "matches the sender's PO pattern"
			} else if rv, n := digitsRepaired(v); n > 0 && p.poRe.MatchString(rv) {
				v, conf, reason = rv, math.Min(conf, 0.8), "OCR slips repaired to the sender's PO pattern"
			} else {
				conf, reason = math.Min(conf, 0.3), "does not match the sender's PO pattern"
			}
		} else if !x.exact() && mixedSlip(v) {
			conf, reason = math.Min(conf, 0.75), "letters among digits (possible OCR slip)"
		}
		if !x.exact() && !cleanID(po.text) {
			// Stray marks read with the number ("632)", "_4328", "4500,"):
			// a character may be missing or extra.
			conf, reason = math.Min(conf, 0.5), "stray characters around the number"
		}
		x.o.PONumber = v
		x.set("po_number", po, v, conf, reason)
	} else {
		x.set("po_number", po, "", 0, "no PO number label found")
	}
	for _, f := range []struct {
		field, path string
		dst         *order.Date
		past, ahead int // plausible days before and after the reference date
	}{{FieldPODate, "po_date", &x.o.PODate, 366, 3}, {FieldDelivery, "requested_delivery", &x.o.RequestedDelivery, 30, 366}} {
		r := x.rd.header[f.field]
		if !r.found {
			if f.field == FieldPODate {
				x.set(f.path, r, "", 0, "no date label found")
			}
			continue
		}
		dv, ok := ParseDate(r.text, x.opts.Profile.dateOrder())
		if !ok {
			x.set(f.path, r, "", 0, "not a date")
			continue
		}
		*f.dst = dv.Date
		conf, reason := r.conf*(0.9+0.1*r.label), "read after its label"
		days := daysBetween(x.ref, dv.Date)
		switch {
		case dv.Ambiguous:
			conf, reason = math.Min(conf, 0.6), "day and month could be swapped; a profile's date_order decides"
		case days < -f.past || days > f.ahead:
			conf, reason = math.Min(conf, 0.5), fmt.Sprintf("implausible: %d days from %s", days, x.ref)
		case dv.Repaired > 0:
			conf, reason = math.Min(conf, 0.8), "OCR slips repaired"
		}
		x.set(f.path, r, dv.Date.String(), conf, reason)
	}
	if x.rd.currency != "" {
		x.o.Currency = x.rd.currency
	}
	return nil
}

// mixedSlip reports whether a mostly numeric token holds letters OCR
// confuses with digits.
func mixedSlip(s string) bool {
	_, n := digitsRepaired(s)
	if n == 0 {
		return false
	}
	for _, seg := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' }) {
		if _, k := digitsRepaired(seg); k > 0 {
			return true
		}
	}
	return false
}

// customer resolves the customer from the printed customer number, the
// sender's phone and fax numbers and e-mail address.
func (x *extraction) customer() error {
	printed := x.rd.header[FieldCustomerNumber]
	p := x.opts.Profile
	if x.md == nil {
		if p != nil && p.CustomerID != "" {
			x.o.CustomerID = p.CustomerID
			x.set("customer_id", raw{}, p.CustomerID, 0.95, "the sender profile's customer")
			return nil
		}
		if printed.found {
			x.o.CustomerID = strings.TrimSpace(printed.text)
			x.set("customer_id", printed, x.o.CustomerID, math.Min(printed.conf, 0.8), "read, not checked against master data")
		} else {
			x.set("customer_id", printed, "", 0, "no customer number found")
		}
		return nil
	}
	// Evidence from the sender: fax and phone numbers, e-mail address.
	evidence := map[string]string{}
	addEv := func(cs []Customer, why string) {
		for _, c := range cs {
			if _, ok := evidence[c.Number]; !ok {
				evidence[c.Number] = why
			}
		}
	}
	if x.opts.Sender.Fax != "" {
		cs, err := x.md.CustomersByPhone(x.ctx, x.opts.Sender.Fax)
		if err != nil {
			return fmt.Errorf("matching the sender's fax number: %w", err)
		}
		addEv(cs, "the sender's fax number")
	}
	for _, ph := range x.rd.phones {
		num, _ := digitsRepaired(ph.text)
		cs, err := x.md.CustomersByPhone(x.ctx, num)
		if err != nil {
			return fmt.Errorf("matching a phone number: %w", err)
		}
		addEv(cs, "a phone or fax number on the page")
	}
	if x.opts.Sender.Email != "" {
		cs, err := x.md.CustomersByEmail(x.ctx, x.opts.Sender.Email)
		if err != nil {
			return fmt.Errorf("matching the sender's address: %w", err)
		}
		addEv(cs, "the sender's e-mail address")
	}
	if p != nil && p.CustomerID != "" {
		addEv([]Customer{{Number: p.CustomerID}}, "the sender profile")
	}
	names := x.rd.names
	if x.opts.Sender.Name != "" {
		names = append([]raw{{text: x.opts.Sender.Name}}, names...)
	}
	for _, n := range names {
		cs, err := x.md.CustomersByName(x.ctx, n.text)
		if err != nil {
			return fmt.Errorf("matching the sender's name: %w", err)
		}
		addEv(cs, "the sender's name")
	}
	var found Customer
	ok := false
	if printed.found {
		for _, cand := range numberVariants(printed.text) {
			c, hit, err := x.md.CustomerByNumber(x.ctx, cand)
			if err != nil {
				return fmt.Errorf("matching the customer number: %w", err)
			}
			if hit {
				found, ok = c, true
				break
			}
		}
	}
	switch {
	case ok && evidence[found.Number] != "":
		x.o.CustomerID = found.Number
		x.set("customer_id", printed, found.Number, 0.99, "customer number in master data, confirmed by "+evidence[found.Number])
	case ok && len(evidence) > 0:
		x.o.CustomerID = found.Number
		x.set("customer_id", printed, found.Number, 0.4, "customer number in master data, but the sender is another customer")
	case ok:
		conf := 0.92
		if !x.exact() && printed.conf < 0.8 {
			conf = 0.85
		}
		x.o.CustomerID = found.Number
		x.set("customer_id", printed, found.Number, conf, "customer number in master data, no sender evidence")
	case len(evidence) == 1:
		for n, why := range evidence {
			x.o.CustomerID = n
			conf, reason := 0.92, "from "+why
			if printed.found {
				// A number was printed but is no customer: fine when it is
				// the sender's own number misread, else a human looks.
				conf = 0.6
				if near(numberVariants(printed.text), n) {
					conf, reason = 0.92, "from "+why+"; the printed number is it with OCR slips"
				}
			}
			x.set("customer_id", printed, n, conf, reason)
		}
	default:
		reason := "no customer found"
		if len(evidence) > 1 {
			reason = "the sender matches several customers"
		}
		x.set("customer_id", printed, "", 0, reason)
	}
	if x.o.CustomerID != "" {
		if c, hit, err := x.md.CustomerByNumber(x.ctx, x.o.CustomerID); err == nil && hit && x.o.Currency == "" {
			x.o.Currency = c.Currency
		}
	}
	return nil
}

// numberVariants returns an id as read, then with OCR slips repaired:
// each segment (between - / . _) as read, as digits and as letters, in
// every combination (ids have few segments).
func numberVariants(s string) []string {
	s = strings.ToUpper(strings.TrimSpace(strings.Trim(s, ".,:;")))
	s = strings.ReplaceAll(s, " ", "")
	out := []string{s}
	seen := map[string]bool{s: true}
	var segs []string
	var seps []rune
	cur := []rune{}
	for _, r := range s {
		if r == '-' || r == '/' || r == '.' || r == '_' {
			segs = append(segs, string(cur))
			seps = append(seps, r)
			cur = cur[:0]
			continue
		}
		cur = append(cur, r)
	}
	segs = append(segs, string(cur))
	if len(segs) > 5 {
		return out
	}
	var walk func(i int, acc string)
	walk = func(i int, acc string) {
		if i == len(segs) {
			if !seen[acc] {
				seen[acc] = true
				out = append(out, acc)
			}
			return
		}
		sep := ""
		if i < len(seps) {
			sep = string(seps[i])
		}
		vs := []string{segs[i], forceDigits(segs[i]), lettersRepaired(segs[i])}
		done := map[string]bool{}
		for _, v := range vs {
			if !done[v] {
				done[v] = true
				walk(i+1, acc+v+sep)
			}
		}
	}
	walk(0, "")
	return out
}

// forceDigits replaces every slip character by its digit.
func forceDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if d, ok := slips[r]; ok {
			b.WriteRune(d)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var letterSlips = map[rune]rune{'0': 'O', '1': 'I', '5': 'S', '8': 'B', '2': 'Z', '6': 'G'}

func lettersRepaired(s string) string {
	var b strings.Builder
	for _, r := range s {
		if l, ok := letterSlips[r]; ok {
			b.WriteRune(l)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (x *extraction) lines() error {
	for i, rl := range x.rd.lines {
		if err := x.line(i, rl); err != nil {
			return err
		}
		for _, title := range SortedFields(rl.unlabelled) {
			// What stood under a title the core does not know: a reviewer's
			// correction equal to it teaches a column hint.
			x.o.SetProvenance(UnlabelledPath(i, title), ReadProvenance(rl.unlabelled[title].box.Page, rl.unlabelled[title].text))
		}
	}
	return nil
}

// UnlabelledPath is the provenance path of what line i held under the
// table column titled title, which the core does not know:
// `lines[0].column "Stückpreis"`.
func UnlabelledPath(i int, title string) string {
	return fmt.Sprintf("lines[%d].column %q", i, title)
}

func (x *extraction) number(r raw) (Number, bool) {
	if !r.found {
		return Number{}, false
	}
	return ParseNumber(r.text, x.rd.locale)
}

func (x *extraction) line(i int, rl rawLine) error {
	x.cur = &rl
	defer func() { x.cur = nil }()
	l := order.Line{LineNo: fmt.Sprint(i + 1)}
	if rl.pos.found {
		if n, ok := ParseNumber(rl.pos.text, LocaleDE); ok && n.Value.IsInt() && n.Value.IsPos() {
			l.LineNo = n.Value.Trim(0).String()
		}
	}
	for _, prev := range x.o.Lines {
		if prev.LineNo == l.LineNo {
			l.LineNo = fmt.Sprint(i + 1)
		}
	}
	l.Description = strings.TrimSpace(rl.desc.text)
	qty, qok := x.number(rl.qty)
	price, pok := x.number(rl.price)
	amount, aok := x.number(rl.amount)
	if qok {
		l.Quantity = qty.Value
	}
	if pok {
		v := price.Value
		l.UnitPrice = &v
	}
	if aok {
		v := amount.Value
		l.Amount = &v
	}

	// The item.
	it, how, skuConf, err := x.item(rl)
	if err != nil {
		return err
	}
	printedID := strings.TrimSpace(rl.item.text)
	switch how {
	case "sku":
		l.SKU, l.SupplierPart = it.SKU, it.SKU
	case "part":
		l.SKU, l.BuyerPart = it.SKU, printedID
	case "gtin":
		l.SKU, l.GTIN = it.SKU, it.GTIN
	case "":
		l.SupplierPart = printedID
		if rl.gtin.found {
			l.GTIN = strings.TrimSpace(rl.gtin.text)
		}
	default:
		l.SKU = it.SKU
	}
	if rl.gtin.found && l.GTIN == "" {
		l.GTIN = strings.TrimSpace(rl.gtin.text)
	}

	// The unit.
	unitConf, unitReason := 0.0, ""
	if rl.unit.found {
		if u, ok := UnitCode(rl.unit.text); ok {
			l.Unit = u
			switch {
			case how != "" && it.HasUnit(u):
				unitConf, unitReason = 0.98, "a unit the item is sold in"
			case how != "":
				unitConf, unitReason = 0.4, "the item is not sold in "+u
			case x.exact():
				unitConf, unitReason = 0.9, "a known unit, item not in master data"
			default:
				unitConf, unitReason = math.Min(rl.unit.conf, 0.85), "a known unit, item not in master data"
			}
		} else if u, ok := unitNear(rl.unit.text); ok && how != "" && it.HasUnit(u) {
			l.Unit = u
			unitConf, unitReason = 0.9, "a unit the item is sold in, read with one OCR slip"
		} else {
			l.Unit = strings.ToUpper(strings.TrimSpace(rl.unit.text))
			unitConf, unitReason = 0.3, "unknown unit"
		}
	} else if how != "" {
		l.Unit = it.BaseUnit
		unitConf, unitReason = 0.93, "not printed: the item's base unit"
	} else {
		unitConf, unitReason = 0.3, "no unit"
	}

	// Master price.
	var master *Price
	if how != "" && x.md != nil && x.o.CustomerID != "" && qok {
		date := x.o.PODate
		if date.IsZero() {
			date = x.ref
		}
		base := qty.Value
		if l.Unit != "" && l.Unit != it.BaseUnit {
			base = decimal.Decimal{} // a pack unit's price is per pack: compare only base-unit lines
		}
		if !base.IsZero() {
			p, ok, err := x.md.PriceFor(x.ctx, x.o.CustomerID, it.SKU, base, date)
			if err != nil {
				return fmt.Errorf("reading the price of %s: %w", it.SKU, err)
			}
			if ok {
				master = &p
			}
		}
	}
	if !pok && master != nil {
		v := master.Amount
		l.UnitPrice, pok = &v, true
		price = Number{Value: v}
	}

	// The arithmetic: quantity x unit price = line amount.
	arith := false
	if qok && pok && aok {
		prod, err := qty.Value.Mul(price.Value)
		if err == nil {
			prod, err = prod.Round(amount.Value.Scale()), nil
			arith = err == nil && prod.Cmp(amount.Value) == 0
		}
	}
	priceMD := master != nil && pok && master.Amount.Cmp(price.Value) == 0
	// A price misread: the quantity and the amount as read agree with the
	// list price.
	priceFixed := false
	if !arith && master != nil && qok && aok && !priceMD {
		if prod, err := qty.Value.Mul(master.Amount); err == nil && prod.Round(amount.Value.Scale()).Cmp(amount.Value) == 0 {
			v := master.Amount
			l.UnitPrice, price, pok = &v, Number{Value: v}, true
			arith, priceMD, priceFixed = true, true, true
		}
	}
	// Price and amount both misread by a character each, consistent with
	// the list price: take it, for review.
	slipFixed := false
	if !arith && master != nil && qok && pok && aok && !priceMD && oneSlip(price.Value, master.Amount) {
		if prod, err := qty.Value.Mul(master.Amount); err == nil && oneSlip(amount.Value, prod.Round(amount.Value.Scale())) {
			v := master.Amount
			a := prod.Round(2)
			l.UnitPrice, l.Amount, price, pok = &v, &a, Number{Value: v}, true
			slipFixed = true
		}
	}
	// A quantity misread: the amount and the master price give it.
	if !arith && aok && priceMD && !price.Value.IsZero() {
		if q, err := amount.Value.Quo(price.Value); err == nil && q.IsInt() && q.IsPos() {
			l.Quantity, qok = q.Trim(0), true
			qty = Number{Value: l.Quantity, Repaired: 1}
			arith = true
		}
	}
	if !aok && qok && pok {
		if v, err := qty.Value.Mul(price.Value); err == nil {
			l.Amount = &v
		}
	}

	qConf, qReason := 0.0, "no quantity"
	if qok {
		switch {
		case arith && qty.Repaired > 0 && rl.qty.found && rl.qty.text != "" && !strings.Contains(rl.qty.text, l.Quantity.String()):
			qConf, qReason = 0.85, "derived from amount / list price"
		case arith:
			qConf, qReason = 0.98, "quantity x price = amount"
		case aok && pok:
			qConf, qReason = math.Min(conf(rl.qty, x), 0.5), "quantity x price differs from the amount"
		case x.exact():
			qConf, qReason = 0.92, "read from text; no amount to check"
		default:
			qConf, qReason = math.Min(conf(rl.qty, x), 0.8), "no amount to check"
		}
		if qty.Ambiguous && !arith {
			qConf = math.Min(qConf, 0.6)
		}
	}
	pConf, pReason := 0.0, "no price"
	switch {
	case slipFixed:
		pConf, pReason = 0.85, "price and amount read with slips; the list price fits both"
	case priceFixed:
		pConf, pReason = 0.95, "misread; the list price times the quantity gives the amount"
	case priceMD && (arith || !aok):
		pConf, pReason = 0.99, "the customer's list price"
	case arith:
		pConf, pReason = 0.95, "quantity x price = amount"
		if master != nil {
			pConf, pReason = 0.7, "differs from the customer's list price "+master.Amount.String()
		}
	case pok && rl.price.found:
		pConf, pReason = math.Min(conf(rl.price, x), 0.5), "not confirmed by amount or price list"
	case pok:
		pConf, pReason = 0.95, "not printed: the customer's list price"
	}
	aConf, aReason := 0.0, "no amount"
	if l.Amount != nil {
		switch {
		case slipFixed:
			aConf, aReason = 0.85, "read with a slip; computed from the list price"
			qConf, qReason = 0.85, "consistent with the list price and the amount read with a slip"
		case arith:
			aConf, aReason = 0.98, "quantity x price = amount"
		case aok:
			aConf, aReason = math.Min(conf(rl.amount, x), 0.5), "quantity x price differs"
		default:
			aConf, aReason = math.Min(pConf, qConf), "computed"
		}
	}
	if how != "" && priceMD && skuConf < 0.99 && skuConf >= 0.8 {
		skuConf = 0.97
	}
	skuReason := map[string]string{"sku": "our SKU", "part": "the customer's part number", "gtin": "the GTIN",
		"sku~": "our SKU with OCR slips repaired", "part~": "the customer's part number with OCR slips repaired",
		"fuzzy": "similar SKU or description", "": "not in master data"}[how]

	idx := len(x.o.Lines)
	x.o.Lines = append(x.o.Lines, l)
	itemRaw := rl.item
	if !itemRaw.found {
		itemRaw = rl.gtin
	}
	if !itemRaw.found {
		itemRaw = rl.desc
	}
	x.set(order.LinePath(idx, "sku"), itemRaw, l.SKU, skuConf, skuReason)
	x.set(order.LinePath(idx, "quantity"), rl.qty, l.Quantity.String(), qConf, qReason)
	x.set(order.LinePath(idx, "unit"), rl.unit, l.Unit, unitConf, unitReason)
	if l.UnitPrice != nil {
		x.set(order.LinePath(idx, "unit_price"), rl.price, l.UnitPrice.String(), pConf, pReason)
	} else {
		x.set(order.LinePath(idx, "unit_price"), rl.price, "", pConf, pReason)
	}
	if l.Amount != nil {
		x.set(order.LinePath(idx, "amount"), rl.amount, l.Amount.String(), aConf, aReason)
	}
	return nil
}

// conf is a raw value's recogniser confidence (1 for exact text).
func conf(r raw, x *extraction) float64 {
	if x.exact() {
		return 1
	}
	return r.conf
}

// item resolves a line's item: by our SKU, the customer's part number or
// the GTIN as read, then with OCR slips repaired, then by similarity.
func (x *extraction) item(rl rawLine) (Item, string, float64, error) {
	if x.md == nil {
		c := 0.0
		if rl.item.found {
			c = math.Min(conf(rl.item, x), 0.85)
		}
		return Item{}, "", c, nil
	}
	ctx := x.ctx
	var ids []string
	if rl.item.found {
		ids = append(ids, strings.Fields(rl.item.text)...)
	}
	if rl.gtin.found {
		ids = append(ids, strings.ReplaceAll(rl.gtin.text, " ", ""))
	}
	for pass := 0; pass < 2; pass++ {
		for _, id := range ids {
			cands := []string{strings.Trim(id, ".,;:")}
			if pass == 1 {
				cands = numberVariants(id)[1:]
			}
			for _, c := range cands {
				if c == "" {
					continue
				}
				suffix, base := "", 0.97
				if pass == 1 {
					suffix, base = "~", 0.88
				}
				if it, ok, err := x.md.ItemBySKU(ctx, c); err != nil {
					return Item{}, "", 0, fmt.Errorf("matching item %q: %w", c, err)
				} else if ok {
					return it, "sku" + suffix, base, nil
				}
				if x.o.CustomerID != "" {
					if it, ok, err := x.md.ItemByPartNumber(ctx, x.o.CustomerID, c); err != nil {
						return Item{}, "", 0, fmt.Errorf("matching part %q: %w", c, err)
					} else if ok {
						return it, "part" + suffix, base, nil
					}
				}
				if digitCount(c) >= 8 && digitCount(c) == len(c) && order.ValidGTIN(c) {
					if it, ok, err := x.md.ItemByGTIN(ctx, c); err != nil {
						return Item{}, "", 0, fmt.Errorf("matching GTIN %q: %w", c, err)
					} else if ok {
						return it, "gtin", base, nil
					}
				}
			}
		}
	}
	// Similarity: the id, then the description.
	for _, q := range []string{rl.item.text, rl.desc.text} {
		if strings.TrimSpace(q) == "" {
			continue
		}
		cs, err := x.md.FindItems(ctx, q, 2)
		if err != nil {
			return Item{}, "", 0, fmt.Errorf("searching items: %w", err)
		}
		if len(cs) > 0 && cs[0].Score >= 0.75 && (len(cs) == 1 || cs[0].Score-cs[1].Score >= 0.15) {
			return cs[0].Item, "fuzzy", math.Min(0.85, cs[0].Score), nil
		}
	}
	return Item{}, "", 0.2, nil
}

// totals checks the document total against the lines.
func (x *extraction) totals() {
	var sum decimal.Decimal
	sumOK := true
	for _, l := range x.o.Lines {
		if l.Amount == nil {
			sumOK = false
			break
		}
		var err error
		if sum, err = sum.Add(*l.Amount); err != nil {
			sumOK = false
			break
		}
	}
	t := x.rd.total
	tv, tok := x.number(t)
	n := len(x.o.Lines)
	switch {
	case tok && sumOK && tv.Value.Cmp(sum) == 0:
		v := tv.Value
		x.o.Totals = &order.Totals{Amount: &v, LineCount: &n}
		x.set("totals.amount", t, v.String(), 0.99, "the sum of the lines")
		x.set("lines", raw{}, fmt.Sprint(n), 0.99, "the lines add up to the total")
	case tok:
		v := tv.Value
		x.o.Totals = &order.Totals{Amount: &v}
		x.set("totals.amount", t, v.String(), math.Min(conf(t, x), 0.5), "differs from the sum of the lines "+sum.String())
		x.set("lines", raw{}, fmt.Sprint(n), 0.5, "the lines do not add up to the total: a line may be missing or misread")
	case x.exact():
		x.set("lines", raw{}, fmt.Sprint(n), 0.95, "read from text; no total to check")
	default:
		x.set("lines", raw{}, fmt.Sprint(n), 0.8, "no total to check that no line was missed")
	}
}

// oneSlip reports whether two amounts differ in exactly one digit of the
// same written length (an OCR slip such as 12,58 for 12,50).
func oneSlip(a, b decimal.Decimal) bool {
	sa, sb := a.String(), b.Pad(a.Scale()).String()
	if len(sa) != len(sb) || sa == sb {
		return false
	}
	diff := 0
	for i := range len(sa) {
		if sa[i] != sb[i] {
			diff++
		}
	}
	return diff == 1
}

// near reports whether one of the variants is within one edit of want.
func near(variants []string, want string) bool {
	for _, v := range variants {
		if editDistance(strings.ToUpper(v), strings.ToUpper(want)) <= 1 {
			return true
		}
	}
	return false
}

// daysBetween returns b - a in days (no overflow for any year).
func daysBetween(a, b order.Date) int {
	return int((b.Time().Unix() - a.Time().Unix()) / 86400)
}

// cleanID reports whether an id as read is only letters, digits and
// inner - / . _ (no stray marks at its ends or inside).
func cleanID(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case (r == '-' || r == '/' || r == '.' || r == '_') && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// ReadProvenance is a captured field's provenance: the page and the text
// as read there, `page 1 read "03/11/2026"` (page 0: no page, as for
// text and tables).
func ReadProvenance(page int, text string) string {
	if page > 0 {
		return fmt.Sprintf("page %d read %q", page, text)
	}
	return fmt.Sprintf("read %q", text)
}

// ReadText returns the text a ReadProvenance holds ("" when it holds
// none).
func ReadText(provenance string) string {
	i := strings.Index(provenance, "read \"")
	if i < 0 {
		return ""
	}
	s, err := strconv.Unquote(provenance[i+len("read "):])
	if err != nil {
		return ""
	}
	return s
}
