package rules

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/govalues/decimal"
)

// exprDecimal is an exact decimal as approval expressions see it: order
// totals, quantities, prices and customer amounts. Comparisons and
// arithmetic with it are overloaded operators (see decimalOperators), so
// `order.total > 10000` and `order.total >= 10000.50` compare exactly.
type exprDecimal struct{ d decimal.Decimal }

// String returns the decimal as written in the order JSON, e.g. "12.50";
// it is what the string() builtin and error messages show.
func (x exprDecimal) String() string { return x.d.String() }

var errNotFinite = errors.New("not a finite number")

// ratOfDecimal returns d as an exact rational.
func ratOfDecimal(d decimal.Decimal) *big.Rat {
	num := new(big.Int).SetUint64(d.Coef())
	if d.IsNeg() {
		num.Neg(num)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil)
	return new(big.Rat).SetFrac(num, den)
}

// ratOfFloat returns the number the expression's author wrote for f: the
// shortest decimal that reads back as f ("10000.5" for 10000.50, "0.1" for
// 0.1), exactly. Literals of up to 15 significant digits come back as
// written. NaN and infinities have no exact value.
func ratOfFloat(f float64) (*big.Rat, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errNotFinite
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok {
		return nil, errNotFinite
	}
	return r, nil
}

// decimalOfFloat returns the shortest decimal that reads back as f.
func decimalOfFloat(f float64) (decimal.Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal.Decimal{}, errNotFinite
	}
	d, err := decimal.Parse(strconv.FormatFloat(f, 'f', -1, 64))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("converting %v to a decimal: %w", f, err)
	}
	return d, nil
}

// ratOf returns an operand of an overloaded comparison as an exact
// rational; nil and the float for a float without an exact value (NaN,
// ±Inf), which compares unequal to everything and, for ±Inf, by its sign;
// nil and NaN for an operand that is not a number.
func ratOf(v any) (*big.Rat, float64) {
	switch v := v.(type) {
	case exprDecimal:
		return ratOfDecimal(v.d), 0
	case int:
		return new(big.Rat).SetInt64(int64(v)), 0
	case float64:
		r, err := ratOfFloat(v)
		if err != nil {
			return nil, v
		}
		return r, 0
	}
	return nil, math.NaN()
}

// compare returns -1, 0 or +1, and false when the two are not comparable
// (a NaN).
func compare(a, b any) (int, bool) {
	ra, fa := ratOf(a)
	rb, fb := ratOf(b)
	switch {
	case ra != nil && rb != nil:
		return ra.Cmp(rb), true
	case math.IsNaN(fa) || math.IsNaN(fb):
		return 0, false
	case ra == nil && rb == nil: // both infinite
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	case ra == nil: // a is ±Inf
		if fa > 0 {
			return 1, true
		}
		return -1, true
	default: // b is ±Inf
		if fb > 0 {
			return -1, true
		}
		return 1, true
	}
}

// decimalOf returns an operand of overloaded arithmetic as a decimal.
func decimalOf(v any) (decimal.Decimal, error) {
	switch v := v.(type) {
	case exprDecimal:
		return v.d, nil
	case int:
		return decimal.New(int64(v), 0)
	case float64:
		return decimalOfFloat(v)
	}
	return decimal.Decimal{}, fmt.Errorf("operand of type %T is not a number", v)
}

// The operand type pairs every overloaded operator accepts: a decimal with
// a decimal, an int or a float64, in either order. Number literals in
// expressions are int or float64.
var (
	cmpTypes = []any{
		new(func(exprDecimal, exprDecimal) bool),
		new(func(exprDecimal, int) bool),
		new(func(int, exprDecimal) bool),
		new(func(exprDecimal, float64) bool),
		new(func(float64, exprDecimal) bool),
	}
	arithTypes = []any{
		new(func(exprDecimal, exprDecimal) exprDecimal),
		new(func(exprDecimal, int) exprDecimal),
		new(func(int, exprDecimal) exprDecimal),
		new(func(exprDecimal, float64) exprDecimal),
		new(func(float64, exprDecimal) exprDecimal),
	}
)

// decimalOperators returns the expr options that make the comparison
// operators (== != < <= > >=) and + - * / exact on decimals. Comparisons
// turn both sides into big.Rat (a float literal by its shortest decimal
// form, i.e. as written); arithmetic is govalues/decimal arithmetic and
// fails on overflow or division by zero. Unary minus and the % and **
// operators are not defined on decimals: an expression using them does not
// compile.
func decimalOperators() []expr.Option {
	type cmpOp struct {
		op, fn string
		ok     func(int) bool
	}
	cmps := []cmpOp{
		{"==", "_dec_eq", func(c int) bool { return c == 0 }},
		{"!=", "_dec_ne", func(c int) bool { return c != 0 }},
		{"<", "_dec_lt", func(c int) bool { return c < 0 }},
		{"<=", "_dec_le", func(c int) bool { return c <= 0 }},
		{">", "_dec_gt", func(c int) bool { return c > 0 }},
		{">=", "_dec_ge", func(c int) bool { return c >= 0 }},
	}
	var opts []expr.Option
	for _, c := range cmps {
		ne := c.op == "!="
		ok := c.ok
		opts = append(opts,
			expr.Function(c.fn, func(p ...any) (any, error) {
				r, comparable := compare(p[0], p[1])
				if !comparable {
					return ne, nil
				}
				return ok(r), nil
			}, cmpTypes...),
			expr.Operator(c.op, c.fn))
	}
	type arithOp struct {
		op, fn string
		do     func(a, b decimal.Decimal) (decimal.Decimal, error)
	}
	ariths := []arithOp{
		{"+", "_dec_add", decimal.Decimal.Add},
		{"-", "_dec_sub", decimal.Decimal.Sub},
		{"*", "_dec_mul", decimal.Decimal.Mul},
		{"/", "_dec_quo", decimal.Decimal.Quo},
	}
	for _, a := range ariths {
		do, op := a.do, a.op
		opts = append(opts,
			expr.Function(a.fn, func(p ...any) (any, error) {
				x, err := decimalOf(p[0])
				if err != nil {
					return nil, err
				}
				y, err := decimalOf(p[1])
				if err != nil {
					return nil, err
				}
				z, err := do(x, y)
				if err != nil {
					return nil, fmt.Errorf("%s %s %s: %w", x, op, y, err)
				}
				return exprDecimal{z}, nil
			}, arithTypes...),
			expr.Operator(a.op, a.fn))
	}
	return opts
}
