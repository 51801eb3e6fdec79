package routetable

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
)

// Env is what a route's when expression sees: the order as "order".
type Env struct {
	Order OrderEnv `expr:"order"`
}

// OrderEnv is the order as expressions see it, its fields named as in the
// canonical JSON. Absent strings are "", ship_to is never nil (its fields
// are "" when the order has no ship-to party), and an unknown amount is a
// nil *Decimal.
type OrderEnv struct {
	Channel    string `expr:"channel"`
	Partner    string `expr:"partner"`
	CustomerID string `expr:"customer_id"`
	PONumber   string `expr:"po_number"`
	OrderType  string `expr:"order_type"`
	Currency   string `expr:"currency"`
	Purpose    string `expr:"purpose"`
	Status     string `expr:"status"`
	Standard   string `expr:"standard"` // source.standard: X12, EDIFACT, ...
	Test       bool   `expr:"test"`     // source.test
	// Total is the total the sender declared (totals.amount), else the
	// sum of quantity x unit price over the lines when every line has a
	// price, else nil.
	Total  *Decimal  `expr:"total"`
	ShipTo PartyEnv  `expr:"ship_to"`
	BillTo PartyEnv  `expr:"bill_to"`
	Buyer  PartyEnv  `expr:"buyer"`
	Lines  []LineEnv `expr:"lines"`
	Notes  []string  `expr:"notes"`
	Holds  []string  `expr:"holds"` // the rules that hold the order
}

// PartyEnv is a party with its address flattened.
type PartyEnv struct {
	ID         string `expr:"id"`
	IDScheme   string `expr:"id_scheme"`
	Name       string `expr:"name"`
	City       string `expr:"city"`
	Region     string `expr:"region"`
	PostalCode string `expr:"postal_code"`
	Country    string `expr:"country"`
}

// LineEnv is an order line.
type LineEnv struct {
	LineNo       string   `expr:"line_no"`
	SKU          string   `expr:"sku"`
	Quantity     *Decimal `expr:"quantity"`
	Unit         string   `expr:"unit"`
	UnitPrice    *Decimal `expr:"unit_price"` // nil without a price
	Amount       *Decimal `expr:"amount"`     // nil unless the sender gave one
	GTIN         string   `expr:"gtin"`
	BuyerPart    string   `expr:"buyer_part"`
	SupplierPart string   `expr:"supplier_part"`
	Description  string   `expr:"description"`
	// Attributes are what the caller knows about the line's item
	// (Input.LineAttributes: category, warehouse, hazmat, ...); a
	// missing key reads as nil.
	Attributes map[string]string `expr:"attributes"`
}

// Decimal is an exact decimal number in an expression: amounts and
// quantities. The comparison operators (== != < <= > >=) and + - * /
// work between two Decimals and between a Decimal and an int or float
// literal. A float is taken as the shortest decimal that reads back as
// the same float, which is the literal as written ("0.1" is 0.1, not
// 0.1000000000000000055...), and comparisons are done on exact rationals
// (math/big.Rat), so "order.total > 10000" and "order.total == 10000.01"
// mean what they say. A comparison with a nil (unknown) Decimal is false,
// and != is its negation; arithmetic with nil gives nil.
type Decimal struct{ d decimal.Decimal }

// NewDecimal returns d as an expression Decimal.
func NewDecimal(d decimal.Decimal) *Decimal { return &Decimal{d} }

// Value returns the decimal.
func (x *Decimal) Value() decimal.Decimal { return x.d }

// String returns the decimal as the canonical JSON writes it.
func (x *Decimal) String() string {
	if x == nil {
		return "<nil>"
	}
	return x.d.String()
}

// rat returns an operand as an exact rational; ok is false for nil.
func rat(v any) (*big.Rat, bool, error) {
	switch x := v.(type) {
	case *Decimal:
		if x == nil {
			return nil, false, nil
		}
		r, ok := new(big.Rat).SetString(x.d.String())
		if !ok {
			return nil, false, fmt.Errorf("decimal %s is not a number", x.d)
		}
		return r, true, nil
	case int:
		return new(big.Rat).SetInt64(int64(x)), true, nil
	case float64:
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(x, 'g', -1, 64))
		if !ok {
			return nil, false, fmt.Errorf("%v is not a finite number", x)
		}
		return r, true, nil
	case nil:
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("%T is not a number", v)
}

// dec returns an operand as a decimal; ok is false for nil.
func dec(v any) (decimal.Decimal, bool, error) {
	switch x := v.(type) {
	case *Decimal:
		if x == nil {
			return decimal.Decimal{}, false, nil
		}
		return x.d, true, nil
	case int:
		d, err := decimal.New(int64(x), 0)
		return d, err == nil, err
	case float64:
		d, err := decimal.Parse(strconv.FormatFloat(x, 'f', -1, 64))
		if err != nil {
			return decimal.Decimal{}, false, fmt.Errorf("%v does not fit a decimal: %w", x, err)
		}
		return d, true, nil
	case nil:
		return decimal.Decimal{}, false, nil
	}
	return decimal.Decimal{}, false, fmt.Errorf("%T is not a number", v)
}

// operator is one overloaded operator and its implementation.
type operator struct {
	op, fn string
	cmp    func(c int) bool                                    // comparisons
	arith  func(a, b decimal.Decimal) (decimal.Decimal, error) // arithmetic
}

var operators = []operator{
	{op: "==", fn: "decimal_eq", cmp: func(c int) bool { return c == 0 }},
	{op: "!=", fn: "decimal_ne", cmp: func(c int) bool { return c != 0 }},
	{op: "<", fn: "decimal_lt", cmp: func(c int) bool { return c < 0 }},
	{op: "<=", fn: "decimal_le", cmp: func(c int) bool { return c <= 0 }},
	{op: ">", fn: "decimal_gt", cmp: func(c int) bool { return c > 0 }},
	{op: ">=", fn: "decimal_ge", cmp: func(c int) bool { return c >= 0 }},
	{op: "+", fn: "decimal_add", arith: decimal.Decimal.Add},
	{op: "-", fn: "decimal_sub", arith: decimal.Decimal.Sub},
	{op: "*", fn: "decimal_mul", arith: decimal.Decimal.Mul},
	{op: "/", fn: "decimal_quo", arith: decimal.Decimal.Quo},
}

// call implements the operator on two operands.
func (o operator) call(params ...any) (any, error) {
	if len(params) != 2 {
		return nil, fmt.Errorf("%s takes two operands", o.op)
	}
	if o.cmp != nil {
		a, okA, err := rat(params[0])
		if err != nil {
			return nil, err
		}
		b, okB, err := rat(params[1])
		if err != nil {
			return nil, err
		}
		if !okA || !okB {
			return o.op == "!=", nil // unknown: only != holds
		}
		return o.cmp(a.Cmp(b)), nil
	}
	a, okA, err := dec(params[0])
	if err != nil {
		return nil, err
	}
	b, okB, err := dec(params[1])
	if err != nil {
		return nil, err
	}
	if !okA || !okB {
		return (*Decimal)(nil), nil
	}
	r, err := o.arith(a, b)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", a, o.op, b, err)
	}
	return &Decimal{r}, nil
}

// options are the compile options of every route expression.
var options = func() []expr.Option {
	opts := []expr.Option{expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(2000)}
	for _, o := range operators {
		var types []any
		if o.cmp != nil {
			types = []any{new(func(*Decimal, *Decimal) bool), new(func(*Decimal, int) bool), new(func(int, *Decimal) bool),
				new(func(*Decimal, float64) bool), new(func(float64, *Decimal) bool)}
		} else {
			types = []any{new(func(*Decimal, *Decimal) *Decimal), new(func(*Decimal, int) *Decimal), new(func(int, *Decimal) *Decimal),
				new(func(*Decimal, float64) *Decimal), new(func(float64, *Decimal) *Decimal)}
		}
		opts = append(opts, expr.Function(o.fn, o.call, types...), expr.Operator(o.op, o.fn))
	}
	// decimal("12.50") is an exact decimal constant.
	opts = append(opts, expr.Function("decimal", func(params ...any) (any, error) {
		s, _ := params[0].(string)
		d, err := decimal.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("decimal(%q): %w", s, err)
		}
		return &Decimal{d}, nil
	}, new(func(string) *Decimal)))
	return opts
}()

// errNilOrder is Match's answer to an Input without an order.
var errNilOrder = errors.New("no order")

// envOf builds the expression environment of an input.
func envOf(in Input) Env {
	o := in.Order
	e := OrderEnv{
		Channel: string(o.Channel), Partner: in.Partner, CustomerID: o.CustomerID, PONumber: o.PONumber,
		OrderType: o.OrderType, Currency: o.Currency, Purpose: string(o.Purpose), Status: string(o.Status),
		Standard: o.Source.Standard, Test: o.Source.Test, Notes: o.Notes,
		ShipTo: partyEnv(o.Party(order.RoleShipTo)), BillTo: partyEnv(o.Party(order.RoleBillTo)), Buyer: partyEnv(o.Party(order.RoleBuyer)),
	}
	if o.Totals != nil && o.Totals.Amount != nil {
		e.Total = &Decimal{*o.Totals.Amount}
	} else if len(o.Lines) > 0 {
		if t, ok := o.LinesTotal(); ok {
			e.Total = &Decimal{t}
		}
	}
	for _, h := range o.Holds {
		e.Holds = append(e.Holds, h.Rule)
	}
	e.Lines = make([]LineEnv, len(o.Lines))
	for i, l := range o.Lines {
		le := LineEnv{
			LineNo: l.LineNo, SKU: l.SKU, Quantity: &Decimal{l.Quantity}, Unit: l.Unit, GTIN: l.GTIN,
			BuyerPart: l.BuyerPart, SupplierPart: l.SupplierPart, Description: l.Description,
		}
		if l.UnitPrice != nil {
			le.UnitPrice = &Decimal{*l.UnitPrice}
		}
		if l.Amount != nil {
			le.Amount = &Decimal{*l.Amount}
		}
		if i < len(in.LineAttributes) {
			le.Attributes = in.LineAttributes[i]
		}
		if le.Attributes == nil {
			le.Attributes = map[string]string{}
		}
		e.Lines[i] = le
	}
	return Env{Order: e}
}

func partyEnv(p *order.Party) PartyEnv {
	if p == nil {
		return PartyEnv{}
	}
	e := PartyEnv{ID: p.ID, IDScheme: p.IDScheme, Name: p.Name}
	if a := p.Address; a != nil {
		e.City, e.Region, e.PostalCode, e.Country = a.City, a.Region, a.PostalCode, a.Country
	}
	return e
}
