package routetable

import (
	"errors"
	"fmt"
	"slices"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
)

// ErrNoRoute is returned by Match when no route takes the order: the
// table has no default route and no when matched.
var ErrNoRoute = errors.New("no route matches the order")

// Route is one rule of the table, as the configuration's routes list
// gives it.
type Route struct {
	// Name is unique in the table.
	Name string
	// When is an expression over "order" that must be true for the route
	// to take the order; empty means every order (the default route).
	When string
	// To names the backends the order goes to.
	To []string
	// Format is the payload format; empty means each backend's default
	// (the lead resolves it, e.g. with config.DeliveryFormat).
	Format routing.Format
	// Continue makes matching go on to the next routes after this one
	// took the order (fan-out).
	Continue bool
}

// Input is what a route decides on: the order and what the pipeline
// knows about it besides.
type Input struct {
	Order *order.Order
	// Partner is the partner id the order came from ("" when unknown);
	// order.partner in expressions.
	Partner string
	// LineAttributes are facts about the items of the lines, by line
	// index (the same index as Order.Lines); order.lines[i].attributes in
	// expressions. Shorter than the lines, or nil, is fine.
	LineAttributes []map[string]string
}

// Target is where a matching route sends the order.
type Target struct {
	Route    string
	Backends []string
	Format   routing.Format // "" for the backends' defaults
}

// EvalError is a route expression that failed at run time on an order
// (an index out of range, a decimal overflow).
type EvalError struct {
	Route string
	Err   error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("route %q: evaluating when: %v", e.Route, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

type compiled struct {
	Route
	prog *vm.Program // nil for a route without when
}

// Table is a compiled route table. It is immutable and safe for
// concurrent use.
type Table struct {
	routes []compiled
}

// Compile compiles one when expression as the table does; it is for
// callers that want to check an expression alone (the config check, a UI).
func Compile(when string) (*vm.Program, error) {
	return expr.Compile(when, options...)
}

// New compiles the routes. Every problem Check finds with a route
// (backends apart: New does not know them) is returned at once, as
// *Problem errors joined. A table without a default route compiles; Match
// answers ErrNoRoute for an order no route takes.
func New(routes []Route) (*Table, error) {
	var errs []error
	for _, p := range Check(routes, nil) {
		if p.Index >= 0 { // a table without a default route is allowed: Match says ErrNoRoute
			errs = append(errs, &p)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("compiling the route table: %w", errors.Join(errs...))
	}
	t := &Table{routes: make([]compiled, len(routes))}
	for i, r := range routes {
		c := compiled{Route: r}
		c.To = slices.Clone(r.To)
		if r.When != "" {
			prog, err := Compile(r.When)
			if err != nil { // Check compiled it already
				return nil, fmt.Errorf("compiling route %q: %w", r.Name, err)
			}
			c.prog = prog
		}
		t.routes[i] = c
	}
	return t, nil
}

// Routes returns the routes of the table in order.
func (t *Table) Routes() []Route {
	out := make([]Route, len(t.routes))
	for i, c := range t.routes {
		out[i] = c.Route
		out[i].To = slices.Clone(c.To)
	}
	return out
}

// Match returns the targets of the order: the routes whose when holds (or
// that have none), in table order, stopping after the first one that does
// not say Continue. A backend is delivered to once per order: when a later
// matching route names a backend an earlier one has, it is left out of
// the later target (and a target left with no backend is dropped). An
// expression failing at run time stops matching with an *EvalError; no
// matching route at all is ErrNoRoute.
func (t *Table) Match(in Input) ([]Target, error) {
	if in.Order == nil {
		return nil, fmt.Errorf("matching routes: %w", errNilOrder)
	}
	var env *Env
	var out []Target
	seen := map[string]bool{}
	matched := false
	for _, c := range t.routes {
		if c.prog != nil {
			if env == nil {
				e := envOf(in)
				env = &e
			}
			v, err := expr.Run(c.prog, *env)
			if err != nil {
				return nil, &EvalError{Route: c.Name, Err: err}
			}
			if ok, _ := v.(bool); !ok {
				continue
			}
		}
		matched = true
		tg := Target{Route: c.Name, Format: c.Format}
		for _, b := range c.To {
			if !seen[b] {
				seen[b] = true
				tg.Backends = append(tg.Backends, b)
			}
		}
		if len(tg.Backends) > 0 {
			out = append(out, tg)
		}
		if !c.Continue {
			break
		}
	}
	if !matched {
		return nil, fmt.Errorf("order %s (PO %s): %w", in.Order.ID, in.Order.PONumber, ErrNoRoute)
	}
	return out, nil
}
