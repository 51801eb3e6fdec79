package rules

import (
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// Facts is everything the rules know beyond the order, gathered by the
// caller from master data, open orders and earlier orders. Amounts of the
// customer are in the customer's currency.
type Facts struct {
	Customer Customer `json:"customer"`
	// OpenOrdersAmount is the total of the customer's orders accepted but
	// not yet invoiced, without this order.
	OpenOrdersAmount decimal.Decimal `json:"open_orders_amount"`
	// OpenOrdersUncounted says which open orders OpenOrdersAmount leaves
	// out because they could not be counted ("1 open order without a
	// total", "2 open orders in USD (no exchange rate from USD to EUR on
	// 2026-11-18)"): the credit rule then holds, as the exposure is not
	// known.
	OpenOrdersUncounted []string `json:"open_orders_uncounted,omitempty"`
	// Rates converts other currencies into the customer's: the value of
	// one unit of the currency (key) in the customer's currency.
	Rates map[string]decimal.Decimal `json:"rates,omitempty"`
	// Products are our items by SKU; a line whose SKU is not here is an
	// unknown item.
	Products map[string]Product `json:"products,omitempty"`
	// Prices are the contract or list prices found for the order's lines,
	// by line index; nil or missing: none found.
	Prices []*Price `json:"prices,omitempty"`
	// ShipToNew says the ship-to address is not yet known for the customer.
	ShipToNew bool `json:"ship_to_new"`
	// Prior are the earlier orders of the same customer with the same PO
	// number, from any channel, oldest first.
	Prior []PriorOrder `json:"prior,omitempty"`
	// ContentHash identifies this order's business content (lines,
	// parties, dates), the same way as PriorOrder.ContentHash.
	ContentHash string `json:"content_hash,omitempty"`
	// Now is when the decision is made; it dates the order response.
	Now time.Time `json:"now"`
}

// Customer is the customer account from master data.
type Customer struct {
	Known    bool   `json:"known"`
	Number   string `json:"number"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	// CreditLimit nil: the customer has no credit limit.
	CreditLimit *decimal.Decimal `json:"credit_limit,omitempty"`
	OpenBalance decimal.Decimal  `json:"open_balance"`
	Blocked     bool             `json:"blocked"`
	FirstOrder  bool             `json:"first_order"`
	SalesRep    SalesRep         `json:"sales_rep"`
}

// SalesRep is the customer's sales representative.
type SalesRep struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Product is one of our items from master data. PackSize and MOQ are in
// Unit; zero means no constraint.
type Product struct {
	Description string          `json:"description"`
	Unit        string          `json:"unit"`
	PackSize    decimal.Decimal `json:"pack_size"`
	MOQ         decimal.Decimal `json:"moq"`
}

// Price is the price found for a line: the customer's contract price or
// else the list price, per unit of the product.
type Price struct {
	UnitPrice decimal.Decimal `json:"unit_price"`
	Currency  string          `json:"currency"`
	Source    string          `json:"source"` // PriceContract or PriceList
}

// Price sources.
const (
	PriceContract = "contract"
	PriceList     = "list"
)

// PriorOrder is an earlier order with the same customer and PO number.
type PriorOrder struct {
	ID          string        `json:"id"`
	Channel     order.Channel `json:"channel"`
	Purpose     order.Purpose `json:"purpose,omitempty"`
	ContentHash string        `json:"content_hash"`
	Status      order.Status  `json:"status"`
}
