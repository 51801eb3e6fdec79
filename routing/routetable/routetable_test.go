package routetable_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/routetable"
)

// routeJSON is a route as the case files write it.
type routeJSON struct {
	Name     string   `json:"name"`
	When     string   `json:"when"`
	To       []string `json:"to"`
	Format   string   `json:"format"`
	Continue bool     `json:"continue"`
}

func (r routeJSON) route() routetable.Route {
	return routetable.Route{Name: r.Name, When: r.When, To: r.To, Format: routing.Format(r.Format), Continue: r.Continue}
}

type targetJSON struct {
	Route    string   `json:"route"`
	Backends []string `json:"backends"`
	Format   string   `json:"format,omitempty"`
}

// matchCase is one file of testdata/match: an order, what the pipeline
// passes alongside, and the expected targets or error. Without routes, the
// case uses testdata/routes.json.
type matchCase struct {
	About          string              `json:"about"`
	Routes         []routeJSON         `json:"routes"`
	Order          *order.Order        `json:"order"`
	Partner        string              `json:"partner"`
	LineAttributes []map[string]string `json:"line_attributes"`
	Want           []targetJSON        `json:"want"`
	WantError      string              `json:"want_error"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func routesOf(rs []routeJSON) []routetable.Route {
	out := make([]routetable.Route, len(rs))
	for i, r := range rs {
		out[i] = r.route()
	}
	return out
}

func TestMatchCases(t *testing.T) {
	var shared []routeJSON
	readJSON(t, filepath.Join("testdata", "routes.json"), &shared)
	sharedTable, err := routetable.New(routesOf(shared))
	if err != nil {
		t.Fatalf("the shared route table: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "match", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("%d case files (%v), want at least 10", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			var c matchCase
			readJSON(t, f, &c)
			table := sharedTable
			if c.Routes != nil {
				if table, err = routetable.New(routesOf(c.Routes)); err != nil {
					t.Fatalf("New: %v", err)
				}
			}
			got, err := table.Match(routetable.Input{Order: c.Order, Partner: c.Partner, LineAttributes: c.LineAttributes})
			if c.WantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.WantError) {
					t.Fatalf("%s\nMatch = %v, %v; want error containing %q", c.About, got, err, c.WantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nMatch: %v", c.About, err)
			}
			var gotJSON []targetJSON
			for _, tg := range got {
				gotJSON = append(gotJSON, targetJSON{Route: tg.Route, Backends: tg.Backends, Format: string(tg.Format)})
			}
			if !reflect.DeepEqual(gotJSON, c.Want) {
				t.Errorf("%s\ngot  %+v\nwant %+v", c.About, gotJSON, c.Want)
			}
		})
	}
}

func TestMatchErrorsAreTyped(t *testing.T) {
	o := &order.Order{PONumber: "1"}
	noDefault, err := routetable.New([]routetable.Route{{Name: "x", When: "order.test", To: []string{"a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noDefault.Match(routetable.Input{Order: o}); !errors.Is(err, routetable.ErrNoRoute) {
		t.Errorf("Match = %v, want ErrNoRoute", err)
	}
	bad, err := routetable.New([]routetable.Route{{Name: "idx", When: "order.lines[0].sku == ''", To: []string{"a"}}, {Name: "d", To: []string{"b"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Match(routetable.Input{Order: o})
	var ee *routetable.EvalError
	if !errors.As(err, &ee) || ee.Route != "idx" {
		t.Errorf("Match = %v, want an *EvalError of route idx", err)
	}
	if _, err := bad.Match(routetable.Input{}); err == nil {
		t.Error("Match without an order succeeded")
	}
}

func TestNewRejectsBadRoutes(t *testing.T) {
	_, err := routetable.New([]routetable.Route{
		{Name: "a", When: "order.totl > 1", To: []string{"x"}},
		{Name: "a", When: "order.po_number", To: []string{"x"}},
		{Name: "d", To: []string{"x"}},
	})
	if err == nil {
		t.Fatal("New accepted an unknown field, a non-boolean when and a duplicate name")
	}
	for _, want := range []string{"routes[0].when (line 1, column 7): does not compile: order has no field totl", "routes[1].name: duplicate", "routes[1].when"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not contain %q", err, want)
		}
	}
	var p *routetable.Problem
	if !errors.As(err, &p) {
		t.Errorf("New error %v holds no *Problem", err)
	}
}

func TestRoutesAreCopied(t *testing.T) {
	to := []string{"a"}
	table, err := routetable.New([]routetable.Route{{Name: "d", To: to}})
	if err != nil {
		t.Fatal(err)
	}
	to[0] = "changed"
	got, err := table.Match(routetable.Input{Order: &order.Order{}})
	if err != nil || len(got) != 1 || got[0].Backends[0] != "a" {
		t.Errorf("Match = %+v, %v; want backend a despite the caller's later change", got, err)
	}
	if rs := table.Routes(); len(rs) != 1 || rs[0].To[0] != "a" {
		t.Errorf("Routes = %+v", rs)
	}
}

// TestMatchConcurrent matches from many goroutines on one table (run
// with -race).
func TestMatchConcurrent(t *testing.T) {
	var shared []routeJSON
	readJSON(t, filepath.Join("testdata", "routes.json"), &shared)
	table, err := routetable.New(routesOf(shared))
	if err != nil {
		t.Fatal(err)
	}
	var c matchCase
	readJSON(t, filepath.Join("testdata", "match", "boundary_total_10000_01_fans_out.json"), &c)
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				got, err := table.Match(routetable.Input{Order: c.Order})
				if err == nil && (len(got) != 2 || got[0].Route != "audit-large" || got[1].Route != "eu") {
					err = fmt.Errorf("Match = %+v", got)
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
