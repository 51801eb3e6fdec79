package webapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govalues/decimal"
)

// fakeKeys is a Keys over a fixed map of tokens.
type fakeKeys struct {
	keys map[string]KeyInfo
	err  error // returned for every lookup when set
}

func (f fakeKeys) Lookup(_ context.Context, tok string) (KeyInfo, error) {
	if f.err != nil {
		return KeyInfo{}, f.err
	}
	k, ok := f.keys[tok]
	if !ok {
		return KeyInfo{}, fmt.Errorf("key %.8s...: %w", tok, ErrInvalidKey)
	}
	return k, nil
}

// memIntake is a faithful in-memory Intake: idempotent by source key, the
// first writer wins, a repeat gets the first submission's receipt.
type memIntake struct {
	mu    sync.Mutex
	docs  map[string]Receipt
	subs  []Submission // stored submissions, in order
	n     int
	err   error
	delay time.Duration // widens the race window of concurrent tests
}

func newMemIntake() *memIntake { return &memIntake{docs: map[string]Receipt{}} }

func (m *memIntake) Submit(ctx context.Context, s Submission) (Receipt, error) {
	if m.err != nil {
		return Receipt{}, m.err
	}
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.docs[s.SourceKey()]; ok {
		r.Existing = true
		return r, nil
	}
	if sha256.Sum256(s.Body) != s.SHA256 {
		return Receipt{}, errors.New("body hash mismatch")
	}
	m.n++
	r := Receipt{OrderID: s.OrderID, DocumentID: fmt.Sprintf("doc_%d", m.n), SHA256: s.SHA256, RequestSHA256: s.RequestSHA256}
	m.docs[s.SourceKey()] = r
	m.subs = append(m.subs, s)
	return r, nil
}

func (m *memIntake) stored() []Submission {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.subs)
}

// validate stands in for the composition root's hook over the canonical
// order's Validate: a few of its checks, with its field paths.
func validate(body []byte) []FieldProblem {
	var o struct {
		Channel    string `json:"channel"`
		PONumber   string `json:"po_number"`
		CustomerID string `json:"customer_id"`
		Lines      []struct {
			Quantity decimal.Decimal `json:"quantity"`
		} `json:"lines"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return []FieldProblem{{Detail: err.Error()}}
	}
	var ps []FieldProblem
	if o.Channel != "web" || o.CustomerID == "" {
		ps = append(ps, FieldProblem{Pointer: "/channel", Detail: "not a web order of a customer"})
	}
	if strings.TrimSpace(o.PONumber) == "" {
		ps = append(ps, FieldProblem{Pointer: Pointer("po_number"), Detail: "is missing"})
	}
	if len(o.Lines) == 0 {
		ps = append(ps, FieldProblem{Pointer: Pointer("lines"), Detail: "the order has no lines"})
	}
	for i, l := range o.Lines {
		if !l.Quantity.IsPos() {
			ps = append(ps, FieldProblem{Pointer: Pointer(fmt.Sprintf("lines[%d].quantity", i)), Detail: "is not a positive quantity"})
		}
	}
	return ps
}

const (
	keyA     = "key-of-customer-a"
	keyB     = "key-of-customer-b"
	keyRead  = "read-only-key"
	orderDoc = `{"po_number": "4500012345", "po_date": "2026-11-18", "currency": "EUR",
		"notes": ["Please deliver to dock 3"],
		"parties": [{"role": "ship_to", "id": "ST-HH-01", "id_scheme": "buyer", "name": "Lager Hamburg",
			"address": {"lines": ["Lagerstrasse 5"], "city": "Hamburg", "postal_code": "20457", "country": "DE"}}],
		"lines": [{"line_no": "1", "quantity": "24", "unit": "EA", "unit_price": "12.50", "gtin": "012345678905",
			"buyer_part": "BN-4711", "description": "Wood screws 4x40", "requested_delivery": null}],
		"totals": {"line_count": 1, "amount": "300.00"}}`
)

type harness struct {
	h      *Handler
	intake *memIntake
}

func newHarness(t testing.TB, mod func(*Options)) harness {
	t.Helper()
	in := newMemIntake()
	opts := Options{
		Name: "shop",
		Keys: fakeKeys{keys: map[string]KeyInfo{
			keyA:    {ID: "key_A", CustomerID: "C-A", Scopes: []string{ScopeOrdersWrite, ScopeOrdersRead}},
			keyB:    {ID: "key_B", CustomerID: "C-B", Scopes: []string{ScopeOrdersWrite}},
			keyRead: {ID: "key_R", CustomerID: "C-A", Scopes: []string{ScopeOrdersRead}},
		}},
		Intake:       in,
		Validate:     validate,
		MaxBodyBytes: 4096,
	}
	if mod != nil {
		mod(&opts)
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return harness{h: h, intake: in}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (h harness) post(key, idem, body string, mod ...func(*http.Request)) reply {
	req := httptest.NewRequest(http.MethodPost, OrdersPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	for _, m := range mod {
		m(req)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func TestPostOrderAccepted(t *testing.T) {
	h := newHarness(t, nil)
	r := h.post(keyA, "k-1", orderDoc, func(r *http.Request) { r.Header.Set("X-Request-Id", "shop-req-7") })
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d, want 202: %s", r.status, r.body)
	}
	var got Accepted
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	subs := h.intake.stored()
	if len(subs) != 1 {
		t.Fatalf("%d submissions stored, want 1", len(subs))
	}
	s := subs[0]
	if !strings.HasPrefix(got.OrderID, "ord_") || len(got.OrderID) != 4+26 || got.OrderID != s.OrderID {
		t.Errorf("order id %q, submitted %q", got.OrderID, s.OrderID)
	}
	if got.Status != "received" || got.Links.Self != "/api/v1/orders/"+got.OrderID || r.header.Get("Location") != got.Links.Self {
		t.Errorf("answer %s, Location %q", r.body, r.header.Get("Location"))
	}
	if r.header.Get("Idempotent-Replayed") != "" {
		t.Error("a first answer says Idempotent-Replayed")
	}
	if s.CustomerID != "C-A" || s.KeyID != "key_A" || s.IdempotencyKey != "k-1" || s.SourceKey() != "web:C-A:k-1" || s.RequestID != "shop-req-7" {
		t.Errorf("submission %+v", s)
	}
	var stored map[string]any
	if err := json.Unmarshal(s.Body, &stored); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(orderDoc), &sent); err != nil {
		t.Fatal(err)
	}
	// The client's members pass through unchanged (null dropped) ...
	delete(sent["lines"].([]any)[0].(map[string]any), "requested_delivery")
	for k, v := range sent {
		if fmt.Sprint(stored[k]) != fmt.Sprint(v) {
			t.Errorf("member %s: stored %v, sent %v", k, stored[k], v)
		}
	}
	// ... and the gateway's are set.
	want := map[string]any{"id": s.OrderID, "channel": "web", "customer_id": "C-A",
		"source": map[string]any{"standard": "JSON", "request_id": "shop-req-7"}}
	for k, v := range want {
		if fmt.Sprint(stored[k]) != fmt.Sprint(v) {
			t.Errorf("member %s: stored %v, want %v", k, stored[k], v)
		}
	}
	if len(stored) != len(sent)+len(want) {
		t.Errorf("stored body has %d members, want %d: %s", len(stored), len(sent)+len(want), s.Body)
	}
	// Decimals keep the sender's scale.
	if !bytes.Contains(s.Body, []byte(`"amount":"300.00"`)) {
		t.Errorf("amount lost its scale: %s", s.Body)
	}
}

func TestIdempotencyConcurrent(t *testing.T) {
	h := newHarness(t, nil)
	h.intake.delay = 2 * time.Millisecond
	const n = 20
	replies := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i] = h.post(keyA, "same-key", orderDoc)
		}()
	}
	close(start)
	wg.Wait()
	if subs := h.intake.stored(); len(subs) != 1 {
		t.Fatalf("%d orders stored, want exactly 1", len(subs))
	}
	replayed := 0
	for i, r := range replies {
		if r.status != http.StatusAccepted || !bytes.Equal(r.body, replies[0].body) ||
			r.header.Get("Location") != replies[0].header.Get("Location") {
			t.Errorf("reply %d: %d %s, want 202 %s", i, r.status, r.body, replies[0].body)
		}
		if r.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != n-1 {
		t.Errorf("%d replies marked replayed, want %d", replayed, n-1)
	}

	// The same order written differently (member order, white space,
	// explicit nulls) is the same request.
	var m map[string]any
	_ = json.Unmarshal([]byte(orderDoc), &m)
	m["order_type"] = nil
	compact, _ := json.Marshal(m)
	if r := h.post(keyA, "same-key", string(compact)); r.status != http.StatusAccepted || !bytes.Equal(r.body, replies[0].body) {
		t.Errorf("same order, other formatting: %d %s, want the first answer", r.status, r.body)
	}

	// Another order under the key is a conflict.
	other := strings.Replace(orderDoc, `"quantity": "24"`, `"quantity": "25"`, 1)
	r := h.post(keyA, "same-key", other)
	if r.status != http.StatusConflict || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("other body: %d %s, want 409 problem+json", r.status, r.body)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil || p.Type != ProblemIdempotency || p.Status != 409 {
		t.Errorf("409 problem: %s (%v)", r.body, err)
	}
	if subs := h.intake.stored(); len(subs) != 1 {
		t.Errorf("%d orders stored after the conflict, want 1", len(subs))
	}

	// Keys are per customer, and no key means a new order each time.
	if r := h.post(keyB, "same-key", orderDoc); r.status != http.StatusAccepted || bytes.Equal(r.body, replies[0].body) {
		t.Errorf("customer B with A's idempotency key: %d %s, want a new order", r.status, r.body)
	}
	a, b := h.post(keyA, "", orderDoc), h.post(keyA, "", orderDoc)
	if a.status != 202 || b.status != 202 || bytes.Equal(a.body, b.body) {
		t.Errorf("without Idempotency-Key: %s / %s, want two orders", a.body, b.body)
	}
	if subs := h.intake.stored(); len(subs) != 4 {
		t.Errorf("%d orders stored, want 4", len(subs))
	}
}

func TestProblems(t *testing.T) {
	line := `{"line_no": "1", "quantity": "1", "sku": "X"}`
	tests := []struct {
		name     string
		key      string
		idem     string
		ctype    string
		body     string
		status   int
		pointers []string // of the problem's errors, in order
	}{
		{name: "no key", body: orderDoc, status: 401},
		{name: "unknown key", key: "nope", body: orderDoc, status: 401},
		{name: "read-only key", key: keyRead, body: orderDoc, status: 403},
		{name: "not JSON content type", key: keyA, ctype: "text/plain", body: orderDoc, status: 415},
		{name: "other charset", key: keyA, ctype: "application/json; charset=latin1", body: orderDoc, status: 415},
		{name: "too large", key: keyA, body: `{"notes": ["` + strings.Repeat("x", 5000) + `"]}`, status: 413},
		{name: "empty body", key: keyA, body: "", status: 400},
		{name: "syntax error", key: keyA, body: `{"po_number": "1", "lines": [` + line + `,]}`, status: 400, pointers: []string{"/lines/1"}},
		{name: "truncated", key: keyA, body: `{"po_number": "1", "lines": [{"line_no": "1"`, status: 400, pointers: []string{"/lines/0"}},
		{name: "not an object", key: keyA, body: `[1, 2]`, status: 400, pointers: nil},
		{name: "trailing data", key: keyA, body: `{"po_number": "1", "lines": [` + line + `]} {}`, status: 400, pointers: nil},
		{name: "invalid UTF-8", key: keyA, body: "{\"po_number\": \"\xff\"}", status: 400, pointers: nil},
		{name: "shape problems, all of them", key: keyA, status: 400, body: `{"po_number": 4500, "po_nmber": "x",
			"lines": [{"line_no": "1", "quantity": 24, "sku": "X", "colour": "red"},
			          {"line_no": "2", "quantity": "2,5", "unit_price": "1e3", "amount": "+1", "requested_delivery": "2026-02-30"}],
			"parties": {"role": "buyer"}, "totals": {"line_count": -1}, "notes": "one",
			"customer_id": "C-B", "status": "accepted", "a/b~c": 1, "po_number": "again"}`,
			pointers: []string{"/po_number", "/po_nmber", "/lines/0/quantity", "/lines/0/colour", "/lines/1/quantity",
				"/lines/1/unit_price", "/lines/1/amount", "/lines/1/requested_delivery", "/parties", "/totals/line_count", "/notes",
				"/customer_id", "/status", "/a~1b~0c", "/po_number"}},
		{name: "contract problems", key: keyA, status: 422, body: `{"po_number": " ", "lines": [` + line + `,
			{"line_no": "2", "quantity": "0", "sku": "Y"}]}`, pointers: []string{"/po_number", "/lines/1/quantity"}},
		{name: "no lines", key: keyA, status: 422, body: `{"po_number": "1"}`, pointers: []string{"/lines"}},
		{name: "idempotency key too long", key: keyA, idem: strings.Repeat("k", 256), body: orderDoc, status: 400},
		{name: "idempotency key with space", key: keyA, idem: "a b", body: orderDoc, status: 400},
		{name: "idempotency key empty quotes", key: keyA, idem: `""`, body: orderDoc, status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			r := h.post(tt.key, tt.idem, tt.body, func(r *http.Request) {
				if tt.ctype != "" {
					r.Header.Set("Content-Type", tt.ctype)
				}
			})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q, want application/problem+json", ct)
			}
			var p Problem
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != tt.status || p.Title == "" || p.Type == "" || p.Instance != OrdersPath {
				t.Errorf("problem %s", r.body)
			}
			if tt.pointers != nil {
				var got []string
				for _, e := range p.Errors {
					got = append(got, e.Pointer)
					if e.Detail == "" {
						t.Errorf("error at %q has no detail", e.Pointer)
					}
				}
				if !slices.Equal(got, tt.pointers) {
					t.Errorf("pointers\n got %q\nwant %q\n%s", got, tt.pointers, r.body)
				}
			}
			if len(p.Errors) == 0 && p.Detail == "" {
				t.Errorf("problem says nothing: %s", r.body)
			}
			if n := len(h.intake.stored()); n != 0 {
				t.Errorf("%d orders stored, want none", n)
			}
		})
	}
}

func TestRequestLimits(t *testing.T) {
	h := newHarness(t, nil)
	// A chunked body (no Content-Length) over the limit.
	req := httptest.NewRequest(http.MethodPost, OrdersPath, io.MultiReader(strings.NewReader(`{"notes": ["`),
		strings.NewReader(strings.Repeat("x", 5000)), strings.NewReader(`"]}`)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+keyA)
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversize body: %d, want 413", rec.Code)
	}
	// Two Idempotency-Key headers.
	r := h.post(keyA, "a", orderDoc, func(r *http.Request) { r.Header.Add("Idempotency-Key", "b") })
	if r.status != http.StatusBadRequest || !bytes.Contains(r.body, []byte(`"parameter":"Idempotency-Key"`)) {
		t.Errorf("two Idempotency-Keys: %d %s", r.status, r.body)
	}
	// The quoted (structured field) form names the same key as the bare one.
	a := h.post(keyA, `"quoted-1"`, orderDoc)
	b := h.post(keyA, `quoted-1`, orderDoc)
	if a.status != 202 || !bytes.Equal(a.body, b.body) {
		t.Errorf("quoted and bare key: %s / %s", a.body, b.body)
	}
	// A string longer than MaxStringBytes.
	h = newHarness(t, func(o *Options) { o.MaxBodyBytes = 1 << 20 })
	r = h.post(keyA, "", `{"po_number": "`+strings.Repeat("9", MaxStringBytes+1)+`", "lines": []}`)
	if r.status != 400 || !bytes.Contains(r.body, []byte(`"pointer":"/po_number"`)) {
		t.Errorf("long string: %d %s", r.status, r.body)
	}
}

func TestFailuresAre503(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"intake fails", func(o *Options) { o.Intake = &memIntake{docs: map[string]Receipt{}, err: errors.New("disk full")} }},
		{"key lookup fails", func(o *Options) { o.Keys = fakeKeys{err: errors.New("database closed")} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.mod)
			r := h.post(keyA, "k", orderDoc)
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" ||
				r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%d %v %s, want 503 problem with Retry-After", r.status, r.header, r.body)
			}
		})
	}
}

func TestNewNeedsItsParts(t *testing.T) {
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "Keys, Intake, Validate") {
		t.Errorf("New(empty): %v", err)
	}
	if _, err := New(Options{Keys: fakeKeys{}, Intake: newMemIntake(), Validate: validate, MaxBodyBytes: -1}); err == nil {
		t.Error("New with a negative limit: no error")
	}
}

func TestPointer(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", ""},
		{"po_number", "/po_number"},
		{"lines[2].quantity", "/lines/2/quantity"},
		{"parties[0].address.country", "/parties/0/address/country"},
		{"lines", "/lines"},
		{"confidence.a/b", "/confidence/a~1b"},
		{"x[1][2]", "/x/1/2"},
	}
	for _, tt := range tests {
		if got := Pointer(tt.path); got != tt.want {
			t.Errorf("Pointer(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestInputFieldsMatchTheInputStruct(t *testing.T) {
	// Every member the schema accepts must survive decoding into
	// orderInput and encoding again: a schema member without a struct
	// field would be accepted and silently dropped.
	fields := InputFields()
	body := `{"purpose": "original", "order_type": "220", "po_number": "1", "po_date": "2026-01-02", "currency": "EUR",
		"requested_delivery": "2026-01-03", "notes": ["n"], "references": [{"qualifier": "CT", "value": "v"}],
		"parties": [{"role": "buyer", "id": "1", "id_scheme": "GLN", "name": "n",
			"address": {"lines": ["l"], "city": "c", "region": "r", "postal_code": "p", "country": "DE"}}],
		"lines": [{"line_no": "1", "quantity": "1", "unit": "EA", "unit_price": "1", "price_basis": "AAA", "amount": "1",
			"gtin": "g", "buyer_part": "b", "supplier_part": "s", "manufacturer_part": "m", "description": "d", "sku": "k",
			"requested_delivery": "2026-01-04", "notes": ["n"]}],
		"totals": {"line_count": 1, "quantity_hash": "1", "amount": "1"}}`
	in, problems := decodeOrder([]byte(body))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	out, _ := json.Marshal(in)
	var a, b any
	_ = json.Unmarshal([]byte(body), &a)
	_ = json.Unmarshal(out, &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("round trip lost members:\n in %v\nout %v", a, b)
	}
	seen := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				seen[prefix+"/"+k] = kindOf(c)
				walk(prefix+"/"+k, c)
			}
		case []any:
			for _, c := range v {
				seen[prefix+"/*"] = kindOf(c)
				walk(prefix+"/*", c)
			}
		}
	}
	walk("", a)
	if !maps.Equal(seen, fields) {
		t.Errorf("the test body's members and types\n%v\ndiffer from InputFields\n%v", seen, fields)
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case float64:
		return "integer"
	}
	return "string"
}

// BenchmarkHandler is the handler's own cost: in-memory keys and intake.
func BenchmarkHandler(b *testing.B) {
	h := newHarness(b, nil)
	body := []byte(orderDoc)
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, OrdersPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+keyA)
		req.Header.Set("Idempotency-Key", fmt.Sprint("b-", i))
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusAccepted {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
