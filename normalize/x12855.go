package normalize

import (
	"strings"

	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize/order"
)

// X12POAck maps an order and the decision on it to an X12 855 purchase
// order acknowledgement.
//
// BAK02: a rejected order is RD (rejected with detail) when the response
// has line decisions, else RJ; an accepted order is AC (accepted with
// detail and change) when any line is changed, backordered or rejected,
// AD (with detail, no change) when the response lists lines, else AT; a
// changed or backordered order is AC. Each order line is echoed in a PO1
// (line number, quantity, unit, price, ids: BP buyer part, VP supplier
// part, UP/EN/UK by GTIN length, MG manufacturer part) with an ACK: IA
// accepted, IB backordered, IR rejected, IQ when only the quantity
// changed, IC for other changes. A line without its own decision takes
// the order's (IR for a rejected order, IA otherwise). ACK02 is the
// confirmed quantity (the ordered one when unchanged, and the rejected
// quantity for IR); a confirmed price replaces PO104; a confirmed date is
// ACK05 with ACK04 068.
func X12POAck(o *order.Order, r *order.Response) x12.POAck {
	a := x12.POAck{
		PONumber: o.PONumber,
		PODate:   compactDate(o.PODate),
		Date:     compactDate(r.Date),
		Currency: o.Currency,
		Notes:    r.Notes,
	}
	if a.PODate == "" {
		a.PODate = a.Date
	}
	byLine := make(map[string]*order.LineResponse, len(r.Lines))
	for i := range r.Lines {
		byLine[r.Lines[i].LineNo] = &r.Lines[i]
	}
	changed := false
	for _, l := range o.Lines {
		pl := x12.POAckLine{
			LineNo: l.LineNo, Quantity: l.Quantity.String(), Unit: l.Unit, PriceBasis: l.PriceBasis,
			AckQuantity: l.Quantity.String(), AckUnit: l.Unit,
		}
		if l.UnitPrice != nil {
			pl.UnitPrice = l.UnitPrice.String()
		}
		pl.IDs = productIDs(l)
		lr := byLine[l.LineNo]
		status := r.Status
		if lr != nil {
			status = lr.Status
		}
		switch status {
		case order.ResponseRejected:
			pl.Status = "IR"
		case order.ResponseBackordered:
			pl.Status = "IB"
		case order.ResponseChanged:
			pl.Status = "IC"
		default:
			pl.Status = "IA"
		}
		if lr != nil {
			qtyChanged := lr.Quantity != nil && lr.Quantity.Cmp(l.Quantity) != 0
			priceChanged := lr.UnitPrice != nil && (l.UnitPrice == nil || lr.UnitPrice.Cmp(*l.UnitPrice) != 0)
			if lr.Quantity != nil && status != order.ResponseRejected {
				pl.AckQuantity = lr.Quantity.String()
			}
			if lr.Unit != "" {
				pl.AckUnit = lr.Unit
			}
			if priceChanged {
				pl.UnitPrice = lr.UnitPrice.String()
			}
			pl.Date = compactDate(lr.Delivery)
			if status == order.ResponseChanged && qtyChanged && !priceChanged && lr.Delivery.IsZero() {
				pl.Status = "IQ"
			}
		}
		if pl.Status != "IA" {
			changed = true
		}
		a.Lines = append(a.Lines, pl)
	}
	switch {
	case r.Status == order.ResponseRejected && len(r.Lines) > 0:
		a.Type = "RD"
	case r.Status == order.ResponseRejected:
		a.Type = "RJ"
	case r.Status == order.ResponseChanged || r.Status == order.ResponseBackordered || changed:
		a.Type = "AC"
	case len(r.Lines) > 0:
		a.Type = "AD"
	default:
		a.Type = "AT"
	}
	return a
}

func compactDate(d order.Date) string {
	if d.IsZero() {
		return ""
	}
	return strings.ReplaceAll(d.String(), "-", "")
}

func productIDs(l order.Line) []x12.ProductID {
	var ids []x12.ProductID
	add := func(q, v string) {
		if v != "" {
			ids = append(ids, x12.ProductID{Qualifier: q, ID: v})
		}
	}
	add("BP", l.BuyerPart)
	add("VP", l.SupplierPart)
	switch len(l.GTIN) {
	case 12:
		add("UP", l.GTIN)
	case 14:
		add("UK", l.GTIN)
	default:
		add("EN", l.GTIN)
	}
	add("MG", l.ManufacturerPart)
	return ids
}
