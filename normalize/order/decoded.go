package order

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Decoded returns the order json.Unmarshal gives for data, data being the
// JSON of o (json.Marshal(o)), mostly without decoding data: a copy of o
// with its provenance as its JSON brings it back (sorted by path, one
// entry per path). Only when o holds what its JSON does not bring back as
// it is (an empty list or map that JSON omits, which decodes as nil; a
// string that is not valid UTF-8, whose bad bytes JSON writes as U+FFFD)
// is data decoded.
//
// It is the cheap path for a stage that stored o and goes on with the
// order as stored. The copy shares o's lines, parties and other lists,
// maps and pointers: change neither in place afterwards.
func Decoded(o *Order, data []byte) (*Order, error) {
	if o.omitsEmpty() || bytes.Contains(data, []byte(`\ufffd`)) {
		// encoding/json (and Provenance) write \ufffd only for bytes that
		// are not UTF-8; a string with the six characters \ufffd has them
		// as \\ufffd, which needlessly lands here too.
		var d Order
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decoding order %s: %w", o.ID, err)
		}
		return &d, nil
	}
	return sortedCopy(o), nil
}

// sortedCopy is a copy of o with its provenance as its JSON brings it
// back (sorted by path, one entry per path), o's left as it is.
func sortedCopy(o *Order) *Order {
	c := *o
	c.Provenance = nil
	if len(o.Provenance) > 0 {
		c.Provenance = o.Provenance.sorted()
	}
	return &c
}

// omitsEmpty reports whether o has an empty but non-nil list or map that
// its JSON omits (omitempty), so that decoding gives nil instead.
func (o *Order) omitsEmpty() bool {
	if emptyNotNil(o.Notes) || emptyNotNil(o.References) || emptyNotNil(o.Parties) || emptyNotNil(o.Holds) ||
		emptyNotNil(o.Unresolved) || emptyNotNil(o.Provenance) ||
		(o.Confidence != nil && len(o.Confidence) == 0) || (o.Boxes != nil && len(o.Boxes) == 0) {
		return true
	}
	for i := range o.Parties {
		if a := o.Parties[i].Address; a != nil && emptyNotNil(a.Lines) {
			return true
		}
	}
	for i := range o.Lines {
		if emptyNotNil(o.Lines[i].Notes) || emptyNotNil(o.Lines[i].References) {
			return true
		}
	}
	return false
}

func emptyNotNil[S ~[]E, E any](s S) bool { return s != nil && len(s) == 0 }

// DecodedCopy is Decoded for an order whose JSON has not been written:
// the order json.Unmarshal gives for Marshal(o), in the usual case without
// writing it. Only when o holds what its JSON does not bring back as it
// is (see Decoded) is it written and decoded. The copy shares o's lists,
// maps and pointers as Decoded's does.
func DecodedCopy(o *Order) (*Order, error) {
	if o.omitsEmpty() || !o.validUTF8() {
		data, err := Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("encoding order %s: %w", o.ID, err)
		}
		return Decoded(o, data)
	}
	return sortedCopy(o), nil
}

// validUTF8 reports whether every string of o (the map keys among them)
// is valid UTF-8: whether its JSON has no U+FFFD written for a bad byte.
// TestValidUTF8EveryString sets each string field in turn, by reflection,
// so that a field added to the model and left out here fails it.
func (o *Order) validUTF8() bool {
	s := &o.Source
	if !allValid(o.ID, string(o.Channel), string(o.Purpose), o.OrderType, o.PONumber, o.Currency, o.CustomerID, string(o.Status),
		s.Standard, s.Version, s.SenderID, s.SenderQualifier, s.ReceiverID, s.ReceiverQualifier, s.InterchangeControl,
		s.GroupControl, s.MessageControl, s.File, s.MessageID, s.RequestID) ||
		!allValid(o.Notes...) || !allValid(o.Unresolved...) || !referencesValid(o.References) {
		return false
	}
	for i := range o.Parties {
		p := &o.Parties[i]
		if !allValid(p.Role, p.ID, p.IDScheme, p.Name) {
			return false
		}
		if a := p.Address; a != nil && (!allValid(a.City, a.Region, a.PostalCode, a.Country) || !allValid(a.Lines...)) {
			return false
		}
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if !allValid(l.LineNo, l.Unit, l.PriceBasis, l.GTIN, l.BuyerPart, l.SupplierPart, l.ManufacturerPart, l.Description, l.SKU) ||
			!allValid(l.Notes...) || !referencesValid(l.References) {
			return false
		}
	}
	for i := range o.Holds {
		if !allValid(o.Holds[i].Rule, o.Holds[i].Reason) {
			return false
		}
	}
	for _, e := range o.Provenance {
		if !allValid(e.Path, e.Where) {
			return false
		}
	}
	for k := range o.Confidence {
		if !utf8.ValidString(k) {
			return false
		}
	}
	for k := range o.Boxes {
		if !utf8.ValidString(k) {
			return false
		}
	}
	return true
}

func allValid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func referencesValid(rs []Reference) bool {
	for i := range rs {
		if !allValid(rs[i].Qualifier, rs[i].Value) {
			return false
		}
	}
	return true
}
