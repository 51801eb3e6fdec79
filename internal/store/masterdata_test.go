package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/normalize/order"
)

func dec(s string) decimal.Decimal { return decimal.MustParse(s) }

func decp(s string) *decimal.Decimal { d := decimal.MustParse(s); return &d }

func date(s string) order.Date {
	if s == "" {
		return order.Date{}
	}
	d, err := order.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// seedMasterdata stores two customers, a ship-to and three products.
func seedMasterdata(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	write(t, s, func(tx *Tx) error {
		for _, c := range []Customer{
			{Number: "C-1000", Name: "Baumarkt Nord GmbH", Phone: "+49 40 123456", Currency: "EUR", CreditLimit: decp("10000.00"),
				OpenBalance: dec("2500.00"), PaymentTerms: "30 days net", PriceList: "WHOLESALE", SalesRep: "Anna Berg", SalesRepEmail: "anna@example.com"},
			{Number: "C-1001", Name: "Bau & Garten AG", Phone: "+49 89 555000", Currency: "EUR"},
			{Number: "C-2000", Name: "Nordic Tools AB", Phone: "+46 8 1234", Currency: "SEK", Blocked: true},
		} {
			if _, err := tx.UpsertCustomer(ctx, c); err != nil {
				return err
			}
		}
		if _, err := tx.UpsertShipTo(ctx, ShipTo{CustomerNumber: "C-1000", Code: "HH-01", Name: "Lager Hamburg", City: "Hamburg",
			PostalCode: "20457", Country: "DE", GLN: "4012345000016"}); err != nil {
			return err
		}
		for _, p := range []Product{
			{SKU: "SCR-100", GTIN: "012345678905", Description: "Wood screws 4x40", BaseUnit: "EA",
				PackUnits: []PackUnit{{Unit: "PL", Factor: dec("4800")}, {Unit: "BX", Factor: dec("100")}}, MinOrderQty: decp("100")},
			{SKU: "HAM-200", GTIN: "4012345000023", Description: "Claw hammer", BaseUnit: "EA"},
			{SKU: "CAB-3X15", Description: "Cable 3x1.5", BaseUnit: "M"},
		} {
			if _, err := tx.UpsertProduct(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestMasterdataMigrationApplies(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		v, err := s.SchemaVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v < 3 {
			t.Fatalf("schema version: got %d, want >= 3", v)
		}
		for _, table := range []string{"customers", "ship_tos", "products", "prices", "party_xrefs", "item_xrefs", "unit_xrefs"} {
			if n := count(t, s, table); n != 0 {
				t.Errorf("%s: got %d rows on a fresh database, want 0", table, n)
			}
		}
	})
}

func TestCustomerUpsertAndGet(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		clock := newFakeClock()
		s := drv.open(t, clock)
		ctx := context.Background()
		c := Customer{Number: "C-1", Name: "Acme", Currency: "EUR", CreditLimit: decp("500.00"), OpenBalance: dec("12.50"), Blocked: true,
			SalesRep: "Bob", SalesRepEmail: "bob@example.com", PaymentTerms: "14 days"}
		var got []Upsert
		up := func(c Customer) {
			write(t, s, func(tx *Tx) error {
				u, err := tx.UpsertCustomer(ctx, c)
				got = append(got, u)
				return err
			})
		}
		up(c)
		up(c)
		clock.Advance(1e9)
		c.OpenBalance = dec("13.50")
		up(c)
		if want := []Upsert{Inserted, Unchanged, Updated}; !slices.Equal(got, want) {
			t.Fatalf("upserts: got %v, want %v", got, want)
		}
		r, err := s.GetCustomer(ctx, "C-1")
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != "Acme" || r.Currency != "EUR" || r.CreditLimit == nil || r.CreditLimit.String() != "500.00" ||
			r.OpenBalance.String() != "13.50" || !r.Blocked || r.SalesRep != "Bob" || r.SalesRepEmail != "bob@example.com" ||
			r.PaymentTerms != "14 days" || !r.UpdatedAt.Equal(clock.Now()) {
			t.Errorf("customer: got %+v", r)
		}
		if _, err := s.GetCustomer(ctx, "C-2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing customer: got %v, want ErrNotFound", err)
		}
		// No credit limit is nil, not zero.
		up(Customer{Number: "C-3", Name: "No limit", Currency: "EUR"})
		if r, err := s.GetCustomer(ctx, "C-3"); err != nil || r.CreditLimit != nil || !r.OpenBalance.IsZero() {
			t.Errorf("customer without limit: got %+v, %v", r, err)
		}
		err = s.Write(ctx, func(tx *Tx) error { _, err := tx.UpsertCustomer(ctx, Customer{Number: "C-4"}); return err })
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("customer without name: got %v, want ErrInvalid", err)
		}
	})
}

func TestFindCustomers(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		seedMasterdata(t, s)
		ctx := context.Background()
		tests := []struct {
			query string
			limit int
			want  []string
		}{
			{"c-10", 10, []string{"C-1000", "C-1001"}},
			{"C-1000", 10, []string{"C-1000"}},
			{"bau", 10, []string{"C-1000", "C-1001"}},
			{"BAUMARKT", 10, []string{"C-1000"}},
			{"nordic", 10, []string{"C-2000"}},
			{"+49", 10, []string{"C-1000", "C-1001"}},
			{"49 40", 10, []string{"C-1000"}},
			{"46", 10, []string{"C-2000"}},
			{"bau", 1, []string{"C-1000"}},
			{"markt", 10, nil}, // inside the name, not a prefix
			{"xyz", 10, nil},
		}
		for _, tt := range tests {
			cs, err := s.FindCustomers(ctx, tt.query, tt.limit)
			if err != nil {
				t.Fatalf("%q: %v", tt.query, err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Number)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("FindCustomers(%q, %d): got %v, want %v", tt.query, tt.limit, got, tt.want)
			}
		}
		if _, err := s.FindCustomers(ctx, "x", 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit 0: got %v, want ErrInvalid", err)
		}
	})
}

func TestShipTos(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		seedMasterdata(t, s)
		ctx := context.Background()
		var u Upsert
		write(t, s, func(tx *Tx) (err error) {
			u, err = tx.UpsertShipTo(ctx, ShipTo{CustomerNumber: "C-1000", Code: "B-02", Name: "Lager Bremen", Country: "DE"})
			return err
		})
		if u != Inserted {
			t.Errorf("new ship-to: got %v", u)
		}
		got, err := s.ShipTos(ctx, "C-1000")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Code != "B-02" || got[1].Code != "HH-01" || got[1].GLN != "4012345000016" || got[1].City != "Hamburg" {
			t.Errorf("ship-tos: got %+v", got)
		}
		err = s.Write(ctx, func(tx *Tx) error {
			_, err := tx.UpsertShipTo(ctx, ShipTo{CustomerNumber: "C-9", Code: "X"})
			return err
		})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("ship-to of a missing customer: got %v, want ErrNotFound", err)
		}
		if none, err := s.ShipTos(ctx, "C-1001"); err != nil || len(none) != 0 {
			t.Errorf("customer without ship-tos: got %v, %v", none, err)
		}
	})
}

func TestProducts(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		seedMasterdata(t, s)
		ctx := context.Background()
		p, err := s.GetProduct(ctx, "SCR-100")
		if err != nil {
			t.Fatal(err)
		}
		if p.BaseUnit != "EA" || len(p.PackUnits) != 2 || p.PackUnits[0].Unit != "BX" || p.PackUnits[1].Unit != "PL" ||
			p.MinOrderQty == nil || p.MinOrderQty.String() != "100" {
			t.Errorf("product: got %+v", p)
		}
		if f, ok := p.Factor("BX"); !ok || f.String() != "100" {
			t.Errorf("Factor(BX): got %s, %v", f, ok)
		}
		if f, ok := p.Factor("EA"); !ok || f.String() != "1" {
			t.Errorf("Factor(EA): got %s, %v", f, ok)
		}
		if _, ok := p.Factor("KG"); ok {
			t.Error("Factor(KG): got ok for a unit the product is not sold in")
		}
		if got := p.Units(); !slices.Equal(got, []string{"EA", "BX", "PL"}) {
			t.Errorf("Units: got %v", got)
		}
		// GTINs compare as GTIN-14: the UPC-A and its EAN-13 and GTIN-14 forms.
		for _, g := range []string{"012345678905", "0012345678905", "00012345678905"} {
			if p, err := s.ProductByGTIN(ctx, g); err != nil || p.SKU != "SCR-100" {
				t.Errorf("ProductByGTIN(%s): got %q, %v", g, p.SKU, err)
			}
		}
		for _, g := range []string{"4012345000030", "", "abc"} {
			if _, err := s.ProductByGTIN(ctx, g); !errors.Is(err, ErrNotFound) {
				t.Errorf("ProductByGTIN(%q): got %v, want ErrNotFound", g, err)
			}
		}
		if _, err := s.GetProduct(ctx, "NOPE"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing product: got %v", err)
		}
		tests := []struct {
			query string
			want  []string
		}{
			{"scr", []string{"SCR-100"}},
			{"c", []string{"CAB-3X15", "HAM-200"}}, // cable by SKU, claw hammer by description
			{"wood", []string{"SCR-100"}},
			{"4012345000023", []string{"HAM-200"}},
			{"12345678905", nil}, // 11 digits: not a GTIN
			{"zzz", nil},
		}
		for _, tt := range tests {
			ps, err := s.FindProducts(ctx, tt.query, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.SKU)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("FindProducts(%q): got %v, want %v", tt.query, got, tt.want)
			}
		}
		// Pack units given in another order are the same product.
		var u Upsert
		write(t, s, func(tx *Tx) (err error) {
			u, err = tx.UpsertProduct(ctx, Product{SKU: "SCR-100", GTIN: "012345678905", Description: "Wood screws 4x40", BaseUnit: "EA",
				PackUnits: []PackUnit{{Unit: "BX", Factor: dec("100.0")}, {Unit: "PL", Factor: dec("4800")}}, MinOrderQty: decp("100.00")})
			return err
		})
		if u != Unchanged {
			t.Errorf("same product again: got %v, want unchanged", u)
		}
		// Attributes round trip (Products, which routing reads, too),
		// whatever order the map has; a bad key is ErrInvalid.
		attrs := map[string]string{"temperature": "frozen", "hazmat": "true"}
		write(t, s, func(tx *Tx) (err error) {
			u, err = tx.UpsertProduct(ctx, Product{SKU: "FRZ-1", Description: "Frozen peas", BaseUnit: "KG", Attributes: attrs})
			return err
		})
		if u != Inserted {
			t.Errorf("product with attributes: got %v, want inserted", u)
		}
		byKey, err := s.Products(ctx, []string{"FRZ-1", "SCR-100"})
		if err != nil {
			t.Fatal(err)
		}
		if got := byKey["FRZ-1"].Attributes; !maps.Equal(got, attrs) {
			t.Errorf("attributes: got %v, want %v", got, attrs)
		}
		if got := byKey["SCR-100"].Attributes; len(got) != 0 {
			t.Errorf("attributes of a product without: got %v", got)
		}
		write(t, s, func(tx *Tx) (err error) {
			u, err = tx.UpsertProduct(ctx, Product{SKU: "FRZ-1", Description: "Frozen peas", BaseUnit: "KG", Attributes: map[string]string{"hazmat": "true", "temperature": "frozen"}})
			return err
		})
		if u != Unchanged {
			t.Errorf("same attributes again: got %v, want unchanged", u)
		}
		for _, bad := range []map[string]string{{"Haz": "x"}, {"hazmat": "a;b"}} {
			err = s.Write(ctx, func(tx *Tx) error {
				_, err := tx.UpsertProduct(ctx, Product{SKU: "FRZ-1", Description: "Frozen peas", BaseUnit: "KG", Attributes: bad})
				return err
			})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("attributes %v: got %v, want ErrInvalid", bad, err)
			}
		}
		err = s.Write(ctx, func(tx *Tx) error {
			_, err := tx.UpsertProduct(ctx, Product{SKU: "X", Description: "x", BaseUnit: "EA", GTIN: "12345"})
			return err
		})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("bad GTIN: got %v, want ErrInvalid", err)
		}
	})
}

func TestPriceFor(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		seedMasterdata(t, s)
		ctx := context.Background()
		prices := []Price{
			// Standard list: two breaks.
			{SKU: "SCR-100", MinQty: dec("1"), Price: dec("0.10"), Currency: "EUR"},
			{SKU: "SCR-100", MinQty: dec("1000"), Price: dec("0.08"), Currency: "EUR"},
			// C-1000's price list.
			{PriceList: "WHOLESALE", SKU: "SCR-100", MinQty: dec("1"), Price: dec("0.09"), Currency: "EUR"},
			// C-1000's contract: from 500, only in 2026; a newer row from December.
			{CustomerNumber: "C-1000", SKU: "SCR-100", MinQty: dec("500"), Price: dec("0.07"), Currency: "EUR",
				ValidFrom: date("2026-01-01"), ValidTo: date("2026-12-31")},
			{CustomerNumber: "C-1000", SKU: "SCR-100", MinQty: dec("500"), Price: dec("0.065"), Currency: "EUR",
				ValidFrom: date("2026-12-01"), ValidTo: date("2026-12-31")},
			{CustomerNumber: "C-1000", SKU: "SCR-100", MinQty: dec("5000"), Price: dec("0.06"), Currency: "EUR",
				ValidFrom: date("2026-01-01")},
			// C-1001 has a contract for the hammer only; HAM-200 has no list price.
			{CustomerNumber: "C-1001", SKU: "HAM-200", MinQty: dec("0"), Price: dec("9.90"), Currency: "EUR"},
		}
		write(t, s, func(tx *Tx) error {
			for _, p := range prices {
				if _, err := tx.UpsertPrice(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		tests := []struct {
			name     string
			customer string
			sku      string
			qty      string
			on       string
			want     string
			source   PriceSource
			err      error
		}{
			{"list price", "", "SCR-100", "10", "2026-06-01", "0.10", PriceListPrice, nil},
			{"list break", "", "SCR-100", "1000", "2026-06-01", "0.08", PriceListPrice, nil},
			{"list below the first break", "", "SCR-100", "0.5", "2026-06-01", "", "", ErrNotFound},
			{"customer without contract or list", "C-1001", "SCR-100", "2000", "2026-06-01", "0.08", PriceListPrice, nil},
			{"price list beats list", "C-1000", "SCR-100", "10", "2026-06-01", "0.09", PriceFromList, nil},
			{"contract beats price list", "C-1000", "SCR-100", "500", "2026-06-01", "0.07", PriceContract, nil},
			{"contract break", "C-1000", "SCR-100", "5000", "2026-06-01", "0.06", PriceContract, nil},
			{"contract newest valid_from wins", "C-1000", "SCR-100", "600", "2026-12-15", "0.065", PriceContract, nil},
			{"contract valid_to inclusive", "C-1000", "SCR-100", "600", "2026-12-31", "0.065", PriceContract, nil},
			{"contract expired: price list", "C-1000", "SCR-100", "600", "2027-01-01", "0.09", PriceFromList, nil},
			{"contract expired, open break still valid", "C-1000", "SCR-100", "6000", "2027-01-01", "0.06", PriceContract, nil},
			{"contract not yet valid", "C-1000", "SCR-100", "600", "2025-12-31", "0.09", PriceFromList, nil},
			{"contract only", "C-1001", "HAM-200", "1", "2026-06-01", "9.90", PriceContract, nil},
			{"no price", "C-1000", "HAM-200", "1", "2026-06-01", "", "", ErrNotFound},
			{"unknown customer gets the list", "C-9", "SCR-100", "1", "2026-06-01", "0.10", PriceListPrice, nil},
			{"no date", "C-1000", "SCR-100", "1", "", "", "", ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := s.PriceFor(ctx, tt.customer, tt.sku, dec(tt.qty), date(tt.on))
				if tt.err != nil {
					if !errors.Is(err, tt.err) {
						t.Fatalf("got %v, want %v", err, tt.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if p.Price.String() != tt.want || p.Source() != tt.source || p.Currency != "EUR" {
					t.Errorf("got %s (%s %s), want %s (%s)", p.Price, p.Source(), p.Currency, tt.want, tt.source)
				}
			})
		}
		// The same break written as 1000.00 is the same row.
		var u Upsert
		write(t, s, func(tx *Tx) (err error) {
			u, err = tx.UpsertPrice(ctx, Price{SKU: "SCR-100", MinQty: dec("1000.00"), Price: dec("0.075"), Currency: "EUR"})
			return err
		})
		if u != Updated {
			t.Errorf("break 1000.00: got %v, want updated", u)
		}
		if n := count(t, s, "prices"); n != len(prices) {
			t.Errorf("prices: got %d rows, want %d", n, len(prices))
		}
		bad := []Price{
			{SKU: "NOPE", MinQty: dec("1"), Price: dec("1"), Currency: "EUR"},
			{CustomerNumber: "C-9", SKU: "SCR-100", MinQty: dec("1"), Price: dec("1"), Currency: "EUR"},
			{CustomerNumber: "C-1000", PriceList: "X", SKU: "SCR-100", MinQty: dec("1"), Price: dec("1"), Currency: "EUR"},
			{SKU: "SCR-100", MinQty: dec("1"), Price: dec("-1"), Currency: "EUR"},
			{SKU: "SCR-100", MinQty: dec("1"), Price: dec("1"), Currency: "EUR", ValidFrom: date("2026-02-01"), ValidTo: date("2026-01-01")},
			{SKU: "SCR-100", MinQty: dec("1"), Price: dec("1")},
		}
		for _, p := range bad {
			err := s.Write(ctx, func(tx *Tx) error { _, err := tx.UpsertPrice(ctx, p); return err })
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFound) {
				t.Errorf("UpsertPrice(%+v): got %v, want ErrInvalid or ErrNotFound", p, err)
			}
		}
	})
}

func TestXrefs(t *testing.T) {
	forEachDriver(t, func(t *testing.T, drv testDriver) {
		s := drv.open(t, nil)
		seedMasterdata(t, s)
		ctx := context.Background()
		write(t, s, func(tx *Tx) error {
			for _, x := range []PartyXref{
				{PartnerID: "nord", Scheme: "GLN", PartyID: "4012345000009", CustomerNumber: "C-1000"},
				{PartnerID: "nord", Scheme: "", PartyID: "4012345000016", CustomerNumber: "C-1000", ShipToCode: "HH-01"},
				{PartnerID: "", Scheme: "GLN", PartyID: "4012345000009", CustomerNumber: "C-1001"},
				{PartnerID: "", Scheme: "", PartyID: "ANY", CustomerNumber: "C-2000"},
			} {
				if _, err := tx.UpsertPartyXref(ctx, x); err != nil {
					return err
				}
			}
			for _, x := range []ItemXref{
				{PartnerID: "nord", PartnerItem: "BN-4711", SKU: "SCR-100"},
				{PartnerID: "", PartnerItem: "BN-4711", SKU: "HAM-200"},
			} {
				if _, err := tx.UpsertItemXref(ctx, x); err != nil {
					return err
				}
			}
			for _, x := range []UnitXref{
				{PartnerID: "nord", PartnerUnit: "ST", Unit: "EA"},
				{PartnerID: "", PartnerUnit: "ST", Unit: "SET"},
			} {
				if _, err := tx.UpsertUnitXref(ctx, x); err != nil {
					return err
				}
			}
			return nil
		})
		parties := []struct {
			partner, scheme, id string
			customer, shipTo    string
		}{
			{"nord", "GLN", "4012345000009", "C-1000", ""},  // partner + scheme
			{"other", "GLN", "4012345000009", "C-1001", ""}, // any partner
			{"nord", "DUNS", "4012345000016", "C-1000", "HH-01"},
			{"nord", "buyer", "ANY", "C-2000", ""},
			{"nord", "DUNS", "4012345000009", "", ""}, // wrong scheme, no wildcard row
		}
		for _, p := range parties {
			x, err := s.PartyXref(ctx, p.partner, p.scheme, p.id)
			if p.customer == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("PartyXref(%s, %s, %s): got %+v, %v, want ErrNotFound", p.partner, p.scheme, p.id, x, err)
				}
				continue
			}
			if err != nil || x.CustomerNumber != p.customer || x.ShipToCode != p.shipTo {
				t.Errorf("PartyXref(%s, %s, %s): got %+v, %v, want %s/%s", p.partner, p.scheme, p.id, x, err, p.customer, p.shipTo)
			}
		}
		if x, err := s.ItemXref(ctx, "nord", "BN-4711"); err != nil || x.SKU != "SCR-100" {
			t.Errorf("ItemXref(nord): got %+v, %v", x, err)
		}
		if x, err := s.ItemXref(ctx, "other", "BN-4711"); err != nil || x.SKU != "HAM-200" {
			t.Errorf("ItemXref(other): got %+v, %v", x, err)
		}
		if _, err := s.ItemXref(ctx, "nord", "BN-0"); !errors.Is(err, ErrNotFound) {
			t.Errorf("ItemXref(missing): got %v", err)
		}
		if x, err := s.UnitXref(ctx, "nord", "ST"); err != nil || x.Unit != "EA" {
			t.Errorf("UnitXref(nord): got %+v, %v", x, err)
		}
		if x, err := s.UnitXref(ctx, "other", "ST"); err != nil || x.Unit != "SET" {
			t.Errorf("UnitXref(other): got %+v, %v", x, err)
		}
		if _, err := s.UnitXref(ctx, "nord", "XX"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UnitXref(missing): got %v", err)
		}
		// The same reads inside a transaction.
		err := s.View(ctx, func(tx *Tx) error {
			if x, err := tx.PartyXref(ctx, "nord", "GLN", "4012345000009"); err != nil || x.CustomerNumber != "C-1000" {
				t.Errorf("Tx.PartyXref: got %+v, %v", x, err)
			}
			if c, err := tx.GetCustomer(ctx, "C-1000"); err != nil || c.Name != "Baumarkt Nord GmbH" {
				t.Errorf("Tx.GetCustomer: got %+v, %v", c, err)
			}
			if p, err := tx.ProductByGTIN(ctx, "4012345000023"); err != nil || p.SKU != "HAM-200" {
				t.Errorf("Tx.ProductByGTIN: got %+v, %v", p, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		bad := []func(tx *Tx) error{
			func(tx *Tx) error {
				_, err := tx.UpsertPartyXref(ctx, PartyXref{PartyID: "X", CustomerNumber: "C-9"})
				return err
			},
			func(tx *Tx) error {
				_, err := tx.UpsertPartyXref(ctx, PartyXref{PartyID: "X", CustomerNumber: "C-1000", ShipToCode: "NOPE"})
				return err
			},
			func(tx *Tx) error {
				_, err := tx.UpsertItemXref(ctx, ItemXref{PartnerItem: "X", SKU: "NOPE"})
				return err
			},
			func(tx *Tx) error { _, err := tx.UpsertUnitXref(ctx, UnitXref{PartnerUnit: "X"}); return err },
		}
		for i, fn := range bad {
			if err := s.Write(ctx, fn); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
				t.Errorf("bad xref %d: got %v, want ErrNotFound or ErrInvalid", i, err)
			}
		}
	})
}

func TestGTIN14(t *testing.T) {
	for in, want := range map[string]string{
		"012345678905":   "00012345678905",
		"4012345000009":  "04012345000009",
		"96385074":       "00000096385074",
		"10012345678902": "10012345678902",
		"1234567":        "",
		"01234567890a":   "",
		"":               "",
	} {
		if got := GTIN14(in); got != want {
			t.Errorf("GTIN14(%q): got %q, want %q", in, got, want)
		}
	}
}
