package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/channels/webapi"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/internal/store/archive"
	"github.com/ordergate/ordergate/normalize/order"
)

// Store is what the API reads. *store.Store implements it.
type Store interface {
	ListOrders(ctx context.Context, f store.OrderFilter, cursor string, limit int) (store.OrderPage, error)
	GetOrder(ctx context.Context, id string) (store.OrderRecord, error)
	Timeline(ctx context.Context, orderID string) ([]store.Event, error)
	DeliveriesOfOrder(ctx context.Context, orderID string) ([]store.Delivery, error)
	GetDocument(ctx context.Context, id string) (store.Document, error)
	DocumentEvents(ctx context.Context, docID string) ([]store.Event, error)
	OrdersOfDocument(ctx context.Context, docID string) ([]store.OrderRecord, error)
	AcksOfDocument(ctx context.Context, docID string) ([]store.Ack, error)
	ListDocuments(ctx context.Context, f store.DocumentFilter, cursor string, limit int) (store.DocumentPage, error)
	ListQuarantine(ctx context.Context, topic string, limit int) ([]store.QuarantineEntry, error)
	DeadLetters(ctx context.Context, limit int) ([]store.Delivery, error)
}

// Raw opens a document's raw bytes by content hash.
type Raw interface {
	Open(h archive.Hash) (io.ReadCloser, error)
}

// Options configure the API.
type Options struct {
	Store Store
	Raw   Raw
	// AdminToken is the bearer token every /api route requires. Empty
	// refuses every /api request.
	AdminToken string
	// Keys authenticates customer API keys (nil: the admin token only). A
	// customer key with webapi.ScopeOrdersRead reads its own customer's
	// orders on the customerRead routes (another customer's order is
	// 404); every other /api route answers it 403.
	Keys webapi.Keys
	// Ops, when set, adds the admin operations: approvals, reprocess,
	// master data import, tasks.
	Ops Ops
	// Approvers, when set, authenticates people (HTTP Basic, a gateway
	// user's name and password) on the approval routes: they decide in
	// their own approval roles. The admin token decides as admin: an
	// override.
	Approvers Approvers
	// Ready reports whether the gateway is ready to take work (store open,
	// pipeline running); nil means always ready.
	Ready func(ctx context.Context) error
	// Role, when set, is this node's part in the cluster, reported by
	// /healthz.
	Role func() NodeRole
	// Metrics serves /metrics; nil serves 404.
	Metrics http.Handler
	Logger  *slog.Logger
}

// Server is the API's http.Handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	log  *slog.Logger
}

// New builds the API with its routes.
func New(opts Options) *Server {
	s := &Server{opts: opts, mux: http.NewServeMux(), log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, rt := range s.routes() {
		h := rt.handler
		if rt.access != public {
			h = s.auth(rt.access, h)
		}
		s.mux.Handle(rt.pattern, h)
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Detail: "no such API route"})
	})
	return s
}

// access says who may call a route.
type access uint8

const (
	public       access = iota + 1
	adminOnly           // the admin token
	customerRead        // the admin token, or a customer key with orders:read, scoped to its customer
	approver            // the admin token, or a gateway user's credentials (HTTP Basic) through Options.Approvers
)

// route is one registration on the mux.
type route struct {
	pattern string
	access  access
	handler http.Handler
}

// routes lists the API's routes, in one place: the OpenAPI document's test
// checks that it describes each of them.
func (s *Server) routes() []route {
	rs := []route{
		{"GET /healthz", public, http.HandlerFunc(s.healthz)},
		{"GET /readyz", public, http.HandlerFunc(s.readyz)},
		{"GET /api/openapi.json", public, http.HandlerFunc(serveOpenAPI)},
		{"GET /api/v1/orders", customerRead, http.HandlerFunc(s.listOrders)},
		{"GET /api/v1/orders/{id}", customerRead, http.HandlerFunc(s.getOrder)},
		{"GET /api/v1/documents", adminOnly, http.HandlerFunc(s.listDocuments)},
		{"GET /api/v1/documents/{id}", adminOnly, http.HandlerFunc(s.getDocument)},
		{"GET /api/v1/documents/{id}/raw", adminOnly, http.HandlerFunc(s.getRaw)},
		{"GET /api/v1/quarantine", adminOnly, http.HandlerFunc(s.listQuarantine)},
		{"GET /api/v1/dead-letters", adminOnly, http.HandlerFunc(s.listDeadLetters)},
	}
	if s.opts.Metrics != nil {
		rs = append(rs, route{"GET /metrics", public, s.opts.Metrics})
	}
	return append(rs, s.opsRoutes()...)
}

// Handle adds a route to the API's mux (the web UI and the order intake
// API register theirs here).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) auth(a access, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, password, basic := r.BasicAuth(); basic && a == approver && s.opts.Approvers != nil {
			p, err := s.opts.Approvers.Authenticate(r.Context(), name, password, remoteAddr(r))
			var throttled *ThrottledError
			switch {
			case err == nil:
				h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), approverCtxKey{}, p)))
			case errors.As(err, &throttled):
				secs := int(throttled.Wait.Seconds()) + 1
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				writeProblem(w, r, Problem{Status: http.StatusTooManyRequests, Detail: fmt.Sprintf("too many failed sign-ins; try again in %d s", secs)})
			case errors.Is(err, ErrBadCredentials):
				w.Header().Set("WWW-Authenticate", `Basic realm="ordergate"`)
				writeProblem(w, r, Problem{Status: http.StatusUnauthorized, Detail: "unknown user, wrong password or disabled user"})
			default:
				s.storeError(w, r, err)
			}
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok = strings.TrimSpace(tok)
		if ok && s.opts.AdminToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AdminToken)) == 1 {
			h.ServeHTTP(w, r)
			return
		}
		if ok && tok != "" && s.opts.Keys != nil {
			key, err := s.opts.Keys.Lookup(r.Context(), tok)
			switch {
			case err == nil && a == customerRead && key.Allows(webapi.ScopeOrdersRead):
				h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), customerCtxKey{}, key.CustomerID)))
				return
			case err == nil:
				writeProblem(w, r, Problem{Status: http.StatusForbidden, Detail: "this API key may not use this route"})
				return
			case !errors.Is(err, webapi.ErrInvalidKey):
				s.storeError(w, r, err)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="ordergate"`)
		writeProblem(w, r, Problem{Status: http.StatusUnauthorized, Detail: "a valid bearer token is required"})
	})
}

type customerCtxKey struct{}

type approverCtxKey struct{}

// ThrottledError: Approvers.Authenticate refused to check the password
// because of earlier failures (per user name or remote address).
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("httpapi: too many failed sign-ins, locked for %s", e.Wait)
}

// remoteAddr is the request's remote host, without the port.
func remoteAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// ErrBadCredentials: Approvers.Authenticate found no enabled user with
// that name and password.
var ErrBadCredentials = errors.New("httpapi: bad credentials")

// Approver is a person the API authenticated for a decision: the user's
// name, the rules' roles they decide in and whether they are an admin
// (who may override).
type Approver struct {
	Name  string
	Roles []string
	Admin bool
}

// Approvers authenticates gateway users (their name and password).
type Approvers interface {
	Authenticate(ctx context.Context, name, password, remote string) (Approver, error)
}

// approverOf returns the person a request was authenticated as; false for
// the admin token.
func approverOf(r *http.Request) (Approver, bool) {
	p, ok := r.Context().Value(approverCtxKey{}).(Approver)
	return p, ok
}

// customerOf returns the customer a request is scoped to, when a customer
// key authenticated it.
func customerOf(r *http.Request) (string, bool) {
	c, ok := r.Context().Value(customerCtxKey{}).(string)
	return c, ok
}

// NodeRole is what /healthz tells about the node: its name, the store
// driver and the channels it polls now (under a lease when several nodes
// share a postgres store).
type NodeRole struct {
	Node   string          `json:"node"`
	Driver string          `json:"driver"`
	Polls  []PolledChannel `json:"polls"`
}

// PolledChannel is one channel this node polls.
type PolledChannel struct {
	Channel string    `json:"channel"`
	Token   int64     `json:"lease_token"`
	Since   time.Time `json:"since"`
}

type health struct {
	Status string `json:"status"`
	*NodeRole
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	h := health{Status: "ok"}
	if s.opts.Role != nil {
		role := s.opts.Role()
		if role.Polls == nil {
			role.Polls = []PolledChannel{}
		}
		h.NodeRole = &role
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			writeProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Detail: err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// storeError maps a store error to a problem.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, r, Problem{Status: http.StatusNotFound, Detail: "not found"})
	case errors.Is(err, store.ErrInvalidCursor):
		writeProblem(w, r, Problem{Status: http.StatusBadRequest, Detail: "invalid cursor",
			Errors: []ProblemField{{Parameter: "cursor", Detail: "not a cursor this API returned"}}})
	case errors.Is(err, context.Canceled):
		// The client went away.
	default:
		s.log.ErrorContext(r.Context(), "api read failed", "path", r.URL.Path, "err", err)
		writeProblem(w, r, Problem{Status: http.StatusInternalServerError, Detail: "internal error"})
	}
}

// query reads list parameters, collecting every bad one.
type query struct {
	r   *http.Request
	bad []ProblemField
}

func newQuery(r *http.Request) *query { return &query{r: r} }

func (q *query) str(name string) string { return strings.TrimSpace(q.r.URL.Query().Get(name)) }

func (q *query) date(name string) time.Time {
	v := q.str(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	d, err := order.ParseDate(v)
	if err != nil {
		q.bad = append(q.bad, ProblemField{Parameter: name, Detail: "not a date (YYYY-MM-DD) or RFC 3339 time"})
		return time.Time{}
	}
	return d.Time()
}

func (q *query) limit() int {
	v := q.str("limit")
	if v == "" {
		return 50
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		q.bad = append(q.bad, ProblemField{Parameter: "limit", Detail: "must be a whole number from 1 to 1000"})
		return 0
	}
	return n
}

func (q *query) oneOf(name string, allowed ...string) string {
	v := q.str(name)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	q.bad = append(q.bad, ProblemField{Parameter: name, Detail: "must be one of " + strings.Join(allowed, ", ")})
	return ""
}

func (q *query) problem(w http.ResponseWriter) bool {
	if len(q.bad) == 0 {
		return false
	}
	writeProblem(w, q.r, Problem{Status: http.StatusBadRequest, Title: "invalid query", Errors: q.bad})
	return true
}

// orderSummary is one row of the order list.
type orderSummary struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	Channel    string    `json:"channel"`
	PartnerID  string    `json:"partner_id,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	PONumber   string    `json:"po_number"`
	Purpose    string    `json:"purpose,omitempty"`
	PODate     string    `json:"po_date,omitempty"`
	Currency   string    `json:"currency,omitempty"`
	Total      string    `json:"total,omitempty"`
	DocumentID string    `json:"document_id"`
	Revision   int64     `json:"revision"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func summarize(o store.OrderRecord) orderSummary {
	return orderSummary{ID: o.ID, Status: string(o.Status), Channel: string(o.Channel), PartnerID: o.PartnerID,
		CustomerID: o.CustomerID, PONumber: o.PONumber, Purpose: string(o.Purpose), PODate: o.PODate.String(),
		Currency: o.Currency, Total: o.Total, DocumentID: o.DocumentID, Revision: o.Revision,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

var statuses = []string{"received", "review", "held", "accepted", "rejected", "routed", "delivered", "failed"}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	f := store.OrderFilter{
		Status:     order.Status(q.oneOf("status", statuses...)),
		Channel:    order.Channel(q.oneOf("channel", "edi", "email", "fax", "web", "phone")),
		PartnerID:  q.str("partner"),
		CustomerID: q.str("customer"),
		PONumber:   q.str("po_number"),
		From:       q.date("from"),
		To:         q.date("to"),
		Ascending:  q.str("order") == "asc",
	}
	if c, ok := customerOf(r); ok {
		f.CustomerID = c
	}
	limit := q.limit()
	if q.problem(w) {
		return
	}
	page, err := s.opts.Store.ListOrders(r.Context(), f, q.str("cursor"), limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := struct {
		Orders []orderSummary `json:"orders"`
		Next   string         `json:"next_cursor,omitempty"`
	}{Orders: make([]orderSummary, 0, len(page.Orders)), Next: page.Next}
	for _, o := range page.Orders {
		out.Orders = append(out.Orders, summarize(o))
	}
	writeJSON(w, http.StatusOK, out)
}

// eventView is a timeline entry as the API shows it.
type eventView struct {
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Kind   string          `json:"kind"`
	Reason string          `json:"reason,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

func events(in []store.Event) []eventView {
	out := make([]eventView, 0, len(in))
	for _, e := range in {
		out = append(out, eventView{At: e.At, Actor: e.Actor, Kind: e.Kind, Reason: e.Reason, Data: e.Data})
	}
	return out
}

type deliveryView struct {
	ID        string    `json:"id"`
	OrderID   string    `json:"order_id"`
	Route     string    `json:"route,omitempty"`
	Backend   string    `json:"backend"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	Receipt   string    `json:"receipt,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func deliveries(in []store.Delivery) []deliveryView {
	out := make([]deliveryView, 0, len(in))
	for _, d := range in {
		out = append(out, deliveryView{ID: d.ID, OrderID: d.OrderID, Route: d.Route, Backend: d.Backend, Status: string(d.Status),
			Attempts: d.Attempts, LastError: d.LastError, Receipt: d.Receipt, UpdatedAt: d.UpdatedAt})
	}
	return out
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, err := s.opts.Store.GetOrder(r.Context(), id)
	customer, scoped := customerOf(r)
	if err == nil && scoped && rec.CustomerID != customer {
		err = store.ErrNotFound // another customer's order: existence does not leak
	}
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	tl, err := s.opts.Store.Timeline(r.Context(), id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	var dv *[]deliveryView // omitted for a customer: backends are internal
	if !scoped {
		dl, err := s.opts.Store.DeliveriesOfOrder(r.Context(), id)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		v := deliveries(dl)
		dv = &v
	}
	writeJSON(w, http.StatusOK, struct {
		Order      json.RawMessage `json:"order"`
		Revision   int64           `json:"revision"`
		PartnerID  string          `json:"partner_id,omitempty"`
		DocumentID string          `json:"document_id"`
		Timeline   []eventView     `json:"timeline"`
		Deliveries *[]deliveryView `json:"deliveries,omitempty"`
	}{rec.Canonical, rec.Revision, rec.PartnerID, rec.DocumentID, events(tl), dv})
}

type documentView struct {
	ID          string            `json:"id"`
	Channel     string            `json:"channel"`
	SourceKey   string            `json:"source_key"`
	Filename    string            `json:"filename,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Size        int64             `json:"size"`
	SHA256      string            `json:"sha256"`
	ReceivedAt  time.Time         `json:"received_at"`
	PartnerID   string            `json:"partner_id,omitempty"`
	Standard    string            `json:"standard,omitempty"`
	Status      string            `json:"status"`
	Error       string            `json:"error,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

func viewDocument(d store.Document) documentView {
	return documentView{ID: d.ID, Channel: d.Channel, SourceKey: d.SourceKey, Filename: d.Filename,
		ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256.String(), ReceivedAt: d.ReceivedAt,
		PartnerID: d.PartnerID, Standard: d.Standard, Status: string(d.Status), Error: d.Error, Metadata: d.Metadata}
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	f := store.DocumentFilter{
		Channel:   q.str("channel"),
		Status:    store.DocumentStatus(q.oneOf("status", "received", "parsed", "rejected", "duplicate", "quarantined")),
		PartnerID: q.str("partner"),
		From:      q.date("from"),
		To:        q.date("to"),
		Ascending: q.str("order") == "asc",
	}
	limit := q.limit()
	if q.problem(w) {
		return
	}
	page, err := s.opts.Store.ListDocuments(r.Context(), f, q.str("cursor"), limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := struct {
		Documents []documentView `json:"documents"`
		Next      string         `json:"next_cursor,omitempty"`
	}{Documents: make([]documentView, 0, len(page.Documents)), Next: page.Next}
	for _, d := range page.Documents {
		out.Documents = append(out.Documents, viewDocument(d))
	}
	writeJSON(w, http.StatusOK, out)
}

type ackView struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Destination string     `json:"destination,omitempty"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	d, err := s.opts.Store.GetDocument(ctx, id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	evs, err := s.opts.Store.DocumentEvents(ctx, id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	ords, err := s.opts.Store.OrdersOfDocument(ctx, id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	acks, err := s.opts.Store.AcksOfDocument(ctx, id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	out := struct {
		documentView
		Orders   []orderSummary `json:"orders"`
		Acks     []ackView      `json:"acks"`
		Timeline []eventView    `json:"timeline"`
	}{documentView: viewDocument(d), Orders: []orderSummary{}, Acks: []ackView{}, Timeline: events(evs)}
	for _, o := range ords {
		out.Orders = append(out.Orders, summarize(o))
	}
	for _, a := range acks {
		v := ackView{ID: a.ID, Kind: a.Kind, Destination: a.Destination, Status: string(a.Status),
			Attempts: a.Attempts, LastError: a.LastError}
		if !a.SentAt.IsZero() {
			t := a.SentAt
			v.SentAt = &t
		}
		out.Acks = append(out.Acks, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRaw(w http.ResponseWriter, r *http.Request) {
	d, err := s.opts.Store.GetDocument(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	rc, err := s.opts.Raw.Open(d.SHA256)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	defer rc.Close()
	ct := d.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(d.Size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(d.Filename, d.ID)+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if _, err := io.Copy(w, rc); err != nil {
		s.log.WarnContext(r.Context(), "sending raw document", "document_id", d.ID, "err", err)
	}
}

// safeFilename keeps a download name to harmless characters.
func safeFilename(name, fallback string) string {
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return fallback
	}
	return b.String()
}

func (s *Server) listQuarantine(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	limit := q.limit()
	if q.problem(w) {
		return
	}
	entries, err := s.opts.Store.ListQuarantine(r.Context(), q.str("topic"), limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	type entry struct {
		ID          string            `json:"id"`
		Topic       string            `json:"topic"`
		MessageUUID string            `json:"message_uuid"`
		Payload     json.RawMessage   `json:"payload,omitempty"`
		Metadata    map[string]string `json:"metadata,omitempty"`
		Error       string            `json:"error"`
		At          time.Time         `json:"at"`
	}
	out := struct {
		Entries []entry `json:"entries"`
	}{Entries: []entry{}}
	for _, e := range entries {
		v := entry{ID: e.ID, Topic: e.Topic, MessageUUID: e.MessageUUID, Metadata: e.Metadata, Error: e.Error, At: e.At}
		if json.Valid(e.Payload) {
			v.Payload = e.Payload
		}
		out.Entries = append(out.Entries, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := newQuery(r)
	limit := q.limit()
	if q.problem(w) {
		return
	}
	dl, err := s.opts.Store.DeadLetters(r.Context(), limit)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []deliveryView `json:"deliveries"`
	}{deliveries(dl)})
}
