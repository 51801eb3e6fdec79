package masterdata

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// Orders shaped like the corpus documents the example config's partners
// send (see testdata/masterdata/README.md).
func ln(qty, unit, buyer, supplier, gtin string) order.Line {
	return order.Line{Quantity: decimal.MustParse(qty), Unit: unit, BuyerPart: buyer, SupplierPart: supplier, GTIN: gtin}
}

func TestResolveDemo(t *testing.T) {
	st := openStore(t)
	loadDemo(t, st)
	r := NewResolver(st, nil)
	x12 := order.Source{Standard: "X12"}
	edi := order.Source{Standard: "EDIFACT"}
	tests := []struct {
		name              string
		partner, customer string
		o                 order.Order
		wantCustomer      string
		wantFrom          string
		wantShipTo        string
		wantShipToNew     bool
		wantSKUs          []string
		wantUnits         []string
		wantUnresolved    []string
	}{
		{
			name: "node-x12 850: supplier parts, ship-to by DUNS xref", partner: "demo-x12", customer: "C-1000",
			o: order.Order{Source: x12,
				Parties: []order.Party{{Role: order.RoleShipTo, ID: "0003947268292", IDScheme: order.SchemeDUNS, Name: "XYZ RETAIL"}},
				Lines: []order.Line{ln("120", "EA", "065322-117", "AB3542", ""), ln("220", "EA", "066850-116", "RD5322", ""),
					ln("696", "EA", "067504-118", "DX1875", "")}},
			wantCustomer: "C-1000", wantFrom: FromParty, wantShipTo: "XYZ-01", // the ship-to's xref names the customer
			wantSKUs: []string{"AB3542", "RD5322", "DX1875"}, wantUnits: []string{"EA", "EA", "EA"},
		},
		{
			name: "bots 850-05: buyer part xrefs, partner unit CR, ship-to by address", partner: "demo-x12", customer: "C-1000",
			o: order.Order{Source: x12,
				Parties: []order.Party{{Role: order.RoleShipTo, Name: "THERMA TRU INDIANA DOOR",
					Address: &order.Address{Lines: []string{"108 MUTZFELD ROAD"}, City: "BUTLER", PostalCode: "46721", Country: "USA"}}},
				Lines: []order.Line{ln("8", "CR", "MPDGART", "", ""), ln("80", "EA", "MPTS112374-1C", "", "")}},
			wantCustomer: "C-1000", wantFrom: FromPartner, wantShipTo: "TT-IN",
			wantSKUs: []string{"LCK-80-TNG", "HDL-HRL-BN"}, wantUnits: []string{"CA", "EA"},
		},
		{
			name: "bots 850-03: bill-to xref, ship-to by code, lines without ids", partner: "demo-x12", customer: "",
			o: order.Order{Source: x12,
				Parties: []order.Party{{Role: order.RoleBillTo, ID: "1135309", IDScheme: "15"}, {Role: order.RoleShipTo, ID: "6678157", IDScheme: "15"}},
				Lines:   []order.Line{ln("2", "UN", "", "", ""), ln("10", "UN", "", "", "")}},
			wantCustomer: "C-1000", wantFrom: FromParty, wantShipTo: "6678157",
			wantSKUs: []string{"", ""}, wantUnits: []string{"EA", "EA"},
			wantUnresolved: []string{
				"lines[0].sku: the line has no item id (sku, supplier part, GTIN or buyer part)",
				"lines[1].sku: the line has no item id (sku, supplier part, GTIN or buyer part)",
			},
		},
		{
			name: "pydifact ORDERS: buyer GLN xref, ship-to by GLN, GTINs, no units", partner: "demo-edifact", customer: "",
			o: order.Order{Source: edi,
				Parties: []order.Party{{Role: order.RoleBuyer, ID: "8711576000012", IDScheme: order.SchemeGLN},
					{Role: order.RoleShipTo, ID: "8711576100019", IDScheme: order.SchemeGLN}},
				Lines: []order.Line{ln("8", "", "", "", "5020436373085"), ln("8", "PCE", "", "", "5020436373108")}},
			wantCustomer: "C-2000", wantFrom: FromParty, wantShipTo: "DC-5",
			wantSKUs: []string{"UK-373085", "UK-373108"}, wantUnits: []string{"EA", "EA"},
		},
		{
			name: "bots ORDERS: GTIN line, ship-to GLN", partner: "demo-edifact", customer: "C-2000",
			o: order.Order{Source: edi,
				Parties: []order.Party{{Role: order.RoleBuyer, ID: "PARTNER1", IDScheme: order.SchemeGLN},
					{Role: order.RoleShipTo, ID: "8712345678901", IDScheme: order.SchemeGLN}},
				Lines: []order.Line{ln("1", "", "", "", "8712345678901"), ln("1", "", "", "", "2000100873151")}},
			wantCustomer: "C-2000", wantFrom: FromParty, wantShipTo: "NL-01",
			wantSKUs: []string{"PRT-100", "PRT-200"}, wantUnits: []string{"EA", "EA"},
		},
		{
			name: "wikipedia ORDERS: supplier part by xref", partner: "demo-edifact", customer: "C-2000",
			o: order.Order{Source: edi, Parties: []order.Party{{Role: order.RoleBuyer, Name: "Bestellername"}},
				Lines: []order.Line{ln("1000", "", "", "Produkt Schrauben", "")}},
			wantCustomer: "C-2000", wantFrom: FromPartner,
			wantSKUs: []string{"SCR-100"}, wantUnits: []string{"EA"},
		},
		{
			name: "baumarkt-nord: ship-to xref, unknown item, unit not sold, unknown unit", partner: "baumarkt-nord", customer: "C-1001",
			o: order.Order{Source: x12,
				Parties: []order.Party{{Role: order.RoleBuyer, ID: "4012345000009", IDScheme: order.SchemeGLN},
					{Role: order.RoleShipTo, ID: "ST-HH-01", IDScheme: order.SchemeBuyer}},
				Lines: []order.Line{ln("2", "BX", "BN-4711", "", ""), ln("1", "EA", "BN-9999", "", ""),
					ln("5", "LB", "", "SCR-100", ""), ln("5", "ZZZ", "", "", "4012345000023")}},
			wantCustomer: "C-1001", wantFrom: FromParty, wantShipTo: "HH-01",
			wantSKUs: []string{"SCR-100", "", "SCR-100", "HAM-200"}, wantUnits: []string{"BX", "EA", "", ""},
			wantUnresolved: []string{
				"lines[1].sku: no item for buyer part BN-9999",
				"lines[2].unit: SKU SCR-100 is not sold in LB; its units: EA, BX, PL",
				"lines[3].unit: unknown unit code ZZZ",
			},
		},
		{
			name: "new ship-to", partner: "baumarkt-nord", customer: "C-1001",
			o: order.Order{Source: x12,
				Parties: []order.Party{{Role: order.RoleShipTo, ID: "4099999000001", IDScheme: order.SchemeGLN}},
				Lines:   []order.Line{{Quantity: decimal.One, SKU: "HAM-200"}}},
			wantCustomer: "C-1001", wantFrom: FromPartner, wantShipToNew: true,
			wantSKUs: []string{"HAM-200"}, wantUnits: []string{"EA"},
			wantUnresolved: []string{"parties[0].id: ship-to 4099999000001 (GLN) is not a ship-to of customer C-1001"},
		},
		{
			name: "new ship-to address (drop shipment) is not unresolved", partner: "demo-x12", customer: "C-1000",
			o: order.Order{Source: x12,
				Parties: []order.Party{{Role: order.RoleShipTo, Name: "John Doe",
					Address: &order.Address{Lines: []string{"126 Any St"}, PostalCode: "11788-1234", Country: "US"}}},
				Lines: []order.Line{ln("1", "EA", "", "0054321", "")}},
			wantCustomer: "C-1000", wantFrom: FromPartner, wantShipToNew: true,
			wantSKUs: []string{"0054321"}, wantUnits: []string{"EA"},
		},
		{
			name: "desk order: customer given", partner: "", customer: "",
			o: order.Order{Source: order.Source{Standard: "DESK"}, CustomerID: "C-3000",
				Lines: []order.Line{{Quantity: decimal.One, SKU: "CAB-3X15", Unit: "RL"}, {Quantity: decimal.One, SKU: "NOPE"}}},
			wantCustomer: "C-3000", wantFrom: FromOrder,
			wantSKUs: []string{"CAB-3X15", "NOPE"}, wantUnits: []string{"RL", ""}, // the sender's SKU stays
			wantUnresolved: []string{"lines[1].sku: no product NOPE"},
		},
		{
			name: "buyer in the seller scheme is our customer number", partner: "other", customer: "",
			o: order.Order{Source: x12, Parties: []order.Party{{Role: order.RoleBuyer, ID: "C-1001", IDScheme: order.SchemeSeller}},
				Lines: []order.Line{ln("1", "DZ", "", "HAM-200", "")}},
			wantCustomer: "C-1001", wantFrom: FromParty,
			wantSKUs: []string{"HAM-200"}, wantUnits: []string{""},
			wantUnresolved: []string{"lines[0].unit: SKU HAM-200 is not sold in DZ; its units: EA, CT"},
		},
		{
			name: "unknown customer given", partner: "", customer: "",
			o:              order.Order{CustomerID: "C-9999", Lines: []order.Line{}},
			wantUnresolved: []string{"customer_id: customer C-9999 (from the order) is not in master data"},
			wantSKUs:       []string{}, wantUnits: []string{},
		},
		{
			name: "no customer at all", partner: "stranger", customer: "",
			o:              order.Order{Source: x12, Parties: []order.Party{{Role: order.RoleBuyer, ID: "X", IDScheme: "ZZ"}}, Lines: []order.Line{}},
			wantUnresolved: []string{`customer_id: no customer: no buyer, bill-to or ship-to party has a cross-reference and partner "stranger" has no customer`},
			wantSKUs:       []string{}, wantUnits: []string{},
		},
	}
	// Each case twice: with the order's lines prefetched in batches (the
	// store is a BatchLookup) and with one lookup per line and id.
	resolvers := map[string]func(o *order.Order, partner, customer string) (Result, error){
		"batch": func(o *order.Order, partner, customer string) (Result, error) {
			return r.Resolve(context.Background(), o, partner, customer)
		},
		"single": func(o *order.Order, partner, customer string) (res Result, err error) {
			err = st.View(context.Background(), func(tx *store.Tx) error {
				res, err = ResolveWith(context.Background(), singleLookup{tx}, o, partner, customer)
				return err
			})
			return res, err
		},
	}
	for _, tt := range tests {
		for mode, resolve := range resolvers {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				o := tt.o
				o.Lines = slices.Clone(tt.o.Lines)
				res, err := resolve(&o, tt.partner, tt.customer)
				if err != nil {
					t.Fatal(err)
				}
				if res.CustomerID != tt.wantCustomer || res.CustomerFrom != tt.wantFrom || o.CustomerID != firstNonEmpty(tt.wantCustomer, tt.o.CustomerID) {
					t.Errorf("customer: got %q from %q (order %q), want %q from %q", res.CustomerID, res.CustomerFrom, o.CustomerID, tt.wantCustomer, tt.wantFrom)
				}
				if tt.wantCustomer != "" && (res.Customer == nil || res.Customer.Number != tt.wantCustomer) {
					t.Errorf("Result.Customer: got %+v", res.Customer)
				}
				gotShipTo := ""
				if res.ShipTo != nil {
					gotShipTo = res.ShipTo.Code
				}
				if gotShipTo != tt.wantShipTo || res.ShipToNew != tt.wantShipToNew {
					t.Errorf("ship-to: got %q new=%v, want %q new=%v", gotShipTo, res.ShipToNew, tt.wantShipTo, tt.wantShipToNew)
				}
				var skus, units []string
				for i, l := range o.Lines {
					skus = append(skus, l.SKU)
					units = append(units, res.Lines[i].Unit)
					if res.Lines[i].Unit != "" && l.Unit != res.Lines[i].Unit {
						t.Errorf("line %d: order unit %q, result unit %q", i, l.Unit, res.Lines[i].Unit)
					}
				}
				if !slices.Equal(skus, tt.wantSKUs) || !slices.Equal(units, tt.wantUnits) {
					t.Errorf("lines: got skus %q units %q, want %q %q", skus, units, tt.wantSKUs, tt.wantUnits)
				}
				if !slices.Equal(o.Unresolved, tt.wantUnresolved) || !slices.Equal(res.Unresolved, tt.wantUnresolved) {
					t.Errorf("unresolved:\n got %q\nwant %q", o.Unresolved, tt.wantUnresolved)
				}
			})
		}
	}
}

// singleLookup hides the store's batch lookups: one query per line and id.
type singleLookup struct{ Lookup }

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestResolveReplacesOldUnresolvedAndRecordsProvenance(t *testing.T) {
	st := openStore(t)
	loadDemo(t, st)
	ctx := context.Background()
	o := &order.Order{Source: order.Source{Standard: "X12"},
		Lines:      []order.Line{ln("2", "", "BN-4711", "", "")},
		Unresolved: []string{"customer_id", "lines[0].sku: no item for buyer part BN-4711", "po_date: missing"}}
	// Inside a transaction, as the normalize stage does it.
	err := st.View(ctx, func(tx *store.Tx) error {
		_, err := ResolveWith(ctx, tx, o, "baumarkt-nord", "C-1001")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Unresolved, []string{"po_date: missing"}) {
		t.Errorf("unresolved: got %q", o.Unresolved)
	}
	if o.CustomerID != "C-1001" || o.Lines[0].SKU != "SCR-100" || o.Lines[0].Unit != "EA" {
		t.Errorf("order: got customer %q, line %+v", o.CustomerID, o.Lines[0])
	}
	for path, want := range map[string]string{
		"customer_id":   "masterdata: partner",
		"lines[0].sku":  "masterdata: buyer_part xref",
		"lines[0].unit": "masterdata: base unit of SCR-100",
	} {
		if got, _ := o.Provenance.Get(path); got != want {
			t.Errorf("provenance %s: got %q, want %q", path, got, want)
		}
	}
	// Resolving again is stable.
	before := len(o.Provenance)
	if _, err := NewResolver(st, nil).Resolve(ctx, o, "baumarkt-nord", "C-1001"); err != nil {
		t.Fatal(err)
	}
	if len(o.Provenance) != before || !slices.Equal(o.Unresolved, []string{"po_date: missing"}) {
		t.Errorf("second resolve changed the order: provenance %d -> %d, unresolved %q", before, len(o.Provenance), o.Unresolved)
	}
}

func TestStandardUnit(t *testing.T) {
	tests := []struct {
		standard, code, want string
	}{
		{"EDIFACT", "PCE", "EA"}, {"EDIFACT", "C62", "EA"}, {"EDIFACT", "EA", "EA"}, {"EDIFACT", "KGM", "KG"},
		{"EDIFACT", "MTR", "M"}, {"EDIFACT", "CS", "CA"}, {"EDIFACT", "DZN", "DZ"},
		{"X12", "EA", "EA"}, {"X12", "CA", "CA"}, {"X12", "BX", "BX"}, {"X12", "PK", "PK"}, {"X12", "LB", "LB"},
		{"X12", "FT", "FT"}, {"X12", "UN", "EA"}, {"X12", "PC", "EA"}, {"X12", "CR", "M3"},
		{"X12", "KGM", "KG"}, // a Rec 20 code in an X12 order still maps
		{"DESK", "EA", "EA"}, {"DESK", "PCE", "EA"}, {"JSON", "RL", "RL"},
		{"X12", "ZZZ", ""},
	}
	for _, tt := range tests {
		got, ok := StandardUnit(tt.standard, tt.code)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("StandardUnit(%s, %s): got %q, %v, want %q", tt.standard, tt.code, got, ok, tt.want)
		}
	}
	// Every mapping lands on one of our codes.
	for name, table := range map[string]map[string]string{"rec20": rec20Units, "x12": x12Units} {
		for code, ours := range table {
			if UnitName(ours) == "" {
				t.Errorf("%s %s maps to %s, which is not ours", name, code, ours)
			}
		}
	}
	if !strings.Contains(UnitName("EA"), "each") {
		t.Errorf("UnitName(EA): got %q", UnitName("EA"))
	}
}
