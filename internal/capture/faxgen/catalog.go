package faxgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/govalues/decimal"
)

// Truth is what a generated document says, in canonical form.
type Truth struct {
	Layout      string      `json:"layout"`
	PONumber    string      `json:"po_number"`
	PODate      string      `json:"po_date"` // YYYY-MM-DD
	CustomerID  string      `json:"customer_id"`
	SenderFax   string      `json:"sender_fax"`
	SenderName  string      `json:"sender_name"`
	SenderEmail string      `json:"sender_email"`
	Currency    string      `json:"currency"`
	Lines       []TruthLine `json:"lines"`
	Total       string      `json:"total"`
	Delivery    string      `json:"requested_delivery,omitempty"`
	FaxTime     time.Time   `json:"fax_time"`
}

// TruthLine is one line of a generated order.
type TruthLine struct {
	SKU       string `json:"sku"`
	Printed   string `json:"printed_id"` // the id on the document (SKU, part number or GTIN)
	Desc      string `json:"description"`
	Quantity  string `json:"quantity"`
	Unit      string `json:"unit"` // our code
	UnitPrice string `json:"unit_price"`
	Amount    string `json:"amount"`
	price     decimal.Decimal
	qty       decimal.Decimal
}

type product struct {
	sku, gtin, desc, descEN, unit string
	list                          string
	qtys                          []int64
}

// The EUR items of the demo master data; list prices as in
// testdata/masterdata/prices.csv.
var products = []product{
	{"PRT-100", "8712345678901", "Gartenschlauch 20 m", "Garden hose 20 m", "EA", "24.90", []int64{2, 3, 4, 5, 6, 8}},
	{"PRT-200", "2000100873151", "Schlauchwagen", "Hose reel", "EA", "39.00", []int64{1, 2, 3, 4, 5}},
	{"PRT-300", "", "Spritzduese", "Spray nozzle", "EA", "4.50", []int64{10, 20, 25, 40, 50}},
	{"UK-373085", "5020436373085", "Giesskanne 5 l", "Watering can 5 l", "EA", "7.90", []int64{4, 6, 8, 12, 16}},
	{"UK-373108", "5020436373108", "Giesskanne 10 l", "Watering can 10 l", "EA", "11.90", []int64{4, 6, 8, 10, 12}},
	{"SCR-100", "012345678905", "Holzschrauben 4x40", "Wood screws 4x40", "EA", "0.12", []int64{100, 200, 300, 500, 800}},
	{"HAM-200", "4012345000023", "Klauenhammer 500 g", "Claw hammer 500 g", "EA", "14.90", []int64{2, 3, 5, 6, 10}},
	{"CAB-3X15", "", "Installationskabel 3x1,5 mm2", "Installation cable 3x1.5 mm2", "M", "0.89", []int64{50, 100, 150, 200, 250}},
}

type customer struct {
	number, name, phone, email, priceList, partner string
	street, city                                   string
}

var customers = map[string]customer{
	"C-1001": {"C-1001", "Baumarkt Nord GmbH", "+49 40 1234560", "einkauf@baumarkt-nord.de", "", "baumarkt-nord", "Lagerstrasse 5", "20457 Hamburg"},
	"C-2000": {"C-2000", "Demo EDIFACT Buyer B.V.", "+31 20 555 0199", "inkoop@demo-edifact.example.com", "WHOLESALE", "demo-edifact", "Havenweg 1", "3011 AA Rotterdam"},
	"C-3000": {"C-3000", "Werkzeug Sued KG", "+49 89 5550123", "einkauf@werkzeug-sued.example.com", "", "werkzeug-sued", "Industriestrasse 7", "80339 Muenchen"},
}

// partNumbers are the customers' own part numbers for our SKUs, as in
// testdata/capture/masterdata/xrefs.csv.
var partNumbers = map[string]map[string]string{
	"C-3000": {"PRT-100": "WS-10471", "PRT-200": "WS-10472", "PRT-300": "WS-10473", "UK-373085": "WS-20815",
		"UK-373108": "WS-20816", "SCR-100": "WS-33100", "HAM-200": "WS-40200", "CAB-3X15": "WS-55315"},
}

// priceFor mirrors the demo price rows: contract, then the customer's
// price list, then the list price; for the quantities the generator uses.
func priceFor(cust, sku string, qty int64) decimal.Decimal {
	p := ""
	switch {
	case cust == "C-1001" && sku == "SCR-100" && qty < 10000:
		p = "0.09"
	case cust == "C-1001" && sku == "HAM-200":
		p = "12.50"
	case cust == "C-2000" && sku == "PRT-300":
		p = "25.00"
	case cust == "C-2000" && sku == "PRT-100" && qty >= 10:
		p = "19.50"
	case cust == "C-2000" && sku == "PRT-100":
		p = "21.00"
	case sku == "SCR-100" && qty >= 1000:
		p = "0.10"
	}
	if p == "" {
		for _, pr := range products {
			if pr.sku == sku {
				p = pr.list
			}
		}
	}
	return decimal.MustParse(p)
}

// newTruth draws an order of the layout's sender.
func newTruth(l *layout, rng *rand.Rand) Truth {
	c := customers[l.customer]
	day := 2 + rng.IntN(26)
	month := time.Month(9 + rng.IntN(3))
	po := time.Date(2026, month, day, 0, 0, 0, 0, time.UTC)
	fax := po.Add(time.Duration(rng.IntN(3))*24*time.Hour + time.Duration(8*60+rng.IntN(9*60))*time.Minute)
	t := Truth{Layout: l.name, PONumber: l.poNumber(rng), PODate: po.Format("2006-01-02"), CustomerID: c.number,
		SenderFax: c.phone, SenderName: c.name, SenderEmail: c.email, Currency: "EUR", FaxTime: fax}
	if l.delivery {
		t.Delivery = po.AddDate(0, 0, 7+rng.IntN(21)).Format("2006-01-02")
	}
	n := 2 + rng.IntN(l.maxLines-1)
	perm := rng.Perm(len(products))
	total := decimal.Zero
	for _, pi := range perm {
		if len(t.Lines) == n {
			break
		}
		p := products[pi]
		if l.byGTIN && p.gtin == "" {
			continue
		}
		q := p.qtys[rng.IntN(len(p.qtys))]
		price := priceFor(c.number, p.sku, q)
		qty := decimal.MustNew(q, 0)
		amount, _ := qty.Mul(price)
		amount = amount.Round(2).Pad(2)
		price = price.Pad(2)
		printed := p.sku
		switch {
		case l.byGTIN:
			printed = p.gtin
		case l.byPart:
			printed = partNumbers[c.number][p.sku]
		}
		desc := p.desc
		if l.english {
			desc = p.descEN
		}
		t.Lines = append(t.Lines, TruthLine{SKU: p.sku, Printed: printed, Desc: desc, Quantity: qty.String(), Unit: p.unit,
			UnitPrice: price.String(), Amount: amount.String(), price: price, qty: qty})
		total, _ = total.Add(amount)
	}
	t.Total = total.Pad(2).String()
	return t
}

// Number formats.
func fmtNum(d decimal.Decimal, de bool, scale int) string {
	d = d.Round(scale).Pad(scale)
	s := d.String()
	intPart, frac := s, ""
	if i := indexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	var grouped []byte
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			if de {
				grouped = append(grouped, '.')
			} else {
				grouped = append(grouped, ',')
			}
		}
		grouped = append(grouped, intPart[i])
	}
	if frac == "" {
		return string(grouped)
	}
	if de {
		return string(grouped) + "," + frac
	}
	return string(grouped) + "." + frac
}

func indexByte(s string, c byte) int {
	for i := range len(s) {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func mustDate(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(fmt.Sprintf("faxgen: bad date %q", s))
	}
	return t
}

func decimalZero() decimal.Decimal { return decimal.Zero }
