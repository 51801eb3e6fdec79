package rules_test

import (
	"fmt"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

func Example() {
	engine, err := rules.Compile(rules.Config{
		CreditLimit: true,
		Approvals:   []rules.Approval{{Name: "large-order", When: "order.total >= 10000.50", Levels: []string{"sales-manager", "finance"}}},
	})
	if err != nil {
		panic(err)
	}
	price := decimal.MustParse("100.01")
	o := &order.Order{Channel: order.ChannelEDI, PONumber: "4711", Currency: "EUR", CustomerID: "C-1",
		Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("100"), Unit: "EA", UnitPrice: &price, SKU: "A"}}}
	limit := decimal.MustParse("20000")
	now := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	d := engine.Decide(o, rules.Facts{
		Customer:         rules.Customer{Known: true, Number: "C-1", Currency: "EUR", CreditLimit: &limit, OpenBalance: decimal.MustParse("9000")},
		OpenOrdersAmount: decimal.MustParse("1000"),
		Products:         map[string]rules.Product{"A": {Unit: "EA"}},
		Now:              now,
	})
	fmt.Println(d.Outcome)
	for _, h := range d.Holds {
		fmt.Println(h.Rule, h.Levels, "-", h.Reason)
	}

	s := rules.NewApprovalState(d.Holds)
	s, _ = rules.Approve(s, "sales-manager", "bob", "", now)
	s, _ = rules.Approve(s, "approver", "ann", "paid yesterday", now)
	fmt.Println(s.Status, s.PendingRoles())
	s, _ = rules.Approve(s, "finance", "fay", "", now)
	fmt.Println(s.Status, len(s.Trail))
	// Output:
	// hold
	// credit_limit [approver] - exposure 20001.00 EUR (open balance 9000 + open orders 1000 + this order 10001.00) exceeds the credit limit 20000 EUR by 1.00
	// approval [sales-manager finance] - approval large-order: order.total >= 10000.50; needs sales-manager then finance
	// pending [finance]
	// approved 3
}
