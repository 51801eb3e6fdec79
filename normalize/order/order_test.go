package order

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

func dec(s string) *decimal.Decimal {
	d := decimal.MustParse(s)
	return &d
}

func sample() Order {
	n := 1
	return Order{
		Channel:  ChannelEDI,
		Source:   Source{Standard: "X12", Version: "004010", SenderID: "BAUMARKTNORD", SenderQualifier: "ZZ", InterchangeControl: "000004711"},
		Purpose:  PurposeOriginal,
		PONumber: "4500012345",
		PODate:   Date{2026, time.November, 18},
		Currency: "EUR",
		Parties: []Party{{Role: RoleShipTo, ID: "ST-HH-01", IDScheme: SchemeBuyer, Name: "Lager",
			Address: &Address{Lines: []string{"Lagerstrasse 5"}, City: "Hamburg", PostalCode: "20457", Country: "DE"}}},
		Lines:  []Line{{LineNo: "1", Quantity: decimal.MustParse("24"), Unit: "EA", UnitPrice: dec("12.50"), GTIN: "012345678905"}},
		Totals: &Totals{LineCount: &n, Amount: dec("300.00")},
	}
}

func TestJSONContract(t *testing.T) {
	o := sample()
	o.SetProvenance("lines[0].quantity", "segment 12 PO102")
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`"unit_price":"12.50"`, `"quantity":"24"`, `"po_date":"2026-11-18"`, `"amount":"300.00"`,
		`"line_count":1`, `"test":false`, `"role":"ship_to"`, `"id_scheme":"buyer"`,
		`"provenance":{"lines[0].quantity":"segment 12 PO102"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("JSON lacks %s:\n%s", want, got)
		}
	}
	for _, absent := range []string{`"requested_delivery"`, `"id":""`, `"holds"`, `"confidence"`} {
		if strings.Contains(got, absent) {
			t.Errorf("JSON has %s although it is empty:\n%s", absent, got)
		}
	}
	var back Order
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != got {
		t.Errorf("round trip changed the JSON:\n%s\n%s", got, b2)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Order)
		paths  []string
	}{
		{"valid", func(*Order) {}, nil},
		{"no po number", func(o *Order) { o.PONumber = " " }, []string{"po_number"}},
		{"bad channel", func(o *Order) { o.Channel = "pigeon" }, []string{"channel"}},
		{"bad currency", func(o *Order) { o.Currency = "eur" }, []string{"currency"}},
		{"no lines", func(o *Order) { o.Lines = nil; o.Totals = nil }, []string{"lines"}},
		{"cancel without lines", func(o *Order) { o.Lines = nil; o.Totals = nil; o.Purpose = PurposeCancel }, nil},
		{"zero quantity and negative price", func(o *Order) {
			o.Lines[0].Quantity = decimal.Zero
			o.Lines[0].UnitPrice = dec("-1")
		}, []string{"lines[0].quantity", "lines[0].unit_price"}},
		{"duplicate line numbers", func(o *Order) { o.Lines = append(o.Lines, o.Lines[0]); n := 2; o.Totals.LineCount = &n },
			[]string{"lines[1].line_no"}},
		{"line count mismatch", func(o *Order) { n := 3; o.Totals.LineCount = &n }, []string{"totals.line_count"}},
		{"no item id", func(o *Order) { o.Lines[0].GTIN = "" }, []string{"lines[0].sku"}},
		{"bad country", func(o *Order) { o.Parties[0].Address.Country = "Germany" }, []string{"parties[0].address.country"}},
		{"confidence out of range", func(o *Order) { o.Confidence = map[string]float64{"po_number": 1.5} }, []string{"confidence.po_number"}},
		{"many at once", func(o *Order) { o.PONumber = ""; o.Currency = "X" }, []string{"po_number", "currency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sample()
			tt.mutate(&o)
			err := o.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("%v is not a *FieldError", e)
					}
					got = append(got, fe.Path)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.paths, ",") {
				t.Errorf("Validate paths = %v, want %v (err: %v)", got, tt.paths, err)
			}
		})
	}
}

func TestDates(t *testing.T) {
	pivot := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"20261118", "2026-11-18", true},
		{"261118", "2026-11-18", true},
		{"991231", "1999-12-31", true},
		{"20260230", "", false},
		{"2026111", "", false},
		{"2026111X", "", false},
	}
	for _, tt := range tests {
		d, err := ParseCompactDate(tt.in, pivot)
		if (err == nil) != tt.ok || d.String() != tt.want {
			t.Errorf("ParseCompactDate(%q) = %q, %v; want %q ok=%v", tt.in, d, err, tt.want, tt.ok)
		}
	}
	var d Date
	if err := json.Unmarshal([]byte(`"2026-02-29"`), &d); err == nil {
		t.Errorf("2026-02-29 accepted")
	}
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || !d.IsZero() {
		t.Errorf("null: %v %v", d, err)
	}
}

func TestValidGTIN(t *testing.T) {
	for s, want := range map[string]bool{
		"012345678905": true, "4006381333931": true, "96385074": true, "10012345678902": true,
		"012345678906": false, "40063813339": false, "40063813339X1": false,
	} {
		if got := ValidGTIN(s); got != want {
			t.Errorf("ValidGTIN(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLinesTotal(t *testing.T) {
	o := sample()
	o.Lines = append(o.Lines, Line{LineNo: "2", Quantity: decimal.MustParse("3"), UnitPrice: dec("0.333")})
	got, ok := o.LinesTotal()
	if !ok || got.String() != "300.999" {
		t.Errorf("LinesTotal = %s %v, want 300.999", got, ok)
	}
	o.Lines[1].UnitPrice = nil
	if _, ok := o.LinesTotal(); ok {
		t.Errorf("LinesTotal ok with an unpriced line")
	}
}
