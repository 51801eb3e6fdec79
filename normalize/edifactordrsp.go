package normalize

import (
	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/normalize/order"
)

// EDIFACTOrderResponse builds the ORDRSP for an order and the decision on
// it: BGM 1225 29 when the order is accepted as ordered, 27 when it is
// rejected, 4 when any line is changed or backordered; RFF+ON the order's
// number with its date; the order's parties with their roles and ids; per
// order line a LIN with 1229 5 (accepted), 3 (changed or backordered) or
// 7 (rejected) and, for changed lines only, the confirmed quantity, price
// and delivery date. A line without a LineResponse takes the order's
// status. The response's number is the order's number and its date r.Date
// (the writer refuses a zero date).
func EDIFACTOrderResponse(o *order.Order, r *order.Response) edifact.OrderResponse {
	out := edifact.OrderResponse{Number: o.PONumber, OrderNumber: o.PONumber, Currency: o.Currency, Notes: r.Notes}
	if !r.Date.IsZero() {
		out.Date = r.Date.Time()
	}
	if !o.PODate.IsZero() {
		out.OrderDate = o.PODate.Time()
	}
	byLine := make(map[string]*order.LineResponse, len(r.Lines))
	for i := range r.Lines {
		byLine[r.Lines[i].LineNo] = &r.Lines[i]
	}
	changed := false
	for _, l := range o.Lines {
		lr := byLine[l.LineNo]
		status := r.Status
		if lr != nil {
			status = lr.Status
		}
		rl := edifact.ResponseLine{LineNo: l.LineNo, BuyerPart: l.BuyerPart, SupplierPart: l.SupplierPart}
		if l.GTIN != "" {
			rl.ItemID, rl.ItemType = l.GTIN, "EN"
		}
		switch status {
		case order.ResponseRejected:
			rl.Action = edifact.LineNotAccepted
		case order.ResponseChanged, order.ResponseBackordered:
			rl.Action = edifact.LineChanged
			changed = true
			rl.Quantity, rl.Unit = l.Quantity.String(), l.Unit
			if lr != nil {
				if lr.Quantity != nil {
					rl.Quantity = lr.Quantity.String()
				}
				if lr.Unit != "" {
					rl.Unit = lr.Unit
				}
				if lr.UnitPrice != nil {
					rl.Price = lr.UnitPrice.String()
				}
				if !lr.Delivery.IsZero() {
					rl.Delivery = lr.Delivery.Time()
				}
			}
		default:
			rl.Action = edifact.LineAccepted
		}
		if lr != nil {
			rl.Note = lr.Reason
		}
		out.Lines = append(out.Lines, rl)
	}
	switch {
	case r.Status == order.ResponseRejected:
		out.Function = edifact.ResponseNotAccepted
	case changed || r.Status == order.ResponseChanged || r.Status == order.ResponseBackordered:
		out.Function = edifact.ResponseChanged
	default:
		out.Function = edifact.ResponseAccepted
	}
	for _, p := range o.Parties {
		rp := edifact.ResponseParty{Function: partyFunction(p.Role), ID: p.ID, Agency: idAgency(p.IDScheme), Name: p.Name}
		if rp.Function == "" {
			continue
		}
		if a := p.Address; a != nil {
			if len(a.Lines) > 0 {
				rp.Street = a.Lines[0]
			}
			rp.City, rp.PostalCode, rp.Country = a.City, a.PostalCode, a.Country
		}
		out.Parties = append(out.Parties, rp)
	}
	return out
}

// partyFunction is the NAD 3035 of a canonical role; raw codes (up to
// three letters or digits) pass, other roles are left out.
func partyFunction(role string) string {
	switch role {
	case order.RoleBuyer:
		return "BY"
	case order.RoleSupplier:
		return "SU"
	case order.RoleShipTo:
		return "DP"
	case order.RoleBillTo:
		return "IV"
	case order.RoleShipFrom:
		return "SF"
	}
	if len(role) >= 1 && len(role) <= 3 {
		for _, c := range role {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return ""
			}
		}
		return role
	}
	return ""
}

func idAgency(scheme string) string {
	switch scheme {
	case order.SchemeGLN:
		return "9"
	case order.SchemeDUNS:
		return "16"
	case order.SchemeSeller:
		return "91"
	case order.SchemeBuyer:
		return "92"
	}
	return scheme
}
