package edifact

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ResponseFunction is the ORDRSP BGM 1225 message function.
type ResponseFunction string

// The answers an order response gives to the whole order.
const (
	ResponseAccepted    ResponseFunction = "29" // accepted without amendment
	ResponseNotAccepted ResponseFunction = "27" // not accepted
	ResponseChanged     ResponseFunction = "4"  // change (accepted with amendments)
)

// LineAction is the ORDRSP LIN 1229 action request for one line.
type LineAction string

// The answers an order response gives to one line.
const (
	LineAccepted    LineAction = "5" // accepted without amendment
	LineChanged     LineAction = "3" // changed
	LineNotAccepted LineAction = "7" // not accepted
)

// OrderResponse is an ORDRSP in neutral terms, built by package normalize
// from an order and the decision on it. Decimal values are strings with
// '.' as decimal mark; the writer uses the interchange's decimal mark.
type OrderResponse struct {
	Number      string           // BGM 1004: the response's own number
	Function    ResponseFunction // BGM 1225
	Date        time.Time        // DTM+137 document date
	OrderNumber string           // RFF+ON
	OrderDate   time.Time        // DTM+171 under RFF+ON; zero to omit
	Currency    string           // CUX+2:<currency>:9; "" to omit
	Notes       []string         // FTX+AAI, split into 70-character pieces
	Parties     []ResponseParty
	Lines       []ResponseLine
}

// ResponseParty is a NAD of the response.
type ResponseParty struct {
	Function   string // 3035: BY, SU, DP, IV, ...
	ID         string // C082 3039
	Agency     string // C082 3055: "9" GS1, "16" DUNS, "91"/"92" assigned
	Name       string // C080 3036
	Street     string // C059 3042
	City       string // 3164
	PostalCode string // 3251
	Country    string // 3207
}

// ResponseLine is one LIN of the response with what changed.
type ResponseLine struct {
	LineNo   string     // LIN 1082
	Action   LineAction // LIN 1229
	ItemID   string     // LIN C212 7140
	ItemType string     // LIN C212 7143: "EN", "SRV", ...
	// BuyerPart and SupplierPart become PIA+5 (BP, SA).
	BuyerPart, SupplierPart string
	// Quantity is the confirmed quantity (QTY+21; QTY+113 for changed
	// lines); "" to omit.
	Quantity string
	Unit     string // 6411
	// Price is the confirmed net price (PRI+AAA); "" to omit.
	Price    string
	Delivery time.Time // DTM+2 confirmed delivery; zero to omit
	Note     string    // FTX+AAI: the reason of a change or refusal
}

// WriteOrderResponse writes r as one ORDRSP D96A message (UNH..UNT) in
// the current interchange; it needs the decimal mark the partner uses.
func (w *Writer) WriteOrderResponse(ctx context.Context, r *OrderResponse) error {
	if r.Function == "" || r.Number == "" || r.OrderNumber == "" {
		return w.fail("order response needs a function, its number and the order number")
	}
	if _, err := w.BeginMessage(ctx, MessageID{Type: "ORDRSP", Version: "D", Release: "96A", Agency: "UN"}); err != nil {
		return err
	}
	w.SegmentElements("BGM", []string{"231"}, []string{r.Number}, []string{string(r.Function)})
	date := r.Date
	if date.IsZero() {
		return w.fail("order response without a date")
	}
	w.SegmentElements("DTM", []string{"137", date.Format("20060102"), "102"})
	for _, n := range r.Notes {
		w.writeNote(n)
	}
	w.SegmentElements("RFF", []string{"ON", r.OrderNumber})
	if !r.OrderDate.IsZero() {
		w.SegmentElements("DTM", []string{"171", r.OrderDate.Format("20060102"), "102"})
	}
	for _, p := range r.Parties {
		var id []string
		if p.ID != "" {
			id = []string{p.ID, "", p.Agency}
		}
		var name, street []string
		if p.Name != "" {
			name = []string{p.Name}
		}
		if p.Street != "" {
			street = []string{p.Street}
		}
		w.SegmentElements("NAD", []string{p.Function}, id, nil, name, street, []string{p.City}, nil, []string{p.PostalCode}, []string{p.Country})
	}
	if r.Currency != "" {
		w.SegmentElements("CUX", []string{"2", r.Currency, "9"})
	}
	for _, l := range r.Lines {
		var item []string
		if l.ItemID != "" {
			item = []string{l.ItemID, l.ItemType}
		}
		w.SegmentElements("LIN", []string{l.LineNo}, []string{string(l.Action)}, item)
		if l.BuyerPart != "" || l.SupplierPart != "" {
			var ids [][]string
			if l.BuyerPart != "" {
				ids = append(ids, []string{l.BuyerPart, "BP"})
			}
			if l.SupplierPart != "" {
				ids = append(ids, []string{l.SupplierPart, "SA"})
			}
			w.SegmentElements("PIA", append([][]string{{"5"}}, ids...)...)
		}
		if l.Quantity != "" {
			q := "21"
			if l.Action == LineChanged {
				q = "113" // quantity to be delivered
			}
			w.SegmentElements("QTY", []string{q, w.decimal(l.Quantity), l.Unit})
		}
		if !l.Delivery.IsZero() {
			w.SegmentElements("DTM", []string{"2", l.Delivery.Format("20060102"), "102"})
		}
		if l.Note != "" {
			w.writeNote(l.Note)
		}
		if l.Price != "" {
			w.SegmentElements("PRI", []string{"AAA", w.decimal(l.Price)})
		}
	}
	w.Segment("UNS", "S")
	w.SegmentElements("CNT", []string{"2", strconv.Itoa(len(r.Lines))})
	if err := w.EndMessage(); err != nil {
		return fmt.Errorf("writing ORDRSP: %w", err)
	}
	return nil
}

func (w *Writer) writeNote(n string) {
	var parts []string
	for r := []rune(n); len(r) > 0; {
		k := min(len(r), 70)
		parts = append(parts, string(r[:k]))
		r = r[k:]
		if len(parts) == 5 {
			break
		}
	}
	w.SegmentElements("FTX", []string{"AAI"}, nil, nil, parts)
}

// decimal writes a '.'-decimal with the interchange's decimal mark.
func (w *Writer) decimal(v string) string {
	if w.s.Decimal == ',' {
		b := []byte(v)
		for i, c := range b {
			if c == '.' {
				b[i] = ','
			}
		}
		return string(b)
	}
	return v
}
