package capture

import (
	"fmt"
	"slices"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// Outcome compares a draft with the order as it should be (after review,
// or a fixture's truth), field by field.
type Outcome struct {
	Touchless bool
	// Header fields: po_number, po_date, customer_id: correct or not.
	Header map[string]bool
	// Lines: whole line correct (SKU, quantity, unit, unit price); the
	// longer of the two orders' line lists counts.
	LinesRight, LinesTotal int
	// Fields: every compared field; Wrong lists the wrong ones' paths.
	Fields int
	Wrong  []string
}

// HeaderFields are the header fields Compare checks.
var HeaderFields = []string{"po_number", "po_date", "customer_id"}

// OrderFields are the further order fields Compare checks (counted among
// all fields, not among the header fields of the accuracy bars).
var OrderFields = []string{"requested_delivery", "currency", "totals.amount"}

// LineFields are the line fields Compare checks.
var LineFields = []string{"sku", "quantity", "unit", "unit_price"}

// Compare compares draft with want: the header fields, the requested
// delivery date, the currency, the document total and per line SKU,
// quantity, unit and unit price. The draft's status says whether it went
// on without review.
func Compare(draft, want *order.Order) Outcome {
	out := Outcome{Touchless: draft.Status != order.StatusReview, Header: map[string]bool{}}
	check := func(path string, ok bool) {
		out.Fields++
		if !ok {
			out.Wrong = append(out.Wrong, path)
		}
	}
	for _, f := range HeaderFields {
		var ok bool
		switch f {
		case "po_number":
			ok = draft.PONumber == want.PONumber
		case "po_date":
			ok = draft.PODate == want.PODate
		case "customer_id":
			ok = draft.CustomerID == want.CustomerID
		}
		out.Header[f] = ok
		check(f, ok)
	}
	for _, f := range OrderFields {
		switch f {
		case "requested_delivery":
			check(f, draft.RequestedDelivery == want.RequestedDelivery)
		case "currency":
			check(f, draft.Currency == want.Currency)
		case "totals.amount":
			check(f, totalAmount(draft).Cmp(totalAmount(want)) == 0 && hasTotal(draft) == hasTotal(want))
		}
	}
	// Lines are paired by the longest common subsequence of SKUs, so that
	// a missed or an extra line costs one line, not every line after it;
	// lines left over are paired in order, the rest are wrong.
	pairs := alignLines(draft.Lines, want.Lines)
	out.LinesTotal = len(pairs)
	for _, p := range pairs {
		i, j := p[0], p[1]
		if i < 0 || j < 0 {
			k := max(i, j)
			for _, f := range LineFields {
				check(order.LinePath(k, f), false)
			}
			continue
		}
		d, w := draft.Lines[i], want.Lines[j]
		right := true
		for _, f := range LineFields {
			var ok bool
			switch f {
			case "sku":
				ok = d.SKU == w.SKU
			case "quantity":
				ok = d.Quantity.Cmp(w.Quantity) == 0
			case "unit":
				ok = d.Unit == w.Unit
			case "unit_price":
				ok = d.UnitPrice != nil && w.UnitPrice != nil && d.UnitPrice.Cmp(*w.UnitPrice) == 0
			}
			check(order.LinePath(i, f), ok)
			right = right && ok
		}
		if right {
			out.LinesRight++
		}
	}
	return out
}

func hasTotal(o *order.Order) bool { return o.Totals != nil && o.Totals.Amount != nil }

func totalAmount(o *order.Order) decimal.Decimal {
	if !hasTotal(o) {
		return decimal.Zero
	}
	return *o.Totals.Amount
}

// Tally adds up outcomes, per group (a sender, a layout and resolution).
type Tally struct {
	Docs, Touchless, TouchlessWrong int
	HeaderRight, HeaderTotal        int
	LinesRight, LinesTotal          int
	FieldsRight, FieldsTotal        int
	AutoFields, AutoFieldsWrong     int // fields of touchless documents
}

// Add counts one outcome.
func (t *Tally) Add(o Outcome) {
	t.Docs++
	for _, ok := range o.Header {
		t.HeaderTotal++
		if ok {
			t.HeaderRight++
		}
	}
	t.LinesRight += o.LinesRight
	t.LinesTotal += o.LinesTotal
	t.FieldsTotal += o.Fields
	t.FieldsRight += o.Fields - len(o.Wrong)
	if o.Touchless {
		t.Touchless++
		t.AutoFields += o.Fields
		t.AutoFieldsWrong += len(o.Wrong)
		if len(o.Wrong) > 0 {
			t.TouchlessWrong++
		}
	}
}

// Merge adds another tally.
func (t *Tally) Merge(u Tally) {
	t.Docs += u.Docs
	t.Touchless += u.Touchless
	t.TouchlessWrong += u.TouchlessWrong
	t.HeaderRight += u.HeaderRight
	t.HeaderTotal += u.HeaderTotal
	t.LinesRight += u.LinesRight
	t.LinesTotal += u.LinesTotal
	t.FieldsRight += u.FieldsRight
	t.FieldsTotal += u.FieldsTotal
	t.AutoFields += u.AutoFields
	t.AutoFieldsWrong += u.AutoFieldsWrong
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// HeaderAccuracy is the share of header fields right.
func (t Tally) HeaderAccuracy() float64 { return ratio(t.HeaderRight, t.HeaderTotal) }

// LineAccuracy is the share of whole lines right.
func (t Tally) LineAccuracy() float64 { return ratio(t.LinesRight, t.LinesTotal) }

// FieldAccuracy is the share of all fields right.
func (t Tally) FieldAccuracy() float64 { return ratio(t.FieldsRight, t.FieldsTotal) }

// TouchlessRate is the share of documents that went on without review.
func (t Tally) TouchlessRate() float64 { return ratio(t.Touchless, t.Docs) }

// AutoErrorRate is the share of wrong fields among the fields of touchless
// documents.
func (t Tally) AutoErrorRate() float64 { return ratio(t.AutoFieldsWrong, t.AutoFields) }

// Row formats the tally as a Markdown table row after the group's cells.
func (t Tally) Row(cells ...string) string {
	s := ""
	for _, c := range cells {
		s += "| " + c + " "
	}
	return s + fmt.Sprintf("| %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %d | %.2f%% |",
		t.Docs, 100*t.HeaderAccuracy(), 100*t.LineAccuracy(), 100*t.FieldAccuracy(), 100*t.TouchlessRate(), t.TouchlessWrong, 100*t.AutoErrorRate())
}

// SortedKeys returns a map's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// alignLines pairs draft and wanted lines (indexes, -1 for none): the
// longest common subsequence by SKU, then what is left between matches in
// order.
func alignLines(d, w []order.Line) [][2]int {
	n, m := len(d), len(w)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if d[i].SKU != "" && d[i].SKU == w[j].SKU {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out [][2]int
	var di, wi []int // unmatched since the last match
	flush := func() {
		for k := 0; k < max(len(di), len(wi)); k++ {
			p := [2]int{-1, -1}
			if k < len(di) {
				p[0] = di[k]
			}
			if k < len(wi) {
				p[1] = wi[k]
			}
			out = append(out, p)
		}
		di, wi = di[:0], wi[:0]
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case d[i].SKU != "" && d[i].SKU == w[j].SKU:
			flush()
			out = append(out, [2]int{i, j})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			di = append(di, i)
			i++
		default:
			wi = append(wi, j)
			j++
		}
	}
	for ; i < n; i++ {
		di = append(di, i)
	}
	for ; j < m; j++ {
		wi = append(wi, j)
	}
	flush()
	return out
}
