package order

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/govalues/decimal"
)

// Marshal returns the canonical JSON of o: byte for byte what
// json.Marshal(o) returns (ARCHITECTURE section 3), written field by field
// instead of by reflection, without re-reading what the fields' own
// MarshalJSON methods write. A value encoding/json refuses (a float that is
// NaN or infinite) gets encoding/json's answer, error included.
func Marshal(o *Order) ([]byte, error) {
	if o == nil {
		return []byte("null"), nil
	}
	b, ok := appendOrder(make([]byte, 0, o.sizeHint()), o)
	if !ok {
		return json.Marshal(o)
	}
	return b, nil
}

// AppendJSON appends the canonical JSON of o (as Marshal returns it) to
// b, so that a writer of many orders can reuse one buffer. On an error b
// is returned unchanged.
func AppendJSON(b []byte, o *Order) ([]byte, error) {
	if o == nil {
		return append(b, "null"...), nil
	}
	out, ok := appendOrder(b, o)
	if ok {
		return out, nil
	}
	j, err := json.Marshal(o)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// sizeHint is a guess at the length of o's JSON, for one allocation.
func (o *Order) sizeHint() int {
	n := 512 + 200*len(o.Lines) + 96*len(o.Parties)
	for _, e := range o.Provenance {
		n += len(e.Path) + len(e.Where) + 6
	}
	return n
}

// appendOrder appends o's JSON to b; false when o holds a value
// encoding/json refuses.
func appendOrder(b []byte, o *Order) ([]byte, bool) {
	b = append(b, '{')
	if o.ID != "" {
		b = appendKey(b, `"id":`)
		b = appendJSONString(b, o.ID)
	}
	b = appendKey(b, `"channel":`)
	b = appendJSONString(b, string(o.Channel))
	b = appendKey(b, `"source":`)
	b = appendSource(b, &o.Source)
	if o.Purpose != "" {
		b = appendKey(b, `"purpose":`)
		b = appendJSONString(b, string(o.Purpose))
	}
	if o.OrderType != "" {
		b = appendKey(b, `"order_type":`)
		b = appendJSONString(b, o.OrderType)
	}
	b = appendKey(b, `"po_number":`)
	b = appendJSONString(b, o.PONumber)
	if !o.PODate.IsZero() {
		b = appendKey(b, `"po_date":`)
		b = o.PODate.appendJSON(b)
	}
	if o.Currency != "" {
		b = appendKey(b, `"currency":`)
		b = appendJSONString(b, o.Currency)
	}
	if !o.RequestedDelivery.IsZero() {
		b = appendKey(b, `"requested_delivery":`)
		b = o.RequestedDelivery.appendJSON(b)
	}
	if len(o.Notes) > 0 {
		b = appendKey(b, `"notes":`)
		b = appendStrings(b, o.Notes)
	}
	if len(o.References) > 0 {
		b = appendKey(b, `"references":`)
		b = appendList(b, o.References, func(b []byte, r *Reference) []byte {
			return appendPair(b, `{"qualifier":`, r.Qualifier, `,"value":`, r.Value)
		})
	}
	if len(o.Parties) > 0 {
		b = appendKey(b, `"parties":`)
		b = appendList(b, o.Parties, appendParty)
	}
	b = appendKey(b, `"lines":`)
	if o.Lines == nil {
		b = append(b, "null"...)
	} else {
		b = appendList(b, o.Lines, appendLine)
	}
	if o.Totals != nil {
		b = appendKey(b, `"totals":`)
		b = appendTotals(b, o.Totals)
	}
	if o.CustomerID != "" {
		b = appendKey(b, `"customer_id":`)
		b = appendJSONString(b, o.CustomerID)
	}
	if o.Status != "" {
		b = appendKey(b, `"status":`)
		b = appendJSONString(b, string(o.Status))
	}
	if len(o.Holds) > 0 {
		b = appendKey(b, `"holds":`)
		b = appendList(b, o.Holds, func(b []byte, h *Hold) []byte {
			return appendPair(b, `{"rule":`, h.Rule, `,"reason":`, h.Reason)
		})
	}
	if len(o.Unresolved) > 0 {
		b = appendKey(b, `"unresolved":`)
		b = appendStrings(b, o.Unresolved)
	}
	if len(o.Provenance) > 0 {
		b = appendKey(b, `"provenance":`)
		b = o.Provenance.appendJSON(b)
	}
	if len(o.Confidence) > 0 {
		b = appendKey(b, `"confidence":`)
		var ok bool
		if b, ok = appendConfidence(b, o.Confidence); !ok {
			return nil, false
		}
	}
	if len(o.Boxes) > 0 {
		b = appendKey(b, `"boxes":`)
		var ok bool
		if b, ok = appendBoxes(b, o.Boxes); !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

// appendKey appends key (`"name":`), after a comma unless it is the
// object's first.
func appendKey(b []byte, key string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	return append(b, key...)
}

func appendSource(b []byte, s *Source) []byte {
	b = append(b, `{"standard":`...)
	b = appendJSONString(b, s.Standard)
	b = appendStringFields(b, []stringField{
		{`,"version":`, s.Version},
		{`,"sender_id":`, s.SenderID},
		{`,"sender_qualifier":`, s.SenderQualifier},
		{`,"receiver_id":`, s.ReceiverID},
		{`,"receiver_qualifier":`, s.ReceiverQualifier},
		{`,"interchange_control":`, s.InterchangeControl},
		{`,"group_control":`, s.GroupControl},
		{`,"message_control":`, s.MessageControl},
	})
	b = append(b, `,"test":`...)
	b = strconv.AppendBool(b, s.Test)
	b = appendStringFields(b, []stringField{
		{`,"file":`, s.File},
		{`,"message_id":`, s.MessageID},
		{`,"request_id":`, s.RequestID},
	})
	return append(b, '}')
}

func appendParty(b []byte, p *Party) []byte {
	b = append(b, `{"role":`...)
	b = appendJSONString(b, p.Role)
	if p.ID != "" {
		b = append(b, `,"id":`...)
		b = appendJSONString(b, p.ID)
	}
	if p.IDScheme != "" {
		b = append(b, `,"id_scheme":`...)
		b = appendJSONString(b, p.IDScheme)
	}
	if p.Name != "" {
		b = append(b, `,"name":`...)
		b = appendJSONString(b, p.Name)
	}
	if a := p.Address; a != nil {
		b = append(b, `,"address":{`...)
		if len(a.Lines) > 0 {
			b = appendKey(b, `"lines":`)
			b = appendStrings(b, a.Lines)
		}
		for _, f := range [...]stringField{
			{`"city":`, a.City},
			{`"region":`, a.Region},
			{`"postal_code":`, a.PostalCode},
			{`"country":`, a.Country},
		} {
			if f.v != "" {
				b = appendKey(b, f.key)
				b = appendJSONString(b, f.v)
			}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendLine(b []byte, l *Line) []byte {
	b = append(b, `{"line_no":`...)
	b = appendJSONString(b, l.LineNo)
	b = append(b, `,"quantity":`...)
	b = appendDecimal(b, l.Quantity)
	if l.Unit != "" {
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, l.Unit)
	}
	if l.UnitPrice != nil {
		b = append(b, `,"unit_price":`...)
		b = appendDecimal(b, *l.UnitPrice)
	}
	if l.PriceBasis != "" {
		b = append(b, `,"price_basis":`...)
		b = appendJSONString(b, l.PriceBasis)
	}
	if l.Amount != nil {
		b = append(b, `,"amount":`...)
		b = appendDecimal(b, *l.Amount)
	}
	b = appendStringFields(b, []stringField{
		{`,"gtin":`, l.GTIN},
		{`,"buyer_part":`, l.BuyerPart},
		{`,"supplier_part":`, l.SupplierPart},
		{`,"manufacturer_part":`, l.ManufacturerPart},
		{`,"description":`, l.Description},
		{`,"sku":`, l.SKU},
	})
	if !l.RequestedDelivery.IsZero() {
		b = append(b, `,"requested_delivery":`...)
		b = l.RequestedDelivery.appendJSON(b)
	}
	if len(l.References) > 0 {
		b = append(b, `,"references":`...)
		b = appendList(b, l.References, func(b []byte, r *Reference) []byte {
			return appendPair(b, `{"qualifier":`, r.Qualifier, `,"value":`, r.Value)
		})
	}
	if len(l.Notes) > 0 {
		b = append(b, `,"notes":`...)
		b = appendStrings(b, l.Notes)
	}
	return append(b, '}')
}

func appendTotals(b []byte, t *Totals) []byte {
	b = append(b, '{')
	if t.LineCount != nil {
		b = appendKey(b, `"line_count":`)
		b = strconv.AppendInt(b, int64(*t.LineCount), 10)
	}
	if t.QuantityHash != nil {
		b = appendKey(b, `"quantity_hash":`)
		b = appendDecimal(b, *t.QuantityHash)
	}
	if t.Amount != nil {
		b = appendKey(b, `"amount":`)
		b = appendDecimal(b, *t.Amount)
	}
	return append(b, '}')
}

// appendList appends a non-nil list, each element with item.
func appendList[T any](b []byte, xs []T, item func([]byte, *T) []byte) []byte {
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = item(b, &xs[i])
	}
	return append(b, ']')
}

// appendPair appends an object of two string fields: open is `{"key1":`,
// mid `,"key2":`.
func appendPair(b []byte, open, v1, mid, v2 string) []byte {
	b = append(b, open...)
	b = appendJSONString(b, v1)
	b = append(b, mid...)
	b = appendJSONString(b, v2)
	return append(b, '}')
}

// stringField is an omitempty string field: key is `,"name":`.
type stringField struct{ key, v string }

// appendStringFields appends the fields that are not empty.
func appendStringFields(b []byte, fs []stringField) []byte {
	for _, f := range fs {
		if f.v != "" {
			b = append(b, f.key...)
			b = appendJSONString(b, f.v)
		}
	}
	return b
}

// appendStrings appends a non-nil list of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendDecimal appends d as decimal.Decimal.MarshalJSON writes it: the
// number as a string.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	b = append(b, '"')
	b, _ = d.AppendText(b) // never fails
	return append(b, '"')
}

// appendJSON appends d as MarshalJSON writes it (d not zero).
func (d Date) appendJSON(b []byte) []byte {
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		s, _ := d.MarshalJSON() // a date NewDate would refuse: as it is written
		return append(b, s...)
	}
	y, m := d.Year, int(d.Month)
	return append(b, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-',
		byte('0'+d.Day/10), byte('0'+d.Day%10), '"')
}

// appendJSON appends the provenance as MarshalJSON writes it.
func (p Provenance) appendJSON(b []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	entries := p
	if !p.sortedUnique() {
		entries = p.sorted()
	}
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.Path)
		b = append(b, ':')
		b = appendJSONString(b, e.Where)
	}
	return append(b, '}')
}

// appendConfidence appends a non-empty map as encoding/json writes it,
// keys sorted; false for a value it refuses.
func appendConfidence(b []byte, m map[string]float64) ([]byte, bool) {
	keys := sortedKeys(m)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendFloat(b, m[k]); !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

// appendBoxes appends a non-empty map as encoding/json writes it, keys
// sorted; false for a value it refuses.
func appendBoxes(b []byte, m map[string]Box) ([]byte, bool) {
	keys := sortedKeys(m)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		box := m[k]
		b = append(b, `:{"page":`...)
		b = strconv.AppendInt(b, int64(box.Page), 10)
		for _, f := range [...]struct {
			key string
			v   float64
		}{{`,"x":`, box.X}, {`,"y":`, box.Y}, {`,"w":`, box.W}, {`,"h":`, box.H}} {
			b = append(b, f.key...)
			var ok bool
			if b, ok = appendFloat(b, f.v); !ok {
				return nil, false
			}
		}
		b = append(b, '}')
	}
	return append(b, '}'), true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}

// appendFloat appends f as encoding/json writes a float64 (ES6 number
// formatting); false for NaN and infinities, which it refuses.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}
