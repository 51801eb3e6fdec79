package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/internal/web"
)

// TestDeadLettersPage: admins see the dead letters and retry one or all
// of a backend; nobody else sees the page; a cross-site post is refused.
func TestDeadLettersPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.AddDeadLetter(web.DeadLetter{ID: "dlv_1", OrderID: "ord_D1", Backend: "wms", Route: "default", Attempts: 8, LastError: "HTTP 422: unknown <article>"})
	e.svc.AddDeadLetter(web.DeadLetter{ID: "dlv_2", OrderID: "ord_D2", Backend: "wms", Route: "default", Attempts: 8, LastError: "HTTP 503"})
	e.svc.AddDeadLetter(web.DeadLetter{ID: "dlv_3", OrderID: "ord_D3", Backend: "3pl", Route: "export", Attempts: 5, LastError: "connection refused"})
	admin, bert := e.session("alice"), e.session("bert")

	status, _, body := e.do("GET", "/admin/dead-letters", admin, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /admin/dead-letters as admin: %d", status)
	}
	for _, w := range []string{`href="/orders/ord_D1"`, "unknown &lt;article&gt;", `action="/admin/dead-letters/dlv_2/retry"`,
		`value="wms"`, `value="3pl"`, `href="/admin/dead-letters"`} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if s, _, _ := e.do("GET", "/admin/dead-letters", bert, nil, nil); s != http.StatusForbidden {
		t.Errorf("GET as a non-admin: %d, want 403", s)
	}
	if s, _, _ := e.do("POST", "/admin/dead-letters/dlv_1/retry", bert, nil, nil); s != http.StatusForbidden {
		t.Errorf("retry as a non-admin: %d, want 403", s)
	}
	crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	if s, _, _ := e.do("POST", "/admin/dead-letters/dlv_1/retry", admin, nil, crossSite); s != http.StatusForbidden {
		t.Errorf("cross-site retry: %d, want 403", s)
	}
	if s, _, _ := e.do("POST", "/admin/dead-letters/dlv_9/retry", admin, nil, nil); s != http.StatusNotFound {
		t.Errorf("retry of no dead letter: %d, want 404", s)
	}

	status, _, body = e.do("POST", "/admin/dead-letters/dlv_3/retry", admin, nil, nil)
	if status != http.StatusOK || !strings.Contains(body, "dlv_3 (ord_D3): queued again") || strings.Contains(body, `id="dl-dlv_3"`) {
		t.Errorf("retry of dlv_3: %d, want it queued again and off the list", status)
	}
	status, _, body = e.do("POST", "/admin/dead-letters/retry", admin, url.Values{"backend": {"wms"}}, nil)
	if status != http.StatusOK || !strings.Contains(body, "dlv_1 (ord_D1): queued again") || !strings.Contains(body, "dlv_2 (ord_D2): queued again") ||
		!strings.Contains(body, `id="no-dead-letters"`) {
		t.Errorf("retry all of wms: %d, want both queued again and none left", status)
	}
	if !slices.Contains(e.auditActions(t), "alice deadletter.retry dlv_1 dlv_2") {
		t.Errorf("audit %v has no deadletter.retry of wms", e.auditActions(t))
	}
}
