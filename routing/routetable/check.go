package routetable

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/ordergate/ordergate/routing"
)

// Problem is one thing wrong with a route table.
type Problem struct {
	// Index is the route's position in the table, from 0; -1 for the
	// table as a whole (no default route).
	Index int
	// Route is the route's name.
	Route string
	// Field is the route's key the problem is in: "name", "when", "to",
	// "format", "" for the route (or table) as a whole.
	Field string
	// Backend is the unknown backend name of a "to" problem.
	Backend string
	// Line and Column are the position in the when expression of a
	// compile error, from 1; 0 otherwise.
	Line, Column int
	// Message says what is wrong.
	Message string
}

// Path is the problem's place in the configuration: "routes[2].when",
// "routes".
func (p Problem) Path() string {
	if p.Index < 0 {
		return "routes"
	}
	s := fmt.Sprintf("routes[%d]", p.Index)
	if p.Field != "" {
		s += "." + p.Field
	}
	return s
}

func (p *Problem) Error() string {
	s := p.Path()
	if p.Line > 0 {
		s += fmt.Sprintf(" (line %d, column %d)", p.Line, p.Column)
	}
	return s + ": " + p.Message
}

var formats = []routing.Format{routing.FormatJSON, routing.FormatCSV, routing.FormatX12850, routing.FormatEDIFACTOrders}

// Check reports every problem of a route table at once: a missing or
// duplicate name, a when that does not compile (with the position the
// expression compiler gives), a route without backends or with a backend
// not in knownBackends (not checked when knownBackends is nil), an
// unknown format, a route after a catch-all without continue (it can
// never match), and a table without a default route. A catch-all is a
// route without when or with a when that holds whatever the order is
// (one that reads nothing of it and is true: "true", "1 == 1").
func Check(routes []Route, knownBackends []string) []Problem {
	var ps []Problem
	add := func(i int, r Route, field, format string, args ...any) *Problem {
		ps = append(ps, Problem{Index: i, Route: r.Name, Field: field, Message: fmt.Sprintf(format, args...)})
		return &ps[len(ps)-1]
	}
	var known map[string]bool
	if knownBackends != nil {
		known = make(map[string]bool, len(knownBackends))
		for _, b := range knownBackends {
			known[b] = true
		}
	}
	names := map[string]int{}
	catchAll := ""
	hasDefault := false
	for i, r := range routes {
		switch prev, dup := names[r.Name]; {
		case r.Name == "":
			add(i, r, "name", "is required")
		case dup:
			add(i, r, "name", "duplicate route name %q (also routes[%d])", r.Name, prev)
		default:
			names[r.Name] = i
		}
		if catchAll != "" {
			add(i, r, "", "route %q is unreachable: route %q before it takes every order (give it a when, or continue: true)", r.Name, catchAll)
		}
		if strings.TrimSpace(r.When) == "" {
			if r.When != "" {
				add(i, r, "when", "is blank; leave when out for the default route")
			}
			hasDefault = true
			if !r.Continue && catchAll == "" {
				catchAll = r.Name
				if catchAll == "" {
					catchAll = fmt.Sprintf("#%d", i)
				}
			}
		} else if prog, err := Compile(r.When); err != nil {
			p := add(i, r, "when", "does not compile: %s", compileMessage(err))
			var fe *file.Error
			if errors.As(err, &fe) {
				p.Line, p.Column = fe.Line, fe.Column+1
			}
		} else if alwaysTrue(r.When, prog) {
			// A catch-all like a route without when.
			hasDefault = true
			if !r.Continue && catchAll == "" {
				catchAll = r.Name
				if catchAll == "" {
					catchAll = fmt.Sprintf("#%d", i)
				}
			}
		}
		if len(r.To) == 0 {
			add(i, r, "to", "is required: one backend name or a list")
		}
		for _, b := range r.To {
			if known != nil && !known[b] {
				add(i, r, "to", "unknown backend %q", b).Backend = b
			}
		}
		if r.Format != "" && !isFormat(r.Format) {
			add(i, r, "format", "unknown format %q (one of json, csv, x12-850, edifact-orders)", r.Format)
		}
	}
	if len(routes) > 0 && !hasDefault {
		ps = append(ps, Problem{Index: -1, Message: "no default route: add a last route without when, so no accepted order stays undelivered"})
	}
	return ps
}

// AlwaysTrue reports whether when holds for every order, so that its
// route takes every order like a route without when: the expression
// names nothing (no order, no function) and evaluates to true ("true",
// "1 == 1", "!false"). An expression that does not compile is not.
func AlwaysTrue(when string) bool {
	prog, err := Compile(when)
	return err == nil && alwaysTrue(when, prog)
}

func alwaysTrue(when string, prog *vm.Program) bool {
	tree, err := parser.Parse(when)
	if err != nil {
		return false
	}
	var names identFinder
	ast.Walk(&tree.Node, &names)
	if names.found {
		return false
	}
	out, err := expr.Run(prog, Env{})
	ok, _ := out.(bool)
	return err == nil && ok
}

// identFinder notes whether an expression names anything.
type identFinder struct{ found bool }

func (f *identFinder) Visit(n *ast.Node) {
	if _, ok := (*n).(*ast.IdentifierNode); ok {
		f.found = true
	}
}

func isFormat(f routing.Format) bool {
	for _, k := range formats {
		if f == k {
			return true
		}
	}
	return false
}

// envNames says the expression environment's Go types in the words of
// the route author.
var envNames = strings.NewReplacer("type routetable.OrderEnv", "order", "type routetable.PartyEnv", "party",
	"type routetable.LineEnv", "line", "routetable.", "")

// compileMessage is the compiler's message without the snippet lines.
func compileMessage(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	return envNames.Replace(msg)
}
