// Package routetable decides where an accepted order goes: an ordered list
// of routes (name, when, to, format, continue), as the configuration's
// routes section gives them, compiled once with expr-lang/expr.
//
// # Model
//
// New compiles every route's when expression against the Env type (the
// order as "order", fields in snake_case as in the canonical JSON, plus
// order.partner and per-line attributes the caller passes in Input), with
// expr.AsBool, so a typo in a field name or an expression that is not a
// condition fails at start-up, not on the first order. Match walks the
// routes in order: a route without when takes every order (the default
// route), a route whose when holds takes the order; matching stops after
// the first route that took it unless that route says continue: true
// (fan-out). Each matching route gives a Target: the route's name, its
// backends and its format ("" for each backend's default format). A
// backend already named by an earlier target of the same order is left
// out of later ones, so an order is delivered to a backend once.
//
// The fields: order.channel, order.partner, order.customer_id,
// order.po_number, order.order_type, order.currency, order.purpose,
// order.status, order.standard, order.test, order.total, order.notes,
// order.holds (the rule names), order.ship_to, order.bill_to and
// order.buyer (id, id_scheme, name, city, region, postal_code, country;
// never nil: "" when the order has no such party), and order.lines (line_no,
// sku, quantity, unit, unit_price, amount, gtin, buyer_part,
// supplier_part, description, attributes).
//
// # Decimals
//
// Amounts and quantities are *Decimal, not float64: the comparison
// operators and + - * / are overloaded (expr.Operator) for Decimal with
// Decimal, int and float64 operands. Comparisons are made on exact
// rationals (math/big.Rat); a float literal counts as the shortest
// decimal that reads back as the same float, which is the literal as
// written, so order.total > 10000 is false for 10000.00 and true for
// 10000.01, and a total of 0.1 + 0.2 equals 0.3. decimal("12.345") is an
// exact constant. order.total is the declared total (totals.amount), else
// the sum of the priced lines when every line has a price, else nil; a
// comparison with nil is false (!= true), arithmetic with nil is nil. We
// chose overloading over converting the order to floats because a route
// on an amount boundary must not flip on a rounding error, and over a
// custom compare() function because route authors write order.total >
// 10000, as the configuration example does.
//
// # Errors
//
// Check reports every problem of a table at once as Problems (missing or
// duplicate names, when expressions that do not compile with the
// compiler's line and column, unknown backends, unknown formats,
// unreachable routes after a catch-all (a route without when or with a
// when that is always true, AlwaysTrue), no default route); New
// returns the same problems, backends and the missing default apart, as
// one joined error. Match returns an *EvalError when an expression fails
// on an order at run time and ErrNoRoute when no route takes the order.
//
// # What it does not do
//
// Routes are pure: no I/O, no clock, no state between orders. Rendering
// the payload, the outbox and delivery belong to the pipeline.
package routetable
