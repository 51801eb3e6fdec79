package order

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem with one field of an order.
type FieldError struct {
	Path string // field path, e.g. "lines[2].quantity"
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Validate checks the order against the contract and reports every
// problem, joined with errors.Join; each is a *FieldError. Validate checks
// shape, not business rules: a resolved customer, a known SKU or a price
// are the rules' business.
func (o *Order) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	switch o.Channel {
	case ChannelEDI, ChannelEmail, ChannelFax, ChannelWeb, ChannelPhone:
	case "":
		bad("channel", "is missing")
	default:
		bad("channel", "%q is not one of edi, email, fax, web, phone", o.Channel)
	}
	if o.Source.Standard == "" {
		bad("source.standard", "is missing")
	}
	switch o.Purpose {
	case "", PurposeOriginal, PurposeCancel, PurposeReplace, PurposeChange:
	default:
		bad("purpose", "%q is not one of original, cancel, replace, change", o.Purpose)
	}
	switch o.Status {
	case "", StatusReceived, StatusReview, StatusHeld, StatusAccepted, StatusRejected, StatusRouted, StatusDelivered, StatusFailed:
	default:
		bad("status", "%q is not a known status", o.Status)
	}
	if strings.TrimSpace(o.PONumber) == "" {
		bad("po_number", "is missing")
	}
	if o.Currency != "" && !isCurrencyCode(o.Currency) {
		bad("currency", "%q is not an ISO 4217 code", o.Currency)
	}
	for i, p := range o.Parties {
		if p.Role == "" {
			bad(PartyPath(i, "role"), "is missing")
		}
		if p.ID == "" && p.Name == "" {
			bad(PartyPath(i, "id"), "party has neither id nor name")
		}
		if p.Address != nil && p.Address.Country != "" && !isCountryCode(p.Address.Country) {
			bad(PartyPath(i, "address.country"), "%q is not an ISO 3166 alpha-2 code", p.Address.Country)
		}
	}
	if len(o.Lines) == 0 && o.Purpose != PurposeCancel {
		bad("lines", "the order has no lines")
	}
	seen := make(map[string]int, len(o.Lines))
	for i, l := range o.Lines {
		if l.LineNo != "" {
			if j, dup := seen[l.LineNo]; dup {
				bad(LinePath(i, "line_no"), "%q repeats line %d", l.LineNo, j)
			}
			seen[l.LineNo] = i
		}
		if !l.Quantity.IsPos() {
			bad(LinePath(i, "quantity"), "%s is not a positive quantity", l.Quantity)
		}
		if l.UnitPrice != nil && l.UnitPrice.IsNeg() {
			bad(LinePath(i, "unit_price"), "%s is negative", l.UnitPrice)
		}
		if l.GTIN == "" && l.BuyerPart == "" && l.SupplierPart == "" && l.ManufacturerPart == "" && l.SKU == "" && l.Description == "" {
			bad(LinePath(i, "sku"), "line identifies no item (no GTIN, part number, SKU or description)")
		}
	}
	if o.Totals != nil && o.Totals.LineCount != nil && *o.Totals.LineCount != len(o.Lines) {
		bad("totals.line_count", "declares %d lines, the order has %d", *o.Totals.LineCount, len(o.Lines))
	}
	for k, c := range o.Confidence {
		if c < 0 || c > 1 {
			bad("confidence."+k, "%v is outside 0..1", c)
		}
	}
	return errors.Join(errs...)
}

func isCurrencyCode(s string) bool { return len(s) == 3 && isUpper(s) }

func isCountryCode(s string) bool { return len(s) == 2 && isUpper(s) }

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// ValidGTIN reports whether s is a GTIN-8, -12, -13 or -14 with a correct
// GS1 check digit.
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	sum := 0
	for i := 0; i < len(s)-1; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		// Weights alternate 3,1 from the digit next to the check digit.
		if (len(s)-1-i)%2 == 1 {
			d *= 3
		}
		sum += d
	}
	last := s[len(s)-1]
	if last < '0' || last > '9' {
		return false
	}
	return (10-sum%10)%10 == int(last-'0')
}
