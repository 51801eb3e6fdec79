package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/web"
)

func TestCrossOriginPostRefusedOnEveryStateChangingRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.session("alice")
	n := 0
	for _, rt := range e.ui.Routes() {
		if !rt.StateChanging {
			continue
		}
		n++
		path := e.fill(rt.Path)
		for _, hdr := range []map[string]string{
			{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
			{"Origin": "https://evil.example", "Sec-Fetch-Site": ""},
			{"Sec-Fetch-Site": "same-site", "Origin": "https://sub.evil.example"},
		} {
			status, _, _ := e.do(rt.Method, path, admin, url.Values{"comment": {"x"}}, hdr)
			if status != http.StatusForbidden {
				t.Errorf("%s %s with %v: status %d, want 403", rt.Method, path, hdr, status)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d state-changing routes enumerated; the route table lost some", n)
	}
	// The check is not refusing everything: the same request from the
	// same origin passes it.
	status, _, _ := e.do("POST", "/approvals/"+e.svc.HeldIDs()[0]+"/approve", admin, url.Values{"comment": {"ok"}}, nil)
	if status != http.StatusSeeOther {
		t.Errorf("same-origin approve: status %d, want 303", status)
	}
}

func TestRoleRouteMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, rt := range e.ui.Routes() {
		for _, role := range append([]string{""}, web.Roles...) {
			name := rt.Method + " " + rt.Path + " as " + role
			var cookie *http.Cookie
			if role != "" {
				cookie = e.session(userOfRole[role])
			}
			status, loc, _ := e.do(rt.Method, e.fill(rt.Path), cookie, url.Values{"comment": {"matrix"}}, map[string]string{"Accept": "text/html"})
			switch {
			case rt.Roles == nil: // public
				if status == http.StatusForbidden || status == http.StatusUnauthorized || strings.HasPrefix(loc, "/login?") {
					t.Errorf("%s: status %d (%s), want the public route served", name, status, loc)
				}
			case role == "":
				if rt.Method == "GET" && !(status == http.StatusSeeOther && strings.HasPrefix(loc, "/login?")) ||
					rt.Method != "GET" && status != http.StatusUnauthorized {
					t.Errorf("%s: status %d (%s), want a redirect to login (GET) or 401", name, status, loc)
				}
			case slices.Contains(rt.Roles, role):
				if status == http.StatusForbidden || status == http.StatusUnauthorized || strings.HasPrefix(loc, "/login?next=") {
					t.Errorf("%s: status %d (%s), want allowed", name, status, loc)
				}
			default:
				if status != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", name, status)
				}
			}
		}
	}
	// The policy as the issue states it.
	want := map[string][]string{
		"GET /desk":                    {web.RoleAdmin, web.RoleDesk},
		"POST /review/{id}/accept":     {web.RoleAdmin, web.RoleDesk},
		"POST /approvals/{id}/approve": {web.RoleAdmin, web.RoleApprover},
		"GET /orders/{id}":             {web.RoleAdmin, web.RoleApprover, web.RoleDesk},
		"POST /admin/users":            {web.RoleAdmin},
		"GET /admin/audit":             {web.RoleAdmin},
	}
	for _, rt := range e.ui.Routes() {
		if w, ok := want[rt.Method+" "+rt.Path]; ok && !slices.Equal(rt.Roles, w) {
			t.Errorf("%s %s: roles %v, want %v", rt.Method, rt.Path, rt.Roles, w)
		}
	}
}

func TestSessionRotatedOnLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	status, first := e.login("dora", testPassword, nil)
	if status != http.StatusSeeOther || first == nil {
		t.Fatalf("login: status %d, cookie %v", status, first)
	}
	if c := first; !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie attributes: %+v", c)
	}
	if s, _, _ := e.do("GET", "/desk", first, nil, nil); s != http.StatusOK {
		t.Fatalf("desk with the first session: %d", s)
	}
	_, second := e.login("dora", testPassword, first)
	if second == nil || second.Value == first.Value {
		t.Fatalf("second login kept the session id")
	}
	if s, loc, _ := e.do("GET", "/desk", first, nil, nil); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("old session after re-login: %d %s, want a redirect to login", s, loc)
	}
	if s, _, _ := e.do("GET", "/desk", second, nil, nil); s != http.StatusOK {
		t.Errorf("new session: %d, want 200", s)
	}
	// A planted cookie the server never issued is not adopted.
	planted := &http.Cookie{Name: "ordergate_session", Value: strings.Repeat("A", 43)}
	_, third := e.login("dora", testPassword, planted)
	if third == nil || third.Value == planted.Value {
		t.Errorf("login adopted a planted session id")
	}
}

func TestSecureCookieUnderTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ui, err := web.New(web.Options{Service: e.svc, Users: e.st, Secure: true, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	req := httptestRequest("POST", "/login", url.Values{"name": {"dora"}, "password": {testPassword}})
	rec := recorder(ui, req)
	var c *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		c = ck
	}
	if c == nil || c.Name != "__Host-ordergate_session" || !c.Secure || !c.HttpOnly {
		t.Errorf("TLS cookie = %+v, want __Host- prefixed, Secure, HttpOnly", c)
	}
}

func TestLogoutEndsSessionOnServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.login("bert", testPassword, nil)
	if s, loc, _ := e.do("POST", "/logout", c, url.Values{}, nil); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("logout: %d %s", s, loc)
	}
	if s, loc, _ := e.do("GET", "/approvals", c, nil, nil); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("replayed cookie after logout: %d %s, want a redirect to login", s, loc)
	}
	if n, _ := e.st.CountSessions(context.Background(), "bert"); n != 0 {
		t.Errorf("%d sessions stored after logout, want 0", n)
	}
}

func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Idle: 30 minutes without a request ends the session.
	_, c := e.login("dora", testPassword, nil)
	e.clock.Advance(29 * time.Minute)
	if s, _, _ := e.do("GET", "/orders", c, nil, nil); s != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d, want 200", s)
	}
	e.clock.Advance(29 * time.Minute) // touched above: still alive
	if s, _, _ := e.do("GET", "/orders", c, nil, nil); s != http.StatusOK {
		t.Fatalf("29 minutes after the last request: %d, want 200", s)
	}
	e.clock.Advance(31 * time.Minute)
	if s, loc, _ := e.do("GET", "/orders", c, nil, nil); s != http.StatusSeeOther || !strings.Contains(loc, "notice=expired") {
		t.Errorf("after 31 idle minutes: %d %s, want a redirect to login with notice=expired", s, loc)
	}
	// Absolute: 8 hours after login, however active.
	_, c = e.login("dora", testPassword, nil)
	for i := 0; i < 16; i++ {
		e.clock.Advance(29 * time.Minute)
		if s, _, _ := e.do("GET", "/orders", c, nil, nil); s != http.StatusOK {
			t.Fatalf("active session after %s: %d", time.Duration(i+1)*29*time.Minute, s)
		}
	}
	e.clock.Advance(29 * time.Minute) // 8h41m after login
	if s, loc, _ := e.do("GET", "/orders", c, nil, nil); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("after the absolute timeout: %d %s, want a redirect to login", s, loc)
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		if s, _ := e.login("dora", "wrong password!", nil); s != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, s)
		}
	}
	// Locked: even the right password is refused without being checked.
	if s, c := e.login("dora", testPassword, nil); s != http.StatusTooManyRequests || c != nil {
		t.Fatalf("locked login: status %d, cookie %v; want 429 and none", s, c)
	}
	// Other users are not locked out by dora's failures.
	if s, _ := e.login("bert", testPassword, nil); s != http.StatusSeeOther {
		t.Errorf("other user during dora's lockout: %d, want 303", s)
	}
	e.clock.Advance(3 * time.Second)
	if s, _ := e.login("dora", testPassword, nil); s != http.StatusSeeOther {
		t.Fatalf("after the lockout: %d, want 303", s)
	}
	// The lockout doubles with each further failure.
	for i := 0; i < 5; i++ {
		e.login("dora", "wrong password!", nil)
	}
	e.clock.Advance(3 * time.Second)
	if s, _ := e.login("dora", "wrong password!", nil); s != http.StatusUnauthorized {
		t.Fatalf("sixth failure: %d", s)
	}
	e.clock.Advance(3 * time.Second) // 2s << 1 = 4s lock after the 6th failure
	if s, _ := e.login("dora", testPassword, nil); s != http.StatusTooManyRequests {
		t.Errorf("within the doubled lockout: %d, want 429", s)
	}
	got := e.auditActions(t)
	for _, want := range []string{"dora login.failure dora", "dora login.throttled dora", "dora login.success dora", "bert login.success bert"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit log lacks %q: %v", want, got)
		}
	}
}

func TestAuditRowsForEveryAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, desk := e.login("dora", testPassword, nil)
	_, approver := e.login("bert", testPassword, nil)
	_, admin := e.login("alice", testPassword, nil)

	// Desk: one order within the limit, one over it (held).
	submit := func(customer string, items ...string) string {
		f := url.Values{"customer": {customer}, "op": {"submit"}, "rid": {"r-" + customer}}
		for _, it := range items {
			f.Add("item", it)
			f.Add("qty", "40")
			f.Add("unit", "")
			f.Add("sku", "")
		}
		s, loc, body := e.do("POST", "/desk", desk, f, nil)
		if s != http.StatusSeeOther || !strings.HasPrefix(loc, "/orders/") {
			t.Fatalf("desk submit: %d %s\n%s", s, loc, body)
		}
		return strings.TrimSuffix(strings.TrimPrefix(loc, "/orders/"), "?notice=submitted")
	}
	submit("C-1000", "SCR-100")
	submit("C-2000", "DRL-550")
	held := e.svc.HeldIDs()
	if len(held) != 2 {
		t.Fatalf("held orders: %v, want 2", held)
	}
	if s, _, _ := e.do("POST", "/approvals/"+held[0]+"/approve", approver, url.Values{"comment": {"known customer"}}, nil); s != http.StatusSeeOther {
		t.Fatalf("approve: %d", s)
	}
	if s, _, _ := e.do("POST", "/approvals/"+held[1]+"/reject", approver, url.Values{"comment": {""}}, nil); s != http.StatusUnprocessableEntity {
		t.Errorf("reject without a comment: %d, want 422", s)
	}
	if s, _, _ := e.do("POST", "/approvals/"+held[1]+"/reject", admin, url.Values{"comment": {"over limit"}}, nil); s != http.StatusSeeOther {
		t.Fatalf("reject: %d", s)
	}
	if s, _, _ := e.do("POST", "/approvals/"+held[1]+"/approve", admin, url.Values{"comment": {"again"}}, nil); s != http.StatusConflict {
		t.Errorf("deciding twice: %d, want 409", s)
	}
	drafts := e.svc.DraftIDs()
	if s, loc, body := e.do("POST", "/review/"+drafts[0]+"/accept", desk, url.Values{"lines[0].quantity": {"18"}, "po_number": {"BN-7712"}}, nil); s != http.StatusSeeOther {
		t.Fatalf("accept draft: %d %s\n%s", s, loc, body)
	}
	if s, _, _ := e.do("POST", "/review/"+drafts[1]+"/reject", desk, url.Values{"comment": {"duplicate of the fax"}}, nil); s != http.StatusSeeOther {
		t.Fatalf("reject draft: %d", s)
	}
	if s, _, _ := e.do("POST", "/admin/users", admin, url.Values{"name": {"erik"}, "role": {"desk"}, "password": {testPassword}, "password2": {testPassword}}, nil); s != http.StatusSeeOther {
		t.Fatalf("create user: %d", s)
	}
	if s, _, _ := e.do("POST", "/admin/users/erik/disabled", admin, url.Values{"disabled": {"true"}}, nil); s != http.StatusSeeOther {
		t.Fatalf("disable user: %d", s)
	}
	if s, _, _ := e.do("POST", "/logout", desk, url.Values{}, nil); s != http.StatusSeeOther {
		t.Fatalf("logout: %d", s)
	}

	got := e.auditActions(t)
	for _, want := range []string{
		"dora login.success dora", "dora desk.submit ", "bert order.approve " + held[0], "alice order.reject " + held[1],
		"dora draft.accept " + drafts[0], "dora draft.reject " + drafts[1], "alice user.create erik", "alice user.disable erik",
		"dora logout dora",
	} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("audit log lacks %q\n%s", want, strings.Join(got, "\n"))
		}
	}
	// The edit's detail names the corrected fields; the admin's decision
	// is marked as an override.
	acc, _ := e.st.ListAudit(ctx, store.AuditFilter{ActionPrefix: "draft.accept"})
	if len(acc) != 1 || !strings.Contains(string(acc[0].Detail), `"path":"lines[0].quantity"`) || !strings.Contains(string(acc[0].Detail), `"new":"18"`) {
		t.Errorf("draft.accept detail: %+v", acc)
	}
	rej, _ := e.st.ListAudit(ctx, store.AuditFilter{ActionPrefix: "order.reject"})
	if len(rej) != 1 || !strings.Contains(string(rej[0].Detail), `"override":true`) {
		t.Errorf("order.reject by admin detail: %+v", rej)
	}
	if n, err := e.st.VerifyAudit(ctx); err != nil || n != len(got) {
		t.Errorf("VerifyAudit = %d, %v; want %d, nil", n, err, len(got))
	}
	// The accepted draft's order carries the corrections on its timeline.
	od, err := e.svc.GetOrder(ctx, strings.TrimSpace(firstOrderOfDraft(t, acc[0].Detail)))
	if err != nil {
		t.Fatal(err)
	}
	if q := od.Order.Lines[0].Quantity.String(); q != "18" {
		t.Errorf("accepted order line 1 quantity %s, want 18", q)
	}
	if !slices.ContainsFunc(od.Timeline, func(ev web.TimelineEvent) bool {
		return ev.Kind == "reviewed" && strings.Contains(ev.Detail, "lines[0].quantity")
	}) {
		t.Errorf("timeline lacks the review with the correction: %+v", od.Timeline)
	}
}

func TestAuditPageShowsTampering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.login("alice", testPassword, nil)
	if s, _, body := e.do("GET", "/admin/audit", admin, nil, nil); s != http.StatusOK || !strings.Contains(body, "Hash chain verified") {
		t.Fatalf("audit page: %d", s)
	}
	db := e.st.DB()
	if _, err := db.Exec(`DROP TRIGGER audit_log_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.VerifyAudit(context.Background()); !errors.Is(err, store.ErrAuditTampered) {
		t.Errorf("VerifyAudit: %v, want ErrAuditTampered", err)
	}
	if s, _, body := e.do("GET", "/admin/audit", admin, nil, nil); s != http.StatusOK || !strings.Contains(body, "does not verify") {
		t.Errorf("audit page after tampering: %d, no warning", s)
	}
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.login("dora", testPassword, nil)
	if err := e.st.SetUserDisabled(context.Background(), "dora", true); err != nil {
		t.Fatal(err)
	}
	if s, loc, _ := e.do("GET", "/desk", c, nil, nil); s != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("session of a disabled user: %d %s", s, loc)
	}
	if s, _ := e.login("dora", testPassword, nil); s != http.StatusUnauthorized {
		t.Errorf("login of a disabled user: %d, want 401", s)
	}
}

func TestLoginRedirectStaysLocal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example"} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"name": {"dora"}, "password": {testPassword}, "next": {next}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q: redirected to %q, want /", next, loc)
		}
	}
}

func TestSweepSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.login("dora", testPassword, nil)
	e.login("bert", testPassword, nil)
	e.clock.Advance(20 * time.Minute)
	e.login("alice", testPassword, nil)
	e.clock.Advance(15 * time.Minute) // dora and bert idle for 35 minutes, alice for 15
	n, err := e.ui.SweepSessions(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("SweepSessions = %d, %v; want 2", n, err)
	}
	if c, _ := e.st.CountSessions(context.Background(), "alice"); c != 1 {
		t.Errorf("alice's live session was swept")
	}
}
