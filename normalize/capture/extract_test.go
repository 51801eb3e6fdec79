package capture

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

// fakeMD is master data in maps.
type fakeMD struct {
	customers map[string]Customer
	items     map[string]Item
	parts     map[string]string // customer/part -> sku
	prices    map[string]string // customer/sku -> price
}

func demoMD() *fakeMD {
	return &fakeMD{
		customers: map[string]Customer{
			"C-1001": {Number: "C-1001", Name: "Baumarkt Nord GmbH", Phone: "+49 40 1234560", Email: "einkauf@baumarkt-nord.de", Currency: "EUR"},
			"C-3000": {Number: "C-3000", Name: "Werkzeug Sued KG", Phone: "+49 89 5550123", Currency: "EUR"},
		},
		items: map[string]Item{
			"SCR-100":  {SKU: "SCR-100", GTIN: "012345678905", Description: "Wood screws 4x40", BaseUnit: "EA", Units: []string{"EA", "BX"}},
			"HAM-200":  {SKU: "HAM-200", GTIN: "4012345000023", Description: "Claw hammer 500 g", BaseUnit: "EA", Units: []string{"EA", "CT"}},
			"CAB-3X15": {SKU: "CAB-3X15", Description: "Installation cable 3x1.5 mm2", BaseUnit: "M", Units: []string{"M", "RL"}},
		},
		parts:  map[string]string{"C-1001/BN-4711": "SCR-100"},
		prices: map[string]string{"C-1001/SCR-100": "0.09", "C-1001/HAM-200": "12.50", "C-1001/CAB-3X15": "0.89"},
	}
}

func (m *fakeMD) CustomerByNumber(_ context.Context, n string) (Customer, bool, error) {
	c, ok := m.customers[n]
	return c, ok, nil
}

func (m *fakeMD) CustomersByPhone(_ context.Context, p string) ([]Customer, error) {
	var out []Customer
	for _, c := range m.customers {
		if samePhone(phoneDigits(c.Phone), phoneDigits(p)) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *fakeMD) CustomersByEmail(_ context.Context, a string) ([]Customer, error) {
	var out []Customer
	for _, c := range m.customers {
		if c.Email != "" && strings.EqualFold(c.Email, a) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *fakeMD) CustomersByName(_ context.Context, n string) ([]Customer, error) {
	var out []Customer
	for _, c := range m.customers {
		if strings.EqualFold(strings.Join(strings.Fields(c.Name), " "), strings.Join(strings.Fields(n), " ")) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *fakeMD) ItemBySKU(_ context.Context, s string) (Item, bool, error) {
	it, ok := m.items[s]
	return it, ok, nil
}

func (m *fakeMD) ItemByPartNumber(_ context.Context, c, p string) (Item, bool, error) {
	sku, ok := m.parts[c+"/"+p]
	if !ok {
		return Item{}, false, nil
	}
	return m.items[sku], true, nil
}

func (m *fakeMD) ItemByGTIN(_ context.Context, g string) (Item, bool, error) {
	for _, it := range m.items {
		if it.GTIN != "" && strings.TrimLeft(it.GTIN, "0") == strings.TrimLeft(g, "0") {
			return it, true, nil
		}
	}
	return Item{}, false, nil
}

func (m *fakeMD) FindItems(_ context.Context, text string, limit int) ([]ItemCandidate, error) {
	var out []ItemCandidate
	for _, it := range m.items {
		if strings.Contains(strings.ToLower(it.Description), strings.ToLower(strings.Fields(text + " x")[0])) {
			out = append(out, ItemCandidate{Item: it, Score: 0.9})
		}
	}
	return out, nil
}

func (m *fakeMD) PriceFor(_ context.Context, c, sku string, _ decimal.Decimal, _ order.Date) (Price, bool, error) {
	p, ok := m.prices[c+"/"+sku]
	if !ok {
		return Price{}, false, nil
	}
	return Price{Amount: decimal.MustParse(p), Currency: "EUR"}, true, nil
}

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func TestExtractEmailSentences(t *testing.T) {
	body := "Sehr geehrte Damen und Herren,\n\nhiermit bestellen wir:\n\nBestellnummer: 4500012345\nDatum: 18.11.2026\nKunden-Nr.: C-1001\n\n" +
		"500 Stk SCR-100 Holzschrauben 4x40 à 0,09 EUR\n2 Stk HAM-200 Klauenhammer à 12,50 EUR\n\nGesamtsumme: 70,00 EUR\n"
	o, rep, err := Extract(context.Background(), FromText(body), Options{MasterData: demoMD(), Sender: Sender{Email: "einkauf@baumarkt-nord.de"}, Now: now, Channel: order.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	if o.PONumber != "4500012345" || o.PODate.String() != "2026-11-18" || o.CustomerID != "C-1001" {
		t.Errorf("header = %q %s %q", o.PONumber, o.PODate, o.CustomerID)
	}
	if len(o.Lines) != 2 || o.Lines[0].SKU != "SCR-100" || o.Lines[0].Quantity.String() != "500" || o.Lines[1].UnitPrice.String() != "12.50" {
		t.Fatalf("lines = %+v", o.Lines)
	}
	if o.Status != order.StatusReceived || !rep.Touchless {
		t.Errorf("status %s, low fields %+v", o.Status, rep.Low())
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if _, ok := o.Boxes["po_number"]; !ok {
		t.Error("no box for po_number")
	}
}

func TestExtractRows(t *testing.T) {
	rows := [][]string{
		{"PO Number", "PO-77"}, {"Order Date", "2026-11-18"}, {"Customer No.", "C-1001"}, {},
		{"Line", "Item", "Description", "Quantity", "Unit", "Unit Price", "Amount"},
		{"1", "BN-4711", "Wood screws", "1,000", "pcs", "0.09", "90.00"},
		{"2", "CAB-3X15", "Cable", "100", "m", "0.89", "89.00"},
		{}, {"", "", "", "", "", "Total", "179.00"},
	}
	o, rep, err := Extract(context.Background(), FromRows(rows), Options{MasterData: demoMD(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Lines) != 2 {
		t.Fatalf("%d lines", len(o.Lines))
	}
	l := o.Lines[0]
	if l.SKU != "SCR-100" || l.BuyerPart != "BN-4711" || l.Quantity.String() != "1000" || l.Unit != "EA" {
		t.Errorf("line 1 = %+v", l)
	}
	if o.Lines[1].Unit != "M" {
		t.Errorf("line 2 unit %q", o.Lines[1].Unit)
	}
	if !rep.Touchless {
		t.Errorf("not touchless: %+v", rep.Low())
	}
}

// ocrDoc lays out OCR words on a 2000 x 2800 page: each line is a list of
// (x, text) at height 30; conf applies to every word.
func ocrDoc(conf float64, lines ...[]any) *Document {
	p := Page{Number: 1, Width: 2000, Height: 2800}
	y := 300.0
	for _, l := range lines {
		for i := 0; i+1 < len(l); i += 2 {
			x := float64(l[i].(int))
			text := l[i+1].(string)
			p.Words = append(p.Words, Word{Text: text, Page: 1, X: x, Y: y, W: float64(len(text) * 18), H: 30, Conf: conf})
		}
		y += 60
	}
	return &Document{Kind: KindOCR, Pages: []Page{p}}
}

func faxPage(qty1, price1, amount1, total string) *Document {
	return ocrDoc(0.95,
		[]any{200, "Bestellnummer:", 600, "4500012345"},
		[]any{200, "Datum:", 600, "18.11.2026"},
		[]any{200, "Kunden-Nr.:", 600, "C-1OO1"},
		[]any{200, "Pos", 300, "Art.-Nr.", 600, "Bezeichnung", 1200, "Menge", 1350, "Einheit", 1550, "Preis", 1800, "Gesamt"},
		[]any{200, "1", 300, "SCR-1OO", 600, "Holzschrauben", 1220, qty1, 1350, "Stk", 1550, price1, 1800, amount1},
		[]any{200, "2", 300, "HAM-200", 600, "Hammer", 1240, "2", 1350, "Stk", 1550, "12,50", 1800, "25,00"},
		[]any{1200, "Gesamtsumme", 1800, total},
	)
}

func TestExtractFaxWithMasterData(t *testing.T) {
	tests := []struct {
		name      string
		doc       *Document
		touchless bool
		qty       string
		low       []string // fields that must be below the threshold
	}{
		{"clean, slips in ids repaired", faxPage("500", "0,09", "45,00", "70,00"), true, "500", nil},
		{"quantity misread, amount and list price give it", faxPage("5OO0", "0,09", "45,00", "70,00"), false, "500", []string{"lines[0].quantity"}},
		{"amount disagrees", faxPage("500", "0,09", "46,00", "71,00"), false, "500", []string{"lines[0].quantity", "lines[0].amount"}},
		{"a line missing from the total", faxPage("500", "0,09", "45,00", "99,00"), false, "500", []string{"lines", "totals.amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, rep, err := Extract(context.Background(), tt.doc, Options{MasterData: demoMD(), Sender: Sender{Fax: "040 1234560"}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if o.CustomerID != "C-1001" || o.Lines[0].SKU != "SCR-100" {
				t.Errorf("customer %q, sku %q", o.CustomerID, o.Lines[0].SKU)
			}
			if got := o.Lines[0].Quantity.String(); got != tt.qty {
				t.Errorf("quantity %s, want %s", got, tt.qty)
			}
			if rep.Touchless != tt.touchless {
				t.Errorf("touchless %v, want %v (low: %+v)", rep.Touchless, tt.touchless, rep.Low())
			}
			if (o.Status == order.StatusReview) == tt.touchless {
				t.Errorf("status %s with touchless %v", o.Status, rep.Touchless)
			}
			for _, f := range tt.low {
				if o.Confidence[f] >= rep.Threshold {
					t.Errorf("%s confidence %.2f, want below %.2f", f, o.Confidence[f], rep.Threshold)
				}
			}
			if b, ok := o.Boxes["lines[0].quantity"]; !ok || b.Page != 1 || b.X < 1200 {
				t.Errorf("box of lines[0].quantity = %+v", b)
			}
		})
	}
}

func TestExtractWithoutMasterDataNeverTouchless(t *testing.T) {
	o, rep, err := Extract(context.Background(), faxPage("500", "0,09", "45,00", "70,00"), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Touchless || o.Status != order.StatusReview {
		t.Errorf("an OCR draft without master data went touchless")
	}
}

func TestExtractNoOrder(t *testing.T) {
	_, _, err := Extract(context.Background(), FromText("Hallo,\nwie geht es?\n"), Options{})
	if !errors.Is(err, ErrNoOrder) {
		t.Errorf("err = %v, want ErrNoOrder", err)
	}
}

func TestProfileDateOrder(t *testing.T) {
	body := "PO Number: 77\nDate: 03/04/2026\n\n5 x SCR-100 at 0.09\n"
	for _, tt := range []struct {
		prof *Profile
		want string
		low  bool
	}{{nil, "2026-04-03", true}, {&Profile{Name: "us", DateOrder: MDY}, "2026-03-04", false}} {
		o, _, err := Extract(context.Background(), FromText(body), Options{Profile: tt.prof, Now: time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if o.PODate.String() != tt.want || (o.Confidence["po_date"] < DefaultThreshold) != tt.low {
			t.Errorf("profile %v: date %s conf %.2f, want %s low %v", tt.prof, o.PODate, o.Confidence["po_date"], tt.want, tt.low)
		}
	}
}

func TestParseProfiles(t *testing.T) {
	good := `profiles:
  - name: nord
    match: {fax: ["+49 40 1234560"], email: ["*@baumarkt-nord.de"]}
    customer_id: C-1001
    locale: de
    date_order: DMY
    po_pattern: '^\d{10}$'
    fields: {po_number: {labels: ["Bestellung Nr"], region: {page: 1, x: 0.5, y: 0, w: 0.5, h: 0.3}}}
    columns: {item: ["Art-Nr"]}
`
	ps, err := ParseProfiles(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ps.ForSender(Sender{Fax: "040/1234560"}); !ok || p.Name != "nord" {
		t.Errorf("fax match: %v %v", p, ok)
	}
	if p, ok := ps.ForSender(Sender{Email: "Einkauf@Baumarkt-Nord.de"}); !ok || p.Name != "nord" {
		t.Errorf("email match: %v %v", p, ok)
	}
	if _, ok := ps.ForSender(Sender{Email: "x@example.com"}); ok {
		t.Error("matched a stranger")
	}
	bad := []struct{ yaml, want string }{
		{"profiles:\n  - name: a\n    locale: fr\n", "locale"},
		{"profiles:\n  - name: a\n    date_order: DDM\n", "date_order"},
		{"profiles:\n  - name: a\n    po_pattern: '('\n", "po_pattern"},
		{"profiles:\n  - name: a\n    fields: {total: {}}\n", "fields"},
		{"profiles:\n  - name: a\n    columns: {sku: [x]}\n", "columns"},
		{"profiles:\n  - name: a\n  - name: a\n", "repeats"},
		{"profiles:\n  - locale: de\n", "no name"},
		{"profiles:\n  - name: a\n    colour: red\n", "colour"},
	}
	for _, b := range bad {
		_, err := ParseProfiles(strings.NewReader(b.yaml))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: err %v, want one naming %q", b.yaml, err, b.want)
		}
	}
}

func TestProposeProfile(t *testing.T) {
	box := &order.Box{Page: 1, X: 1000, Y: 200, W: 200, H: 30}
	cs := []Correction{
		{Path: "po_date", Read: "03/04/2026", Draft: "2026-04-03", Value: "2026-03-04"},
		{Path: "po_date", Read: "05/06/2026", Draft: "2026-06-05", Value: "2026-05-06"},
		{Path: "lines[0].quantity", Read: "1.000", Draft: "1", Value: "1000"},
		{Path: "lines[1].unit_price", Read: "1.250", Draft: "1.25", Value: "1250"},
		{Path: "po_number", Draft: "", Value: "PO-4711", Box: box, PageW: 2000, PageH: 2800},
		{Path: "po_number", Draft: "P0-4712", Value: "PO-4712", Box: box, PageW: 2000, PageH: 2800},
	}
	p := ProposeProfile("acme", cs)
	if p.Profile.DateOrder != MDY {
		t.Errorf("date order %q, want MDY (%v)", p.Profile.DateOrder, p.Why)
	}
	if p.Profile.Locale != LocaleDE {
		t.Errorf("locale %q, want de (%v)", p.Profile.Locale, p.Why)
	}
	if p.Profile.PONumberPattern != `^PO-\d{4}$` {
		t.Errorf("po pattern %q", p.Profile.PONumberPattern)
	}
	if h, ok := p.Profile.Fields["po_number"]; !ok || h.Region == nil || h.Region.X > 0.5 || h.Region.X+h.Region.W < 0.6 {
		t.Errorf("po_number region %+v", h)
	}
	if err := p.Profile.compile(); err != nil {
		t.Errorf("the proposal does not compile: %v", err)
	}
	// One correction is not enough.
	if p := ProposeProfile("x", cs[:1]); p.Profile.DateOrder != "" {
		t.Errorf("proposed %q from one correction", p.Profile.DateOrder)
	}
}

func TestCorrections(t *testing.T) {
	q := decimal.MustParse("5")
	draft := &order.Order{PONumber: "P0-1", Lines: []order.Line{{Quantity: q, SKU: "A"}}, Boxes: map[string]order.Box{"po_number": {Page: 1, X: 1}}}
	final := &order.Order{PONumber: "PO-1", Lines: []order.Line{{Quantity: decimal.MustParse("50"), SKU: "A"}}}
	cs := Corrections("s", draft, final, func(p string) string { return "read:" + p }, func(int) (float64, float64) { return 100, 200 })
	if len(cs) != 2 || cs[0].Path != "po_number" || cs[0].Box == nil || cs[0].PageH != 200 || cs[1].Path != "lines[0].quantity" || cs[1].Value != "50" {
		t.Errorf("corrections = %+v", cs)
	}
}

func FuzzExtractText(f *testing.F) {
	f.Add("Bestellnummer: 4711\nDatum: 01.02.2026\n10 x SCR-100 à 0,09\nSumme 0,90")
	f.Add("PO No. 1\nItem Qty Price\nA 1 2\n")
	f.Add("Pos Art.-Nr. Menge Preis\n1 X 1.260,00 1,260.00\n")
	f.Fuzz(func(t *testing.T, body string) {
		o, _, err := Extract(context.Background(), FromText(body), Options{MasterData: demoMD(), Now: now})
		if err != nil {
			return
		}
		for k, c := range o.Confidence {
			if c < 0 || c > 1 {
				t.Fatalf("confidence %s = %v", k, c)
			}
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1.260,00", "1,260.00", "12,-", "€ 3", "1O,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseNumber(s, LocaleAuto)
		ParseDate(s, MDY)
	})
}

func TestCustomerFromLetterhead(t *testing.T) {
	body := "Baumarkt Nord GmbH\nLagerstrasse 5, 20457 Hamburg\n\nBestellnummer: 77\nDatum: 18.11.2026\n\n500 Stk SCR-100 à 0,09\n"
	o, _, err := Extract(context.Background(), FromText(body), Options{MasterData: demoMD(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if o.CustomerID != "C-1001" || o.Confidence["customer_id"] < DefaultThreshold {
		t.Errorf("customer %q at %.2f", o.CustomerID, o.Confidence["customer_id"])
	}
	// Two customers named: a human decides.
	body = "Baumarkt Nord GmbH\nWerkzeug Sued KG\n\nBestellnummer: 77\nDatum: 18.11.2026\n\n500 Stk SCR-100 à 0,09\n"
	o, _, err = Extract(context.Background(), FromText(body), Options{MasterData: demoMD(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if o.CustomerID != "" || o.Status != order.StatusReview {
		t.Errorf("customer %q, status %s", o.CustomerID, o.Status)
	}
}
