package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/channels/webapi"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Info       struct{ Title, Version string }       `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type operation struct {
	Security   *[]map[string][]string `json:"security"`
	Parameters []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
	} `json:"parameters"`
	Responses map[string]json.RawMessage `json:"responses"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Error("info.title or info.version missing")
	}
	return doc
}

// documentedRoutes are the routes the document must describe: every
// registration of routes() and the web channel's POST, as "METHOD /path"
// with the access each has.
func documentedRoutes() map[string]access {
	s := New(Options{Metrics: http.NotFoundHandler(), Ops: stubOps{}})
	out := map[string]access{webapi.Route: 0} // 0: the web channel authenticates itself
	for _, rt := range s.routes() {
		out[rt.pattern] = rt.access
	}
	return out
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := documentedRoutes()
	if len(routes) < 12 {
		t.Fatalf("only %d routes found: the route list is not what the test expects", len(routes))
	}
	for pattern, acc := range routes {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Errorf("route %q has no method: every API route must name one", pattern)
			continue
		}
		raw, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s is missing from openapi.json", pattern)
			continue
		}
		var op operation
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Errorf("%s: %v", pattern, err)
			continue
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses", pattern)
		}
		for _, name := range pathParams(path) {
			if !slices.ContainsFunc(op.Parameters, func(p struct {
				Name     string `json:"name"`
				In       string `json:"in"`
				Required bool   `json:"required"`
			}) bool {
				return p.Name == name && p.In == "path" && p.Required
			}) {
				t.Errorf("%s: path parameter %s is not declared", pattern, name)
			}
		}
		if op.Security == nil {
			t.Errorf("%s: no security requirement (use [] for a public route)", pattern)
			continue
		}
		var schemes []string
		for _, req := range *op.Security {
			schemes = append(schemes, slices.Collect(maps.Keys(req))...)
		}
		slices.Sort(schemes)
		want := map[access][]string{
			public: nil, adminOnly: {"adminToken"}, customerRead: {"adminToken", "customerKey"}, 0: {"customerKey"},
			approver: {"adminToken", "userPassword"},
		}[acc]
		if !slices.Equal(schemes, want) {
			t.Errorf("%s: security schemes %v, want %v", pattern, schemes, want)
		}
	}
	// And nothing the server does not serve.
	for path, ops := range doc.Paths {
		for method := range ops {
			if _, ok := routes[strings.ToUpper(method)+" "+path]; !ok {
				t.Errorf("openapi.json describes %s %s, which no route serves", strings.ToUpper(method), path)
			}
		}
	}
	for _, name := range []string{"Order", "OrderInput", "Problem"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %s is missing", name)
		}
	}
	for _, name := range []string{"adminToken", "customerKey"} {
		if _, ok := doc.Components.SecuritySchemes[name]; !ok {
			t.Errorf("security scheme %s is missing", name)
		}
	}
}

func pathParams(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			out = append(out, strings.Trim(seg, "{}"))
		}
	}
	return out
}

func TestOpenAPIReferencesResolve(t *testing.T) {
	var doc any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if _, err := resolve(doc, ref); err != nil {
					t.Errorf("$ref %s: %v", ref, err)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(doc)
	if n == 0 {
		t.Error("no $ref found: the walk checks nothing")
	}
}

// resolve follows a local JSON pointer reference ("#/components/...").
func resolve(doc any, ref string) (any, error) {
	ptr, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	v := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not an object", tok)
		}
		if v, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%s not found", tok)
		}
	}
	return v, nil
}

// TestOpenAPIOrderInputMatchesTheHandler compares the OrderInput schema
// with the members the web channel's decoder accepts, name by name and
// type by type.
func TestOpenAPIOrderInputMatchesTheHandler(t *testing.T) {
	var doc any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var walk func(prefix string, schema any)
	walk = func(prefix string, schema any) {
		m, _ := schema.(map[string]any)
		if ref, ok := m["$ref"].(string); ok {
			r, err := resolve(doc, ref)
			if err != nil {
				t.Fatalf("%s: %v", prefix, err)
			}
			walk(prefix, r)
			return
		}
		if alts, ok := m["oneOf"].([]any); ok { // a member or null
			for _, a := range alts {
				if am, _ := a.(map[string]any); am["type"] != "null" {
					walk(prefix, a)
				}
			}
			return
		}
		typ := m["type"]
		if ts, ok := typ.([]any); ok { // ["string", "null"]
			for _, x := range ts {
				if x != "null" {
					typ = x
				}
			}
		}
		ts, _ := typ.(string)
		if prefix != "" {
			got[prefix] = ts
		}
		switch ts {
		case "object":
			if m["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties is not false, but the handler refuses unknown members", prefix)
			}
			props, _ := m["properties"].(map[string]any)
			for name, p := range props {
				walk(prefix+"/"+name, p)
			}
		case "array":
			walk(prefix+"/*", m["items"])
		}
	}
	r, err := resolve(doc, "#/components/schemas/OrderInput")
	if err != nil {
		t.Fatal(err)
	}
	walk("", r)
	want := webapi.InputFields()
	for p, typ := range want {
		if got[p] != typ {
			t.Errorf("OrderInput %s: type %q in openapi.json, the handler takes %q", p, got[p], typ)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("OrderInput %s is in openapi.json, but the handler refuses it", p)
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	srv := httptest.NewServer(New(Options{}))
	defer srv.Close()
	resp, body := get(t, srv, "/api/openapi.json", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/openapi.json without a token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body, OpenAPI()) {
		t.Error("served document differs from the embedded one")
	}
}

// scopeFixture is a store with orders of customers C-A and C-B, one with a
// delivery, and keys: A read+write, A write only, B read.
type scopeFixture struct {
	srv                       *httptest.Server
	st                        *store.Store
	docID                     string
	ordersA, ordersB          []string
	keyA, keyAWrite, keyB     string
	keyARevoked, keyAReadOnly string
}

func newScopeFixture(t *testing.T) scopeFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "db.sqlite"), ArchiveDir: filepath.Join(dir, "archive")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	f := scopeFixture{st: st}
	h, size, err := st.Archive().Put(ctx, strings.NewReader(`{"po_number": "1"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Write(ctx, func(tx *store.Tx) error {
		doc, _, err := tx.InsertDocument(ctx, store.DocumentInput{Channel: "shop", SourceKey: "web:C-A:1", SHA256: h, Size: size})
		if err != nil {
			return err
		}
		f.docID = doc.ID
		for i, c := range []string{"C-A", "C-B", "C-A", "C-B"} {
			o := &order.Order{Channel: order.ChannelWeb, Source: order.Source{Standard: "JSON"}, CustomerID: c,
				PONumber: fmt.Sprintf("PO-%d", i), Lines: []order.Line{{LineNo: "1", Quantity: decimal.MustParse("1"), SKU: "X"}}}
			rec, _, err := tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, MessageIndex: i, Order: o})
			if err != nil {
				return err
			}
			if c == "C-A" {
				f.ordersA = append(f.ordersA, rec.ID)
			} else {
				f.ordersB = append(f.ordersB, rec.ID)
			}
			if _, _, err := tx.InsertDelivery(ctx, store.DeliveryInput{OrderID: rec.ID, OrderRevision: rec.Revision, Backend: "erp-internal"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(customer string, scopes ...string) (string, store.APIKey) {
		k, tok, err := st.CreateAPIKey(ctx, customer, scopes)
		if err != nil {
			t.Fatal(err)
		}
		return tok, k
	}
	f.keyA, _ = mk("C-A", webapi.ScopeOrdersRead, webapi.ScopeOrdersWrite)
	f.keyAWrite, _ = mk("C-A", webapi.ScopeOrdersWrite)
	f.keyB, _ = mk("C-B", webapi.ScopeOrdersRead)
	f.keyAReadOnly, _ = mk("C-A", webapi.ScopeOrdersRead)
	var revoked store.APIKey
	f.keyARevoked, revoked = mk("C-A", webapi.ScopeOrdersRead)
	if _, err := st.RevokeAPIKey(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(New(Options{Store: st, Raw: st.Archive(), AdminToken: token, Keys: st.APIKeys(),
		Metrics: http.NotFoundHandler(), Ops: stubOps{}}))
	t.Cleanup(f.srv.Close)
	return f
}

// TestCustomerKeysOnEveryRoute: a customer key reads only its customer's
// orders; another customer's order is 404; every admin route is 403.
func TestCustomerKeysOnEveryRoute(t *testing.T) {
	f := newScopeFixture(t)
	s := New(Options{Metrics: http.NotFoundHandler(), Ops: stubOps{}})
	for _, rt := range s.routes() {
		if rt.access == public {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		idOfB := f.ordersB[0]
		if strings.HasPrefix(path, "/api/v1/documents/") {
			idOfB = f.docID
		}
		path = strings.Replace(path, "{id}", idOfB, 1)
		path = strings.Replace(path, "{kind}", "customers", 1)
		if method != http.MethodGet {
			// A state-changing admin route: a customer key is refused
			// before the body is read.
			for _, tok := range []string{f.keyA, f.keyAWrite} {
				if resp, body := send(t, f.srv, method, path, tok, "{}"); resp.StatusCode != http.StatusForbidden {
					t.Errorf("customer key on %s %s: %d %s, want 403", method, path, resp.StatusCode, body)
				}
			}
			if resp, _ := send(t, f.srv, method, path, f.keyARevoked, "{}"); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("revoked key on %s %s: %d, want 401", method, path, resp.StatusCode)
			}
			continue
		}

		resp, body := get(t, f.srv, path, f.keyA)
		switch {
		case rt.access == adminOnly:
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("customer key on admin route %s: %d %s, want 403 problem+json", path, resp.StatusCode, body)
			}
		case strings.Contains(rt.pattern, "{id}"):
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("customer A reading B's order %s: %d %s, want 404 problem+json", path, resp.StatusCode, body)
			}
		default:
			for _, id := range f.ordersB {
				if bytes.Contains(body, []byte(id)) {
					t.Errorf("customer A's list %s shows B's order %s", path, id)
				}
			}
		}
		// The admin token still reaches every route.
		if resp, body := get(t, f.srv, path, token); resp.StatusCode != http.StatusOK {
			t.Errorf("admin on %s: %d %s", path, resp.StatusCode, body)
		}
		// A key without orders:read, and a revoked key, read nothing.
		if resp, _ := get(t, f.srv, path, f.keyAWrite); resp.StatusCode != http.StatusForbidden {
			t.Errorf("write-only key on %s: %d, want 403", path, resp.StatusCode)
		}
		if resp, _ := get(t, f.srv, path, f.keyARevoked); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("revoked key on %s: %d, want 401", path, resp.StatusCode)
		}
	}
}

func TestCustomerKeyReadsItsOwnOrders(t *testing.T) {
	f := newScopeFixture(t)
	list := func(tok, query string) []string {
		t.Helper()
		resp, body := get(t, f.srv, "/api/v1/orders"+query, tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, resp.StatusCode, body)
		}
		var page struct {
			Orders []orderSummary `json:"orders"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range page.Orders {
			ids = append(ids, o.ID)
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids []string) []string { return slices.Sorted(slices.Values(ids)) }
	tests := []struct {
		name, tok, query string
		want             []string
	}{
		{"A", f.keyA, "", sorted(f.ordersA)},
		{"A asking for B", f.keyA, "?customer=C-B", sorted(f.ordersA)},
		{"A read-only key", f.keyAReadOnly, "", sorted(f.ordersA)},
		{"B", f.keyB, "", sorted(f.ordersB)},
		{"admin", token, "", sorted(append(slices.Clone(f.ordersA), f.ordersB...))},
		{"admin filtering", token, "?customer=C-B", sorted(f.ordersB)},
	}
	for _, tt := range tests {
		if got := list(tt.tok, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("%s: listed %v, want %v", tt.name, got, tt.want)
		}
	}

	resp, body := get(t, f.srv, "/api/v1/orders/"+f.ordersA[0], f.keyA)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("A reading its order: %d %s", resp.StatusCode, body)
	}
	var view map[string]json.RawMessage
	if err := json.Unmarshal(body, &view); err != nil {
		t.Fatal(err)
	}
	if _, ok := view["deliveries"]; ok || bytes.Contains(body, []byte("erp-internal")) {
		t.Errorf("a customer sees deliveries: %s", body)
	}
	if _, ok := view["order"]; !ok {
		t.Errorf("no order in the view: %s", body)
	}
	_, body = get(t, f.srv, "/api/v1/orders/"+f.ordersA[0], token)
	if !bytes.Contains(body, []byte(`"deliveries"`)) || !bytes.Contains(body, []byte("erp-internal")) {
		t.Errorf("the admin view lost its deliveries: %s", body)
	}
	if resp, _ := get(t, f.srv, "/api/v1/orders/"+f.ordersA[0], f.keyB); resp.StatusCode != http.StatusNotFound {
		t.Errorf("B reading A's order: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, f.srv, "/api/v1/orders/ord_nope", f.keyA); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order: %d, want 404 (the same answer as another customer's)", resp.StatusCode)
	}
}
