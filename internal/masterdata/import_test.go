package masterdata

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/store"
)

const demoDir = "../../testdata/masterdata"

func openStore(t testing.TB) *store.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st
}

// loadDemo imports the demo data set and fails on any bad line.
func loadDemo(t testing.TB, st *store.Store) map[Kind]Report {
	t.Helper()
	out := map[Kind]Report{}
	for _, k := range Kinds {
		rep, err := ImportFile(context.Background(), st, k, filepath.Join(demoDir, string(k)+".csv"))
		if err != nil {
			t.Fatalf("importing %s: %v", k, err)
		}
		if !rep.OK() {
			t.Fatalf("demo %s has bad lines:\n%s", k, rep.String())
		}
		out[k] = rep
	}
	return out
}

func TestImportDemoIsIdempotent(t *testing.T) {
	st := openStore(t)
	first := loadDemo(t, st)
	wantTables := map[Kind]map[string]int{
		Customers: {"customers": 4, "ship_tos": 7},
		Products:  {"products": 18},
		Prices:    {"prices": 33},
		Xrefs:     {"party_xrefs": 7, "item_xrefs": 6, "unit_xrefs": 3},
		Rates:     {"exchange_rates": 5},
	}
	for k, tables := range wantTables {
		for table, n := range tables {
			if got := first[k].Tables[table].Inserted; got != n {
				t.Errorf("%s: %s inserted: got %d, want %d", k, table, got, n)
			}
		}
	}
	second := loadDemo(t, st)
	for _, k := range Kinds {
		r := second[k]
		if r.Inserted != 0 || r.Updated != 0 || r.Unchanged != first[k].Inserted {
			t.Errorf("%s re-import: got %d inserted, %d updated, %d unchanged; want 0, 0, %d",
				k, r.Inserted, r.Updated, r.Unchanged, first[k].Inserted)
		}
	}
}

func TestImportChangedLineUpdates(t *testing.T) {
	st := openStore(t)
	loadDemo(t, st)
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join(demoDir, "products.csv"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), "Claw hammer 500 g", "Claw hammer 600 g", 1)
	changed += "NEW-1,A new product,EA,,,,\n"
	rep, err := Import(ctx, st, Products, strings.NewReader(changed))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inserted != 1 || rep.Updated != 1 || rep.Unchanged != 17 || !rep.OK() {
		t.Errorf("got %d inserted, %d updated, %d unchanged, errors %v; want 1, 1, 17, none", rep.Inserted, rep.Updated, rep.Unchanged, rep.Errors)
	}
	p, err := st.GetProduct(ctx, "HAM-200")
	if err != nil || p.Description != "Claw hammer 600 g" {
		t.Errorf("updated product: got %+v, %v", p, err)
	}
	// A customer line whose ship-to changed updates the ship-to only.
	c, err := os.ReadFile(filepath.Join(demoDir, "customers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Import(ctx, st, Customers, strings.NewReader(strings.Replace(string(c), "Hafenstrasse 12", "Hafenstrasse 14", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Tables["ship_tos"]; got.Updated != 1 || got.Inserted != 0 || rep.Tables["customers"].Updated != 0 {
		t.Errorf("changed ship-to: got %+v", rep.Tables)
	}
}

type wantErr struct {
	line   int
	column string
	reason string // a substring of the reason
}

func TestImportBadLines(t *testing.T) {
	tests := []struct {
		kind     Kind
		file     string
		inserted int
		want     []wantErr
	}{
		{Products, "bad/products.csv", 2, []wantErr{
			{3, "sku", "required"},
			{4, "gtin", "not 8, 12, 13 or 14 digits"},
			{5, "min_order_qty", "has a comma"},
			{6, "pack_sizes", "not positive"},
			{8, "sku", "repeats the key of line 2"},
			{9, "", "3 fields, the header has 6"},
			{10, "base_unit", "not 1 to 8 letters and digits"},
		}},
		{Prices, "bad/prices.csv", 1, []wantErr{
			{3, "price", "has a comma"},
			{4, "sku", "no product NOPE"},
			{5, "customer", "no customer C-9"},
			{6, "price_list", "customer or a price list, not both"},
			{7, "valid_from", "not a date"},
			{8, "valid_to", "before valid_from"},
			{9, "price", "negative"},
			{10, "currency", "not an ISO 4217"},
			{11, "sku", "repeats the key of line 2"},
			{12, "price", "not a decimal number"},
		}},
		{Customers, "bad/customers.csv", 2, []wantErr{ // C-9000 and its ship-to S1
			{3, "credit_limit", "differs from line 2"},
			{4, "name", "required"},
			{5, "currency", "not an ISO 4217"},
			{6, "blocked", "not a yes/no value"},
			{7, "sales_rep_email", "not an e-mail address"},
			{8, "ship_to", "required when a ship_to_* column"},
			{9, "ship_to", "repeats the key of line 2"},
			{10, "number", "has spaces"},
			{11, "credit_limit", "has a comma"},
		}},
		{Xrefs, "bad/xrefs.csv", 2, []wantErr{
			{3, "sku", "no product NOPE"},
			{4, "unit", "required"},
			{5, "type", "not party, item or unit"},
			{6, "partner", "not a partner id"},
			{7, "ship_to", "has no ship-to NOPE"},
			{8, "customer", "not used by item xrefs"},
			{9, "partner_code", "repeats the key of line 2"},
			{11, "customer", "no customer C-9"},
		}},
		{Rates, "bad/rates.csv", 1, []wantErr{
			{3, "rate", "has a comma"},
			{4, "from", "the same currency USD"},
			{5, "pair", "not a currency pair"},
			{6, "pair", "not both"},
			{7, "from", "from and to (or pair) are required"},
			{8, "rate", "not positive"},
			{9, "valid_from", "not a date"},
			{10, "pair", "repeats the key of line 2"},
		}},
		{Products, "bad/header.csv", 0, []wantErr{
			{1, "descriptoin", "unknown column"},
			{1, "description", "required column missing"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			st := openStore(t)
			loadDemo(t, st)
			path := filepath.Join(demoDir, tt.file)
			rep, err := ImportFile(context.Background(), st, tt.kind, path)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Inserted != tt.inserted {
				t.Errorf("inserted: got %d, want %d\n%s", rep.Inserted, tt.inserted, rep.String())
			}
			if len(rep.Errors) != len(tt.want) {
				t.Fatalf("errors: got %d, want %d:\n%s", len(rep.Errors), len(tt.want), rep.String())
			}
			for i, w := range tt.want {
				g := rep.Errors[i]
				if g.Line != w.line || g.Column != w.column || !strings.Contains(g.Reason, w.reason) || g.File != path {
					t.Errorf("error %d: got %v, want line %d column %q reason ~%q", i, g, w.line, w.column, w.reason)
				}
			}
			// Bad lines stay bad: a second run reports them again and
			// changes nothing.
			again, err := ImportFile(context.Background(), st, tt.kind, path)
			if err != nil {
				t.Fatal(err)
			}
			if again.Inserted != 0 || again.Updated != 0 || len(again.Errors) != len(tt.want) {
				t.Errorf("second run: got %d inserted, %d updated, %d errors", again.Inserted, again.Updated, len(again.Errors))
			}
		})
	}
}

func TestImportSemicolonFile(t *testing.T) {
	st := openStore(t)
	rep, err := ImportFile(context.Background(), st, Products, filepath.Join(demoDir, "products-semicolon.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inserted != 1 || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 || rep.Errors[0].Column != "min_order_qty" {
		t.Fatalf("got:\n%s", rep.String())
	}
	p, err := st.GetProduct(context.Background(), "SEMI-2")
	if err != nil || p.MinOrderQty == nil || p.MinOrderQty.String() != "12.5" {
		t.Errorf("SEMI-2: got %+v, %v", p, err)
	}
}

func TestImportEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // rendered errors
	}{
		{"empty", "", []string{"-:1: empty file: no header"}},
		{"header only", "sku,description,base_unit\n", nil},
		{"BOM and CRLF", "\xef\xbb\xbfSKU,Description,Base_Unit\r\nA,Alpha,ea\r\n", nil},
		{"bare quote", "sku,description,base_unit\nA,Al\"pha,EA\nB,Beta,EA\n", []string{`-:2: CSV: bare " in non-quoted-field`}},
		{"not UTF-8", "sku,description,base_unit\nA,\xff,EA\n", []string{"-:2: column description: not UTF-8 (export the file as UTF-8)"}},
		{"quoted newline", "sku,description,base_unit\nA,\"two\nlines\",EA\nB,,EA\n", []string{
			"-:2: column description: contains a control character", "-:4: column description: required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			rep, err := Import(context.Background(), st, Products, strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range rep.Errors {
				got = append(got, e.Error())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImportUnknownKind(t *testing.T) {
	st := openStore(t)
	if _, err := Import(context.Background(), st, "orders", strings.NewReader("x\n")); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("got %v, want ErrUnknownKind", err)
	}
	if _, err := ParseKind("orders"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("ParseKind: got %v", err)
	}
	if k, err := ParseKind("xrefs"); err != nil || k != Xrefs {
		t.Errorf("ParseKind(xrefs): got %v, %v", k, err)
	}
	if _, err := ImportFile(context.Background(), st, Products, filepath.Join(t.TempDir(), "missing.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: got %v", err)
	}
}

func TestReportString(t *testing.T) {
	r := Report{File: "p.csv", Kind: Products, Lines: 3, Inserted: 1, Unchanged: 1,
		Tables: map[string]Counts{"products": {Inserted: 1, Unchanged: 1}}}
	r.addErrors([]LineError{{Line: 4, Reason: "2 fields, the header has 3"}, {Line: 3, Column: "gtin", Reason: "bad"}})
	want := "p.csv: products: 3 lines: 1 inserted, 0 updated, 1 unchanged, 2 errors\n" +
		"  products: 1 inserted, 0 updated, 1 unchanged\n" +
		"p.csv:3: column gtin: bad\n" +
		"p.csv:4: 2 fields, the header has 3\n"
	if got := r.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if r.OK() {
		t.Error("OK with errors")
	}
}

func TestReportCapsErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("sku,description,base_unit\n")
	for i := 0; i < MaxErrors+5; i++ {
		fmt.Fprintf(&b, "S%d,,EA\n", i)
	}
	rep, err := Import(context.Background(), openStore(t), Products, strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != MaxErrors || rep.ErrorsOmitted != 5 || !strings.Contains(rep.String(), "5 more errors not listed") {
		t.Errorf("got %d errors, %d omitted", len(rep.Errors), rep.ErrorsOmitted)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1260.00", "1260.00", true},
		{"0.075", "0.075", true},
		{"-12.5", "-12.5", true},
		{"+3", "3", true},
		{"007", "7", true},
		{"1.260,00", "", false},
		{"1,260.00", "", false},
		{"12,5", "", false},
		{"1e3", "", false},
		{"1.", "", false},
		{".5", "", false},
		{"--1", "", false},
		{"1 000", "", false},
		{"0.0000000001", "", false},
		{"abc", "", false},
	}
	for _, tt := range tests {
		d, reason := parseDecimal(tt.in)
		if (reason == "") != tt.ok || (tt.ok && d.String() != tt.want) {
			t.Errorf("parseDecimal(%q): got %s, %q; want %s, ok %v", tt.in, d, reason, tt.want, tt.ok)
		}
	}
}

func TestImportProductAttributes(t *testing.T) {
	const header = "sku,description,base_unit,attributes\n"
	tests := []struct {
		name string
		line string
		want map[string]string
		err  string // the rendered line error; "" for none
	}{
		{"none", "A,Alpha,EA,", nil, ""},
		{"two", "A,Alpha,EA,hazmat=true;Temperature=frozen", map[string]string{"hazmat": "true", "temperature": "frozen"}, ""},
		{"spaces and trailing ;", "A,Alpha,EA, warehouse = north ;", map[string]string{"warehouse": "north"}, ""},
		{"no =", "A,Alpha,EA,hazmat", nil, `-:2: column attributes: "hazmat" is not KEY=VALUE (e.g. hazmat=true;temperature=frozen)`},
		{"bad key", "A,Alpha,EA,haz-mat=true", nil, `-:2: column attributes: key "haz-mat" is not letters a-z, digits and _`},
		{"empty value", "A,Alpha,EA,hazmat=", nil, "-:2: column attributes: hazmat: empty value"},
		{"twice", "A,Alpha,EA,hazmat=true;HAZMAT=false", nil, "-:2: column attributes: hazmat appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			ctx := context.Background()
			rep, err := Import(ctx, st, Products, strings.NewReader(header+tt.line+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.err != "" {
				if len(rep.Errors) != 1 || rep.Errors[0].Error() != tt.err || rep.Inserted != 0 {
					t.Fatalf("got %d inserted, errors %v; want the error %q", rep.Inserted, rep.Errors, tt.err)
				}
				return
			}
			if !rep.OK() || rep.Inserted != 1 {
				t.Fatalf("got %d inserted, errors %v", rep.Inserted, rep.Errors)
			}
			p, err := st.GetProduct(ctx, "A")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p.Attributes) != fmt.Sprint(tt.want) {
				t.Errorf("attributes: got %v, want %v", p.Attributes, tt.want)
			}
			// The same attributes written another way are the same row.
			rep, err = Import(ctx, st, Products, strings.NewReader(header+tt.line+"\n"))
			if err != nil || rep.Unchanged != 1 {
				t.Errorf("re-import: got %+v, %v; want 1 unchanged", rep, err)
			}
		})
	}
}
