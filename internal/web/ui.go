package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Users is the store of users, sessions, the audit log and login
// throttling. *store.Store implements it.
type Users interface {
	CreateUser(ctx context.Context, name, role, passwordHash string) (store.User, error)
	GetUser(ctx context.Context, name string) (store.User, error)
	ListUsers(ctx context.Context) ([]store.User, error)
	SetUserPassword(ctx context.Context, name, passwordHash string) error
	SetUserRole(ctx context.Context, name, role string) error
	SetUserDisabled(ctx context.Context, name string, disabled bool) error

	CreateSession(ctx context.Context, in store.SessionInput) error
	GetSession(ctx context.Context, idHash []byte) (store.Session, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error)

	AppendAudit(ctx context.Context, in store.AuditInput) (store.AuditEntry, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	VerifyAudit(ctx context.Context) (int, error)

	GetLoginAttempts(ctx context.Context, key string) (store.LoginAttempts, error)
	RecordLoginFailure(ctx context.Context, key string, at time.Time, resetAfter time.Duration) (store.LoginAttempts, error)
	ClearLoginAttempts(ctx context.Context, key string) error
}

var _ Users = (*store.Store)(nil)

// Defaults of Options.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// Options configure the UI.
type Options struct {
	Service Service
	Users   Users
	Logger  *slog.Logger // slog.DiscardHandler when nil
	// Secure marks the session cookie Secure and names it with the
	// __Host- prefix; set it when the listener serves TLS (or a TLS proxy
	// fronts it).
	Secure bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// SessionIdle ends a session after this long without a request
	// (DefaultSessionIdle when zero); SessionMax ends it this long after
	// login whatever the activity (DefaultSessionMax when zero).
	SessionIdle, SessionMax time.Duration
	// TrustedOrigins are further origins ("https://ordergate.example.com")
	// allowed to POST, for a reverse proxy that rewrites Host.
	TrustedOrigins []string
}

// UI is the operator UI's http.Handler. Mount it at "/".
type UI struct {
	svc    Service
	users  Users
	log    *slog.Logger
	now    func() time.Time
	secure bool
	idle   time.Duration
	max    time.Duration

	mux    *http.ServeMux
	routes []route
	cop    *http.CrossOriginProtection
	pages  map[string]*template.Template
}

// handler is a route's function; s is nil on public routes.
type handler func(w http.ResponseWriter, r *http.Request, s *session)

// route is one entry of the route table, the single source of the mux,
// the policy checks and the security tests.
type route struct {
	method  string
	path    string
	area    area
	handler handler
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// stateChanging reports whether the route's method may change state.
func (rt route) stateChanging() bool {
	return rt.method != http.MethodGet && rt.method != http.MethodHead && rt.method != http.MethodOptions
}

// New builds the UI.
func New(opts Options) (*UI, error) {
	if opts.Service == nil || opts.Users == nil {
		return nil, errors.New("web: Service and Users are required")
	}
	u := &UI{svc: opts.Service, users: opts.Users, log: opts.Logger, now: opts.Now, secure: opts.Secure,
		idle: opts.SessionIdle, max: opts.SessionMax, mux: http.NewServeMux()}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.now == nil {
		u.now = time.Now
	}
	if u.idle <= 0 {
		u.idle = DefaultSessionIdle
	}
	if u.max <= 0 {
		u.max = DefaultSessionMax
	}
	u.cop = http.NewCrossOriginProtection()
	for _, o := range opts.TrustedOrigins {
		if err := u.cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: trusted origin %q: %w", o, err)
		}
	}
	u.cop.SetDenyHandler(http.HandlerFunc(u.crossOriginDenied))
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	u.pages = pages
	u.routes = u.routeTable()
	for _, rt := range u.routes {
		u.mux.Handle(rt.pattern(), u.wrap(rt))
	}
	u.mux.Handle("/", u.wrap(route{method: "", path: "/", area: areaPublic, handler: u.notFound}))
	return u, nil
}

// routeTable lists every route of the UI.
func (u *UI) routeTable() []route {
	return []route{
		{"GET", "/login", areaPublic, u.loginPage},
		{"POST", "/login", areaPublic, u.login},
		{"POST", "/logout", areaSignedIn, u.logout},
		{"GET", "/static/{file}", areaPublic, u.static},

		{"GET", "/{$}", areaSignedIn, u.dashboard},

		{"GET", "/desk", areaDesk, u.deskPage},
		{"POST", "/desk", areaDesk, u.deskPost},
		{"GET", "/desk/customers", areaDesk, u.deskCustomers},
		{"GET", "/desk/products", areaDesk, u.deskProducts},

		{"GET", "/review", areaReview, u.reviewQueue},
		{"GET", "/review/{id}", areaReview, u.reviewDraft},
		{"GET", "/review/{id}/page/{n}", areaReview, u.reviewPageImage},
		{"POST", "/review/{id}/accept", areaReview, u.reviewAccept},
		{"POST", "/review/{id}/reject", areaReview, u.reviewReject},

		{"GET", "/approvals", areaApprovals, u.approvals},
		{"POST", "/approvals/{id}/approve", areaApprovals, u.approve},
		{"POST", "/approvals/{id}/reject", areaApprovals, u.reject},

		{"GET", "/tasks", areaSignedIn, u.tasksPage},
		{"POST", "/tasks/{id}/done", areaSignedIn, u.taskDone},

		{"GET", "/orders", areaOrders, u.ordersList},
		{"GET", "/orders/{id}", areaOrders, u.orderDetail},
		{"GET", "/orders/{id}/raw", areaOrders, u.orderRaw},

		{"GET", "/admin/users", areaAdmin, u.adminUsers},
		{"POST", "/admin/users", areaAdmin, u.adminCreateUser},
		{"POST", "/admin/users/{name}/password", areaAdmin, u.adminSetPassword},
		{"POST", "/admin/users/{name}/role", areaAdmin, u.adminSetRole},
		{"POST", "/admin/users/{name}/disabled", areaAdmin, u.adminSetDisabled},
		{"GET", "/admin/audit", areaAdmin, u.adminAudit},
		{"GET", "/admin/dead-letters", areaAdmin, u.deadLettersPage},
		{"POST", "/admin/dead-letters/retry", areaAdmin, u.retryDeadLetters},
		{"POST", "/admin/dead-letters/{id}/retry", areaAdmin, u.retryDeadLetter},
	}
}

func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.mux.ServeHTTP(w, r) }

// wrap puts the security layers around a route: headers, cross-origin
// protection (state-changing methods), the session and the policy.
func (u *UI) wrap(rt route) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.area == areaPublic {
			rt.handler(w, r, u.optionalSession(w, r))
			return
		}
		s, ok := u.requireSession(w, r)
		if !ok {
			return
		}
		if !allowed(rt.area, s.user.Role) {
			u.log.WarnContext(r.Context(), "web: role not allowed", "user", s.user.Name, "role", s.user.Role,
				"route", rt.pattern())
			u.renderError(w, r, s, http.StatusForbidden, "Your role may not use this page.")
			return
		}
		rt.handler(w, r, s)
	})
	h = u.cop.Handler(h)
	return securityHeaders(h)
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func (u *UI) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	u.log.WarnContext(r.Context(), "web: cross-origin request refused", "method", r.Method, "path", r.URL.Path)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintln(w, "Forbidden: cross-origin request")
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request, s *session) {
	u.renderError(w, r, s, http.StatusNotFound, "No such page.")
}

func (u *UI) static(w http.ResponseWriter, r *http.Request, _ *session) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(staticFiles, "static/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}

// page is the data every template gets.
type page struct {
	Title  string
	User   *userView
	Notice string
	Error  string
	Data   any
}

type userView struct {
	Name string
	Role string
}

// can reports whether the page's user may use an area (for the menu).
func (p page) Can(a string) bool { return p.User != nil && allowed(area(a), p.User.Role) }

func (u *UI) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, p page) {
	t, ok := u.pages[name]
	if !ok {
		u.log.ErrorContext(r.Context(), "web: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if s != nil {
		p.User = &userView{Name: s.user.Name, Role: s.user.Role}
	}
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("notice")]
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		u.log.ErrorContext(r.Context(), "web: rendering", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// notices are the fixed messages a redirect can ask for (?notice=key).
var notices = map[string]string{
	"submitted":   "Order submitted.",
	"approved":    "Order approved.",
	"rejected":    "Order rejected.",
	"accepted":    "Draft accepted; the order continues in the pipeline.",
	"draftreject": "Draft rejected.",
	"loggedout":   "You are signed out.",
	"expired":     "Your session has ended; please sign in again.",
	"usercreated": "User created.",
	"userchanged": "User changed.",
	"taskdone":    "Task done.",
}

func (u *UI) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	u.render(w, r, s, status, "error.html", page{Title: http.StatusText(status), Error: msg})
}

// serviceError answers a Service error with its status.
func (u *UI) serviceError(w http.ResponseWriter, r *http.Request, s *session, doing string, err error) {
	switch {
	case errors.Is(err, ErrNotFound) || errors.Is(err, store.ErrNotFound):
		u.renderError(w, r, s, http.StatusNotFound, "Not found.")
	case errors.Is(err, ErrConflict) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrTransition):
		u.renderError(w, r, s, http.StatusConflict, "This was changed in the meantime: "+doing+" is no longer possible.")
	case errors.Is(err, ErrForbidden):
		u.renderError(w, r, s, http.StatusForbidden, "Your role may not do this.")
	case errors.Is(err, ErrInvalid):
		u.renderError(w, r, s, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, context.Canceled):
	default:
		u.log.ErrorContext(r.Context(), "web: service failed", "doing", doing, "err", err)
		u.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong while "+doing+".")
	}
}

// audit appends to the audit log; a failure is logged (the action has
// happened and must not be reported as failed).
func (u *UI) audit(ctx context.Context, actor, action, object string, detail map[string]any) {
	var raw json.RawMessage
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			u.log.ErrorContext(ctx, "web: encoding audit detail", "action", action, "err", err)
		} else {
			raw = b
		}
	}
	if actor == "" {
		actor = "-"
	}
	if _, err := u.users.AppendAudit(ctx, store.AuditInput{At: u.now(), Actor: actor, Action: action, Object: object, Detail: raw}); err != nil {
		u.log.ErrorContext(ctx, "web: writing audit log", "action", action, "err", err)
	}
}

// redirect answers a POST with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
