package capture

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/normalize/order"
)

// Correction is one field a reviewer corrected: labelled data for
// learning a sender's profile. Stored by the caller (the review queue),
// one per corrected field.
type Correction struct {
	Sender string `json:"sender"` // the profile name or sender key
	Path   string `json:"path"`   // po_number, po_date, lines[2].quantity, ...
	Draft  string `json:"draft"`  // the draft's value ("" when missing)
	Value  string `json:"value"`  // the reviewer's value
	// Read is the text as read from the page, when the draft had it.
	Read string `json:"read,omitempty"`
	// Box is where the reviewer's value is on the page, when the draft
	// had a box for the field or the reviewer marked one; PageW and PageH
	// are the page's size in the same units.
	Box   *order.Box `json:"box,omitempty"`
	PageW float64    `json:"page_w,omitempty"`
	PageH float64    `json:"page_h,omitempty"`
	// Columns are, for a line's field, the texts the line held under
	// table column titles the core does not know, by title.
	Columns map[string]string `json:"columns,omitempty"`
}

// Corrections compares a draft with the order as the reviewer released
// it and returns the corrected fields: the header fields and, per line,
// sku, quantity, unit and unit price. read gives the text read for a path
// (from the extraction Report) and may be nil.
func Corrections(sender string, draft, final *order.Order, read func(path string) string, pageSize func(page int) (w, h float64)) []Correction {
	var out []Correction
	add := func(path, d, v string) {
		if d == v {
			return
		}
		c := Correction{Sender: sender, Path: path, Draft: d, Value: v}
		if read != nil {
			c.Read = read(path)
		}
		if strings.HasPrefix(path, "lines[") {
			line := path[:strings.IndexByte(path, ']')+1]
			for k, where := range draft.Provenance.Map() {
				if title, ok := strings.CutPrefix(k, line+".column "); ok {
					if t, err := strconv.Unquote(title); err == nil {
						if c.Columns == nil {
							c.Columns = map[string]string{}
						}
						c.Columns[t] = ReadText(where)
					}
				}
			}
		}
		if b, ok := draft.Boxes[path]; ok {
			bb := b
			c.Box = &bb
			if pageSize != nil {
				c.PageW, c.PageH = pageSize(b.Page)
			}
		}
		out = append(out, c)
	}
	add("po_number", draft.PONumber, final.PONumber)
	add("po_date", draft.PODate.String(), final.PODate.String())
	add("customer_id", draft.CustomerID, final.CustomerID)
	add("requested_delivery", draft.RequestedDelivery.String(), final.RequestedDelivery.String())
	for i := range max(len(draft.Lines), len(final.Lines)) {
		var d, f order.Line
		if i < len(draft.Lines) {
			d = draft.Lines[i]
		}
		if i < len(final.Lines) {
			f = final.Lines[i]
		}
		add(order.LinePath(i, "sku"), d.SKU, f.SKU)
		add(order.LinePath(i, "quantity"), decString(d.Quantity.String(), i < len(draft.Lines)), decString(f.Quantity.String(), i < len(final.Lines)))
		add(order.LinePath(i, "unit"), d.Unit, f.Unit)
		add(order.LinePath(i, "unit_price"), ptrString(d.UnitPrice), ptrString(f.UnitPrice))
	}
	return out
}

func decString(s string, present bool) string {
	if !present {
		return ""
	}
	return s
}

func ptrString[T fmt.Stringer](p *T) string {
	if p == nil {
		return ""
	}
	return (*p).String()
}

// Proposal is a profile learned from corrections, with the evidence.
type Proposal struct {
	Profile Profile
	Why     []string
}

// ProposeProfile derives a profile for a sender from reviewer
// corrections: the date order when dates were corrected to the other
// reading of day and month, the locale when numbers were corrected to the
// other reading of the separators, a PO number pattern from the corrected
// PO numbers, regions for header fields the reviewer had to find on the
// page (placed by the draft's page sizes, PagePath), and column hints:
// the unknown table column title under which corrected line values stood
// (UnlabelledPath). It proposes only what at least two corrections agree
// on and none contradicts.
func ProposeProfile(name string, cs []Correction) Proposal {
	p := Proposal{Profile: Profile{Name: name}}
	votes := map[string]int{}
	var pos []string
	regions := map[string][]Correction{}
	columns := map[string]int{} // column kind NUL title -> votes
	for _, c := range cs {
		field := c.Path
		if i := strings.IndexByte(field, '.'); i >= 0 && strings.HasPrefix(field, "lines[") {
			field = field[i+1:]
		}
		if kind := lineColumn[field]; kind != "" {
			for title, text := range c.Columns {
				if sameValue(text, c.Value) {
					columns[kind+"\x00"+title]++
				}
			}
		}
		switch field {
		case "po_date", "requested_delivery":
			src := c.Read
			if src == "" {
				src = c.Draft
			}
			for _, ord := range []DateOrder{DMY, MDY} {
				if dv, ok := ParseDate(src, ord); ok && dv.Date.String() == c.Value && c.Read != "" {
					votes["date:"+string(ord)]++
				}
			}
		case "quantity", "unit_price":
			if c.Read == "" {
				continue
			}
			for _, loc := range []Locale{LocaleDE, LocaleEN} {
				if n, ok := ParseNumber(c.Read, loc); ok {
					if want, ok := ParseNumber(c.Value, LocaleEN); ok && n.Value.Cmp(want.Value) == 0 {
						votes["locale:"+string(loc)]++
					}
				}
			}
		case "po_number":
			if c.Value != "" {
				pos = append(pos, c.Value)
			}
		}
		if _, header := headerLabels[headerField(c.Path)]; header && c.Box != nil && c.PageW > 0 && c.PageH > 0 {
			regions[headerField(c.Path)] = append(regions[headerField(c.Path)], c)
		}
	}
	decide := func(a, b string) (string, int) {
		va, vb := votes[a], votes[b]
		switch {
		case va >= 2 && vb == 0:
			return a, va
		case vb >= 2 && va == 0:
			return b, vb
		}
		return "", 0
	}
	if d, n := decide("date:DMY", "date:MDY"); d != "" {
		p.Profile.DateOrder = DateOrder(strings.TrimPrefix(d, "date:"))
		p.Why = append(p.Why, fmt.Sprintf("date_order %s: %d date corrections", p.Profile.DateOrder, n))
	}
	if l, n := decide("locale:de", "locale:en"); l != "" {
		p.Profile.Locale = Locale(strings.TrimPrefix(l, "locale:"))
		p.Why = append(p.Why, fmt.Sprintf("locale %s: %d number corrections", p.Profile.Locale, n))
	}
	if pat, ok := commonShape(pos); ok && len(pos) >= 2 {
		p.Profile.PONumberPattern = pat
		p.Why = append(p.Why, fmt.Sprintf("po_pattern %s: %d corrected PO numbers", pat, len(pos)))
	}
	titles := map[string][]string{}
	for _, k := range SortedFields(columns) {
		kind, title, _ := strings.Cut(k, "\x00")
		if columns[k] >= 2 {
			titles[kind] = append(titles[kind], title)
		}
	}
	for _, kind := range SortedFields(titles) {
		if ts := titles[kind]; len(ts) == 1 {
			if p.Profile.Columns == nil {
				p.Profile.Columns = map[string][]string{}
			}
			p.Profile.Columns[kind] = ts
			p.Why = append(p.Why, fmt.Sprintf("columns.%s %q: %d corrections found the value under that title", kind, ts[0], columns[kind+"\x00"+ts[0]]))
		}
	}
	for _, f := range SortedFields(regions) {
		rs := regions[f]
		if len(rs) < 2 {
			continue
		}
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, c := range rs {
			x0, y0 = math.Min(x0, c.Box.X/c.PageW), math.Min(y0, c.Box.Y/c.PageH)
			x1, y1 = math.Max(x1, (c.Box.X+c.Box.W)/c.PageW), math.Max(y1, (c.Box.Y+c.Box.H)/c.PageH)
		}
		const m = 0.02
		rg := &Region{Page: rs[0].Box.Page, X: math.Max(0, x0-m), Y: math.Max(0, y0-m), W: x1 - x0 + 2*m, H: y1 - y0 + 2*m}
		if p.Profile.Fields == nil {
			p.Profile.Fields = map[string]FieldHint{}
		}
		p.Profile.Fields[f] = FieldHint{Region: rg}
		p.Why = append(p.Why, fmt.Sprintf("fields.%s.region: %d corrections found it there", f, len(rs)))
	}
	return p
}

// lineColumn is the table column kind of a line field.
var lineColumn = map[string]string{"sku": ColItem, "quantity": ColQty, "unit": ColUnit, "unit_price": ColPrice}

// sameValue reports whether text as read is the value: equal as text, or
// as a number in either locale.
func sameValue(text, value string) bool {
	text, value = strings.TrimSpace(text), strings.TrimSpace(value)
	if text == "" || value == "" {
		return false
	}
	if strings.EqualFold(text, value) {
		return true
	}
	want, ok := ParseNumber(value, LocaleEN)
	if !ok {
		return false
	}
	for _, loc := range []Locale{LocaleDE, LocaleEN} {
		if n, ok := ParseNumber(text, loc); ok && n.Value.Cmp(want.Value) == 0 {
			return true
		}
	}
	return false
}

func headerField(path string) string {
	switch path {
	case "po_number":
		return FieldPONumber
	case "po_date":
		return FieldPODate
	case "customer_id":
		return FieldCustomerNumber
	case "requested_delivery":
		return FieldDelivery
	}
	return ""
}

// SortedFields returns a map's keys in order.
func SortedFields[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// shape writes a value as a pattern: runs of digits become \d{n}, other
// characters stay literal.
func shape(s string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(s); {
		if s[i] >= '0' && s[i] <= '9' {
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			fmt.Fprintf(&b, `\d{%d}`, j-i)
			i = j
			continue
		}
		b.WriteString(regexp.QuoteMeta(s[i : i+1]))
		i++
	}
	b.WriteString("$")
	return b.String()
}

// commonShape returns the shape all values share.
func commonShape(vs []string) (string, bool) {
	if len(vs) == 0 {
		return "", false
	}
	s := shape(vs[0])
	for _, v := range vs[1:] {
		if shape(v) != s {
			return "", false
		}
	}
	return s, true
}
