package routetable_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/routing/routetable"
)

func TestCheck(t *testing.T) {
	known := []string{"erp", "wms"}
	def := routetable.Route{Name: "default", To: []string{"erp"}}
	type want struct {
		path, msg    string
		line, column int
	}
	tests := []struct {
		name   string
		routes []routetable.Route
		want   []want
	}{
		{"valid", []routetable.Route{{Name: "eu", When: "order.ship_to.country in ['DE','AT']", To: []string{"wms"}}, def}, nil},
		{"empty table", nil, nil},
		{"unknown backend", []routetable.Route{{Name: "eu", When: "order.test", To: []string{"wms", "sap"}}, def},
			[]want{{path: "routes[0].to", msg: `unknown backend "sap"`}}},
		{"no backends", []routetable.Route{{Name: "default"}}, []want{{path: "routes[0].to", msg: "is required"}}},
		{"does not compile: syntax", []routetable.Route{{Name: "eu", When: "order.total >", To: []string{"erp"}}, def},
			[]want{{path: "routes[0].when", msg: "does not compile: unexpected token EOF", line: 1, column: 13}}},
		{"does not compile: unknown field", []routetable.Route{{Name: "eu", When: "order.ship_to.contry == 'DE'", To: []string{"erp"}}, def},
			[]want{{path: "routes[0].when", msg: "party has no field contry", line: 1, column: 15}}},
		{"does not compile: second line", []routetable.Route{{Name: "eu", When: "order.test &&\n  order.foo", To: []string{"erp"}}, def},
			[]want{{path: "routes[0].when", msg: "order has no field foo", line: 2, column: 9}}},
		{"not a condition", []routetable.Route{{Name: "eu", When: "order.total", To: []string{"erp"}}, def},
			[]want{{path: "routes[0].when", msg: "does not compile: expected bool"}}},
		{"blank when", []routetable.Route{{Name: "eu", When: "  ", To: []string{"erp"}}}, []want{{path: "routes[0].when", msg: "is blank"}}},
		{"unreachable", []routetable.Route{def, {Name: "eu", When: "true", To: []string{"wms"}}, {Name: "us", When: "true", To: []string{"wms"}}},
			[]want{{path: "routes[1]", msg: `route "eu" is unreachable: route "default" before it`}, {path: "routes[2]", msg: `route "us" is unreachable`}}},
		{"when true is a catch-all", []routetable.Route{{Name: "all", When: "true", To: []string{"wms"}}, {Name: "eu", When: "order.test", To: []string{"wms"}}, def},
			[]want{{path: "routes[1]", msg: `route "eu" is unreachable: route "all" before it`}, {path: "routes[2]", msg: `route "default" is unreachable: route "all"`}}},
		{"constant true is a catch-all", []routetable.Route{{Name: "all", When: "1 == 1 && !false", To: []string{"wms"}}, def},
			[]want{{path: "routes[1]", msg: `route "default" is unreachable: route "all"`}}},
		{"an expression of the order is not a catch-all", []routetable.Route{{Name: "t", When: "order.test || true", To: []string{"wms"}}, def}, nil},
		{"when true with continue keeps the rest reachable", []routetable.Route{{Name: "copy", When: "true", To: []string{"wms"}, Continue: true}, def}, nil},
		{"default with continue keeps the rest reachable", []routetable.Route{{Name: "copy", To: []string{"wms"}, Continue: true}, def}, nil},
		{"no default", []routetable.Route{{Name: "eu", When: "order.test", To: []string{"erp"}}}, []want{{path: "routes", msg: "no default route"}}},
		{"duplicate names", []routetable.Route{{Name: "eu", When: "order.test", To: []string{"erp"}}, {Name: "eu", To: []string{"erp"}}},
			[]want{{path: "routes[1].name", msg: `duplicate route name "eu" (also routes[0])`}}},
		{"missing name", []routetable.Route{{To: []string{"erp"}}}, []want{{path: "routes[0].name", msg: "is required"}}},
		{"unknown format", []routetable.Route{{Name: "d", To: []string{"erp"}, Format: "xml"}}, []want{{path: "routes[0].format", msg: `unknown format "xml"`}}},
		{"all at once", []routetable.Route{{Name: "a", When: "(", To: []string{"x"}}, {Name: "a", When: "order.test", To: []string{"erp"}}},
			[]want{{path: "routes[0].when", msg: "does not compile"}, {path: "routes[0].to", msg: `unknown backend "x"`},
				{path: "routes[1].name", msg: "duplicate"}, {path: "routes", msg: "no default route"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := routetable.Check(tt.routes, known)
			var list strings.Builder
			for _, p := range got {
				fmt.Fprintf(&list, "  %s\n", p.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems:\n%swant %d", len(got), list.String(), len(tt.want))
			}
			for i, w := range tt.want {
				p := got[i]
				if p.Path() != w.path || !strings.Contains(p.Message, w.msg) {
					t.Errorf("problem %d = %s: %q, want %s: %q", i, p.Path(), p.Message, w.path, w.msg)
				}
				if w.line != 0 && (p.Line != w.line || p.Column != w.column) {
					t.Errorf("problem %d at line %d column %d, want line %d column %d", i, p.Line, p.Column, w.line, w.column)
				}
			}
		})
	}
}

func TestCheckWithoutKnownBackends(t *testing.T) {
	if ps := routetable.Check([]routetable.Route{{Name: "d", To: []string{"anything"}}}, nil); len(ps) != 0 {
		t.Errorf("Check with nil backends = %v, want no problems", ps)
	}
}
