package routetable_test

import (
	"errors"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/routetable"
)

// fuzzOrders are the orders every fuzzed expression is matched against:
// an empty one and a full one.
func fuzzOrders() []routetable.Input {
	price := decimal.MustParse("12.50")
	total := decimal.MustParse("10000.01")
	full := &order.Order{
		ID: "ord_1", Channel: order.ChannelEDI, Source: order.Source{Standard: "X12", Test: true}, Purpose: order.PurposeOriginal,
		PONumber: "4500012345", Currency: "EUR", CustomerID: "C-1000", Notes: []string{"dock 3"},
		Parties: []order.Party{{Role: order.RoleShipTo, ID: "ST-1", Address: &order.Address{Country: "DE", City: "Hamburg"}}},
		Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("24"), Unit: "EA", UnitPrice: &price, SKU: "SCR-100", GTIN: "012345678905"},
			{LineNo: "2", Quantity: decimal.MustParse("0.5"), Unit: "KG"}},
		Totals: &order.Totals{Amount: &total},
		Holds:  []order.Hold{{Rule: "credit_limit"}},
	}
	return []routetable.Input{
		{Order: &order.Order{}},
		{Order: full, Partner: "baumarkt-nord", LineAttributes: []map[string]string{{"hazmat": "yes"}}},
	}
}

// FuzzRouteExpression compiles arbitrary when expressions and matches
// them: nothing panics; Check and New agree on what compiles; a compiled
// route either takes the order, lets it fall to the default route, or
// fails with an *EvalError naming it.
func FuzzRouteExpression(f *testing.F) {
	for _, s := range []string{"order.total > 10000", "order.ship_to.country in ['DE','AT']", "any(order.lines, .quantity >= 1000)",
		"order.total == 0.3", "order.total * 2 > decimal('1.5')", "order.lines[5].sku == ''", "", "(", "order.partner == 'x' || order.test"} {
		f.Add(s)
	}
	inputs := fuzzOrders()
	f.Fuzz(func(t *testing.T, when string) {
		routes := []routetable.Route{{Name: "x", When: when, To: []string{"a"}}, {Name: "default", To: []string{"b"}}}
		problems := routetable.Check(routes, []string{"a", "b"})
		table, err := routetable.New(routes)
		if (err == nil) != (len(problems) == 0) {
			t.Fatalf("when %q: Check found %v but New said %v", when, problems, err)
		}
		if err != nil {
			return
		}
		for _, in := range inputs {
			got, err := table.Match(in)
			var ee *routetable.EvalError
			switch {
			case errors.As(err, &ee):
				if ee.Route != "x" {
					t.Fatalf("when %q: EvalError of route %q", when, ee.Route)
				}
			case err != nil:
				t.Fatalf("when %q: Match: %v", when, err)
			case len(got) != 1 || (got[0].Route != "x" && got[0].Route != "default"):
				t.Fatalf("when %q: Match = %+v", when, got)
			}
		}
	})
}
