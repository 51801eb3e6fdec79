package web_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/web"
	"github.com/ordergate/ordergate/internal/web/webtest"
)

func TestMain(m *testing.M) {
	web.LowerHashCostForTests()
	os.Exit(m.Run())
}

const testPassword = "correct horse battery"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// env is a UI over a real store and the fake service, served by httptest.
type env struct {
	t     *testing.T
	st    *store.Store
	svc   *webtest.Service
	ui    *web.UI
	srv   *httptest.Server
	clock *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "og.db"), ArchiveDir: filepath.Join(dir, "archive"), Now: c.Now})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	for _, u := range []struct{ name, role string }{{"alice", web.RoleAdmin}, {"bert", web.RoleApprover}, {"dora", web.RoleDesk}} {
		h, err := web.HashPassword(testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, u.name, u.role, h); err != nil {
			t.Fatal(err)
		}
	}
	// bert clears the holds of the rules' role approver.
	if err := st.SetUserApprovalRoles(ctx, "bert", []string{"approver"}); err != nil {
		t.Fatal(err)
	}
	svc := webtest.New(c.Now)
	ui, err := web.New(web.Options{Service: svc, Users: st, Logger: slog.New(slog.DiscardHandler), Now: c.Now,
		SessionIdle: 30 * time.Minute, SessionMax: 8 * time.Hour})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, svc: svc, ui: ui, srv: srv, clock: c}
}

var userOfRole = map[string]string{web.RoleAdmin: "alice", web.RoleApprover: "bert", web.RoleDesk: "dora"}

// session stores a fresh session for the user directly and returns its
// cookie.
func (e *env) session(user string) *http.Cookie {
	e.t.Helper()
	tok := make([]byte, 32)
	rand.Read(tok)
	h := sha256.Sum256(tok)
	now := e.clock.Now()
	if err := e.st.CreateSession(context.Background(), store.SessionInput{IDHash: h[:], UserName: user, CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return &http.Cookie{Name: "ordergate_session", Value: base64.RawURLEncoding.EncodeToString(tok)}
}

// noRedirect is a client that reports redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// do sends a request as a same-origin browser form post (or a GET) with
// the cookie, and returns the status, the Location and the body.
func (e *env) do(method, path string, cookie *http.Cookie, form url.Values, hdr map[string]string) (int, string, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", e.srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// login posts the login form and returns the session cookie set.
func (e *env) login(user, password string, old *http.Cookie) (int, *http.Cookie) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(url.Values{"name": {user}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if old != nil {
		req.AddCookie(old)
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "ordergate_session" && c.Value != "" {
			return resp.StatusCode, c
		}
	}
	return resp.StatusCode, nil
}

// fill replaces the {name} wildcards of a route pattern with values.
func (e *env) fill(path string) string {
	held := e.svc.HeldIDs()
	drafts := e.svc.DraftIDs()
	r := strings.NewReplacer("{id}", "x", "{n}", "1", "{name}", "dora", "{file}", "app.css", "{$}", "")
	if strings.HasPrefix(path, "/approvals/") && len(held) > 0 {
		r = strings.NewReplacer("{id}", held[0])
	}
	if strings.HasPrefix(path, "/review/") && len(drafts) > 0 {
		r = strings.NewReplacer("{id}", drafts[0], "{n}", "1")
	}
	return r.Replace(path)
}

func (e *env) auditActions(t *testing.T) []string {
	t.Helper()
	entries, err := e.st.ListAudit(context.Background(), store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Actor+" "+entries[i].Action+" "+entries[i].Object)
	}
	return out
}

func httptestRequest(method, path string, form url.Values) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func recorder(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// firstOrderOfDraft reads the order id from a draft.accept audit detail.
func firstOrderOfDraft(t *testing.T, detail []byte) string {
	t.Helper()
	var d struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(detail, &d); err != nil || d.OrderID == "" {
		t.Fatalf("draft.accept detail %s has no order id", detail)
	}
	return d.OrderID
}
