package capture

import (
	"context"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// Sender is what the channel knows about who sent a document.
type Sender struct {
	Fax   string // the sending fax number (fax-to-mail gateways put it in the subject or a header)
	Email string // the From address
	Name  string
}

// Customer is one of our accounts as the matcher sees it.
type Customer struct {
	Number   string
	Name     string
	Phone    string
	Email    string
	Currency string
}

// Item is one of our products as the matcher sees it.
type Item struct {
	SKU         string
	GTIN        string
	Description string
	BaseUnit    string
	Units       []string // the base unit and the pack units
}

// HasUnit reports whether the item is sold in unit.
func (it Item) HasUnit(unit string) bool {
	for _, u := range it.Units {
		if u == unit {
			return true
		}
	}
	return unit == it.BaseUnit
}

// ItemCandidate is an item found by a fuzzy search, with how similar it is
// to the query (0..1).
type ItemCandidate struct {
	Item  Item
	Score float64
}

// Price is a price from the price list, per unit of the item's base unit.
type Price struct {
	Amount   decimal.Decimal
	Currency string
}

// MasterData is what extraction checks a draft against. internal/capture
// implements it over the store; lookups that find nothing return false
// and no error; errors are failures of the master data itself.
type MasterData interface {
	// CustomerByNumber finds our customer by its number.
	CustomerByNumber(ctx context.Context, number string) (Customer, bool, error)
	// CustomersByPhone finds customers whose phone or fax number is phone.
	CustomersByPhone(ctx context.Context, phone string) ([]Customer, error)
	// CustomersByEmail finds customers by a sender address (the address
	// or its domain).
	CustomersByEmail(ctx context.Context, address string) ([]Customer, error)
	// CustomersByName finds customers whose name is name (case and
	// spacing aside): the sender's name from the letterhead or the mail.
	CustomersByName(ctx context.Context, name string) ([]Customer, error)
	// ItemBySKU finds our item by SKU.
	ItemBySKU(ctx context.Context, sku string) (Item, bool, error)
	// ItemByPartNumber finds our item by the customer's part number.
	ItemByPartNumber(ctx context.Context, customer, part string) (Item, bool, error)
	// ItemByGTIN finds our item by GTIN (8 to 14 digits).
	ItemByGTIN(ctx context.Context, gtin string) (Item, bool, error)
	// FindItems returns up to limit items whose SKU or description is
	// similar to text, best first.
	FindItems(ctx context.Context, text string, limit int) ([]ItemCandidate, error)
	// PriceFor returns the customer's price of sku for qty base units on
	// date.
	PriceFor(ctx context.Context, customer, sku string, qty decimal.Decimal, date order.Date) (Price, bool, error)
}
