package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestPagesShowTheirFigures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.session("alice")
	held := e.svc.HeldIDs()[0]
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{`id="q-review">2<`, `id="q-held">1<`, "nord-sftp", "IMAP: connection reset", `id="touchless">0.0%<`, `id="docs-today">15<`}},
		{"/approvals", []string{"credit_limit", "exposure: <b>2208.00 EUR</b>", "limit: <b>1000.00 EUR</b>", `formaction="/approvals/` + held + `/approve"`}},
		{"/orders", []string{held, "4500012345", "Werkzeug Sued AG", "2208.00 EUR"}},
		{"/orders?status=accepted", []string{"No orders match."}},
		{"/orders?q=4500012345&channel=edi", []string{held}},
		{"/orders?from=not-a-date", []string{"is not a date"}},
		{"/orders/" + held, []string{"4500012345", "credit_limit", "received", "held", `href="/orders/` + held + `/raw"`, "DRL-550"}},
		{"/review", []string{"89 5550299", "einkauf@baumarkt-nord.de"}},
		{"/admin/users", []string{"alice", "bert", "dora", "approver"}},
		{"/admin/audit", []string{"Hash chain verified"}},
	} {
		status, _, body := e.do("GET", tc.path, admin, nil, nil)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, status)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: body lacks %q", tc.path, w)
			}
		}
	}
	if s, _, _ := e.do("GET", "/orders/ord_nope", admin, nil, nil); s != http.StatusNotFound {
		t.Errorf("unknown order: %d, want 404", s)
	}
	if s, _, _ := e.do("GET", "/no/such/page", admin, nil, nil); s != http.StatusNotFound {
		t.Errorf("unknown page: %d, want 404", s)
	}
}

func TestRawDocumentIsSandboxed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.srv.URL+"/orders/"+e.svc.HeldIDs()[0]+"/raw", nil)
	req.AddCookie(e.session("bert"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "sandbox") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Disposition"), "po_4711.edi") {
		t.Errorf("raw document: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestSecurityHeadersOnPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
	} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("%s = %q, want it to contain %q", h, resp.Header.Get(h), want)
		}
	}
}

func TestDeskSearchEndpoints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.session("dora")
	_, _, body := e.do("GET", "/desk/products?customer=C-2000&q=4012345000016", c, nil, map[string]string{"Accept": "application/json"})
	var ps []struct{ SKU, Price string }
	if err := json.Unmarshal([]byte(body), &ps); err != nil || len(ps) != 1 || ps[0].SKU != "SCR-100" || ps[0].Price != "13.10" {
		t.Errorf("products by GTIN for C-2000: %s (%v)", body, err)
	}
	_, _, body = e.do("GET", "/desk/customers?q=5550200", c, nil, nil)
	if !strings.Contains(body, `"id":"C-2000"`) || strings.Contains(body, "C-1000") {
		t.Errorf("customers by phone: %s", body)
	}
	if s, _, _ := e.do("GET", "/desk/products?customer=C-1000&q=x", nil, nil, map[string]string{"Accept": "application/json"}); s != http.StatusUnauthorized {
		t.Errorf("search without a session: %d, want 401", s)
	}
}
