package rules

import (
	"testing"

	"github.com/govalues/decimal"
)

// FuzzWhen compiles arbitrary strings as approval expressions and runs the
// ones that compile: neither may panic, and a compiled expression yields a
// boolean or an error.
func FuzzWhen(f *testing.F) {
	for _, s := range []string{
		"order.total > 10000",
		"order.total >= 10000.50",
		"customer.first_order || order.ship_to.new",
		"any(order.lines, .quantity * .unit_price > 1e3)",
		"order.total / 0 > 1",
		"order.total + 1e300 > 0",
		"order.total == 0.1 + 0.2",
		"len(order.notes) > 0 && order.channel in ['fax', 'email']",
	} {
		f.Add(s)
	}
	env := exprEnv{
		Order: exprOrder{
			Channel: "fax", Total: exprDecimal{decimal.MustParse("12345.67")}, TotalComplete: true,
			Notes: []string{"call first"},
			Lines: []exprLine{
				{LineNo: "1", SKU: "SCR-100", Quantity: exprDecimal{decimal.MustParse("24")}, UnitPrice: exprDecimal{decimal.MustParse("12.50")}, Priced: true},
				{LineNo: "2", Quantity: exprDecimal{decimal.MustParse("0.001")}},
			},
			ShipTo: exprShipTo{Country: "DE", New: true},
		},
		Customer: exprCustomer{Number: "C-1000", CreditLimit: exprDecimal{decimal.MustParse("10000")}, HasLimit: true, FirstOrder: true},
	}
	f.Fuzz(func(t *testing.T, code string) {
		p, _, err := compileWhen(code)
		if err != nil {
			return
		}
		if p == nil {
			t.Fatal("no program and no error")
		}
		_, _ = evalWhen(p, env)
	})
}
