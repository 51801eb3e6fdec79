package rules

import "github.com/ordergate/ordergate/normalize/order"

// exprEnv is what an approval's when expression sees: order and customer.
// Field names are the snake_case names of the order JSON; amounts and
// quantities are exact decimals (exprDecimal).
type exprEnv struct {
	Order    exprOrder    `expr:"order"`
	Customer exprCustomer `expr:"customer"`
}

type exprOrder struct {
	ID                string      `expr:"id"`
	Channel           string      `expr:"channel"`
	Purpose           string      `expr:"purpose"`
	OrderType         string      `expr:"order_type"`
	PONumber          string      `expr:"po_number"`
	PODate            string      `expr:"po_date"`            // YYYY-MM-DD or ""
	RequestedDelivery string      `expr:"requested_delivery"` // YYYY-MM-DD or ""
	Currency          string      `expr:"currency"`
	CustomerID        string      `expr:"customer_id"`
	Notes             []string    `expr:"notes"`
	Lines             []exprLine  `expr:"lines"`
	LineCount         int         `expr:"line_count"`
	Total             exprDecimal `expr:"total"`
	TotalComplete     bool        `expr:"total_complete"`
	UnpricedLines     int         `expr:"unpriced_lines"`
	ShipTo            exprShipTo  `expr:"ship_to"`
	Source            exprSource  `expr:"source"`
}

type exprLine struct {
	LineNo       string      `expr:"line_no"`
	SKU          string      `expr:"sku"`
	Quantity     exprDecimal `expr:"quantity"`
	Unit         string      `expr:"unit"`
	UnitPrice    exprDecimal `expr:"unit_price"` // 0 when priced is false
	Priced       bool        `expr:"priced"`
	Amount       exprDecimal `expr:"amount"` // quantity x unit_price
	GTIN         string      `expr:"gtin"`
	BuyerPart    string      `expr:"buyer_part"`
	SupplierPart string      `expr:"supplier_part"`
	Description  string      `expr:"description"`
}

type exprShipTo struct {
	ID         string `expr:"id"`
	Name       string `expr:"name"`
	City       string `expr:"city"`
	PostalCode string `expr:"postal_code"`
	Country    string `expr:"country"`
	New        bool   `expr:"new"`
}

type exprSource struct {
	Standard string `expr:"standard"`
	SenderID string `expr:"sender_id"`
	Test     bool   `expr:"test"`
}

type exprCustomer struct {
	Number      string      `expr:"number"`
	Name        string      `expr:"name"`
	Currency    string      `expr:"currency"`
	CreditLimit exprDecimal `expr:"credit_limit"` // 0 when has_credit_limit is false
	HasLimit    bool        `expr:"has_credit_limit"`
	OpenBalance exprDecimal `expr:"open_balance"`
	OpenOrders  exprDecimal `expr:"open_orders"`
	Blocked     bool        `expr:"blocked"`
	FirstOrder  bool        `expr:"first_order"`
	Known       bool        `expr:"known"`
	SalesRep    string      `expr:"sales_rep"`
}

// newEnv builds the expression environment from the decided copy of the
// order (prices filled, quantities adjusted, rejected lines removed) and
// the facts.
func newEnv(o *order.Order, f *Facts, t orderTotal) exprEnv {
	e := exprEnv{
		Order: exprOrder{
			ID:                o.ID,
			Channel:           string(o.Channel),
			Purpose:           string(o.Purpose),
			OrderType:         o.OrderType,
			PONumber:          o.PONumber,
			PODate:            o.PODate.String(),
			RequestedDelivery: o.RequestedDelivery.String(),
			Currency:          o.Currency,
			CustomerID:        o.CustomerID,
			Notes:             o.Notes,
			LineCount:         len(o.Lines),
			Total:             exprDecimal{t.known},
			TotalComplete:     t.unpriced == 0 && t.err == nil,
			UnpricedLines:     t.unpriced,
			ShipTo:            exprShipTo{New: f.ShipToNew},
			Source: exprSource{
				Standard: o.Source.Standard,
				SenderID: o.Source.SenderID,
				Test:     o.Source.Test,
			},
		},
		Customer: exprCustomer{
			Number:      f.Customer.Number,
			Name:        f.Customer.Name,
			Currency:    f.Customer.Currency,
			OpenBalance: exprDecimal{f.Customer.OpenBalance},
			OpenOrders:  exprDecimal{f.OpenOrdersAmount},
			Blocked:     f.Customer.Blocked,
			FirstOrder:  f.Customer.FirstOrder,
			Known:       f.Customer.Known,
			SalesRep:    f.Customer.SalesRep.Name,
		},
	}
	if f.Customer.CreditLimit != nil {
		e.Customer.CreditLimit = exprDecimal{*f.Customer.CreditLimit}
		e.Customer.HasLimit = true
	}
	if p := o.Party(order.RoleShipTo); p != nil {
		e.Order.ShipTo.ID, e.Order.ShipTo.Name = p.ID, p.Name
		if p.Address != nil {
			e.Order.ShipTo.City = p.Address.City
			e.Order.ShipTo.PostalCode = p.Address.PostalCode
			e.Order.ShipTo.Country = p.Address.Country
		}
	}
	e.Order.Lines = make([]exprLine, len(o.Lines))
	for i, l := range o.Lines {
		el := exprLine{
			LineNo: l.LineNo, SKU: l.SKU, Quantity: exprDecimal{l.Quantity}, Unit: l.Unit,
			GTIN: l.GTIN, BuyerPart: l.BuyerPart, SupplierPart: l.SupplierPart, Description: l.Description,
		}
		if l.UnitPrice != nil {
			el.UnitPrice, el.Priced = exprDecimal{*l.UnitPrice}, true
			if a, err := l.Quantity.Mul(*l.UnitPrice); err == nil {
				el.Amount = exprDecimal{a}
			}
		}
		e.Order.Lines[i] = el
	}
	return e
}
