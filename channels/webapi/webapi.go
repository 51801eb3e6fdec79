package webapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// Route is the pattern the Handler serves, for net/http's ServeMux.
const Route = "POST /api/v1/orders"

// OrdersPath is where orders live; an order's URL is OrdersPath + "/" + id.
const OrdersPath = "/api/v1/orders"

// Scopes a customer API key may carry.
const (
	// ScopeOrdersWrite allows POST /api/v1/orders.
	ScopeOrdersWrite = "orders:write"
	// ScopeOrdersRead allows GET /api/v1/orders and /api/v1/orders/{id}
	// for the key's customer.
	ScopeOrdersRead = "orders:read"
)

// DefaultMaxBodyBytes is the largest request body when Options.MaxBodyBytes
// is zero.
const DefaultMaxBodyBytes int64 = 1 << 20

// MaxIdempotencyKeyLen is the longest Idempotency-Key accepted.
const MaxIdempotencyKeyLen = 255

// ErrInvalidKey is what Keys.Lookup wraps for a key that is malformed,
// unknown or revoked: the caller is not authenticated (401).
var ErrInvalidKey = errors.New("webapi: invalid API key")

// KeyInfo is what a customer API key stands for.
type KeyInfo struct {
	ID         string   // the key's id (not secret; for logs and the timeline)
	CustomerID string   // the customer the key acts for
	Scopes     []string // e.g. ScopeOrdersWrite, ScopeOrdersRead
}

// Allows reports whether the key carries scope.
func (k KeyInfo) Allows(scope string) bool {
	for _, s := range k.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Keys authenticates customer API keys.
type Keys interface {
	// Lookup returns the key presented by a client. A malformed, unknown
	// or revoked key is an error wrapping ErrInvalidKey; any other error
	// means the lookup itself failed (the store is down).
	Lookup(ctx context.Context, presentedKey string) (KeyInfo, error)
}

// KeysFunc adapts a function to Keys.
type KeysFunc func(ctx context.Context, presentedKey string) (KeyInfo, error)

// Lookup calls f.
func (f KeysFunc) Lookup(ctx context.Context, presentedKey string) (KeyInfo, error) {
	return f(ctx, presentedKey)
}

// Submission is one order handed to intake.
type Submission struct {
	// CustomerID is the customer of the key that posted the order.
	CustomerID string
	// KeyID is the id of that key.
	KeyID string
	// IdempotencyKey is the client's Idempotency-Key, or a random one the
	// handler made when the client sent none. Intake stores the document
	// under the source key "web:<CustomerID>:<IdempotencyKey>"
	// (SourceKey), so a repeat finds the first submission.
	IdempotencyKey string
	// OrderID is the id the handler assigned ("ord_" + ULID); it is also
	// the "id" member of Body.
	OrderID string
	// Body is the canonical order JSON: the client's members plus "id",
	// "channel": "web", "source" {"standard": "JSON", "request_id"} and
	// "customer_id" from the key. It is the document intake stores.
	Body []byte
	// SHA256 is the hash of Body.
	SHA256 [32]byte
	// RequestSHA256 is the hash of the client's order in canonical form
	// (members in a fixed order, no insignificant white space, nulls
	// dropped): two requests with the same order give the same hash even
	// though their Bodies differ in OrderID. Intake stores it with the
	// document and returns the first submission's in Receipt.
	RequestSHA256 [32]byte
	// RequestID is the request's id (X-Request-Id when the client sent a
	// usable one), also Body's source.request_id.
	RequestID string
	// Received is when the request was read.
	Received time.Time
}

// SourceKey is the document's source key for intake:
// "web:<customer>:<idempotency key>".
func (s Submission) SourceKey() string {
	return "web:" + s.CustomerID + ":" + s.IdempotencyKey
}

// Receipt is intake's answer once the submission is durably stored.
type Receipt struct {
	OrderID    string
	DocumentID string
	// SHA256 is the hash of the stored body.
	SHA256 [32]byte
	// RequestSHA256 is the stored submission's RequestSHA256.
	RequestSHA256 [32]byte
	// Existing is true when the source key was stored before: OrderID,
	// DocumentID and both hashes are then the FIRST submission's.
	Existing bool
}

// Intake stores submissions. The composition root implements it over the
// pipeline's intake.
type Intake interface {
	// Submit stores the submission durably (document row and bytes in one
	// transaction) and returns only after the commit. It is idempotent by
	// SourceKey: a second Submit with the same key stores nothing and
	// returns the first submission's Receipt with Existing set, also when
	// both run at the same time (the first writer wins).
	Submit(ctx context.Context, s Submission) (Receipt, error)
}

// FieldProblem is one problem of an order, at a JSON pointer of the body.
type FieldProblem struct {
	Pointer string // RFC 6901, e.g. "/lines/0/quantity"; "" for the whole order
	Detail  string
}

// Options configure a Handler.
type Options struct {
	// Name is the channel's name, for logs.
	Name string
	// Keys authenticates the customer API keys. Required.
	Keys Keys
	// Intake stores accepted orders. Required.
	Intake Intake
	// Validate checks the canonical order JSON (Submission.Body) against
	// the contract, the same check every channel's orders pass, and
	// returns its problems (nil when valid). The handler itself only
	// checks the shape (JSON, members, types, decimals, dates). Required.
	Validate func(body []byte) []FieldProblem
	// MaxBodyBytes is the largest request body; DefaultMaxBodyBytes when
	// zero. A larger one is answered 413.
	MaxBodyBytes int64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the channel's log; discarded when nil. Keys are
	// never logged, only their ids.
	Logger *slog.Logger
}

// Handler serves POST /api/v1/orders.
type Handler struct {
	opts Options
	log  *slog.Logger
}

// New returns the handler for Route.
func New(opts Options) (*Handler, error) {
	var missing []string
	if opts.Keys == nil {
		missing = append(missing, "Keys")
	}
	if opts.Intake == nil {
		missing = append(missing, "Intake")
	}
	if opts.Validate == nil {
		missing = append(missing, "Validate")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("webapi: options %s are required", strings.Join(missing, ", "))
	}
	if opts.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("webapi: MaxBodyBytes %d is negative", opts.MaxBodyBytes)
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Name != "" {
		log = log.With("channel", opts.Name)
	}
	return &Handler{opts: opts, log: log}, nil
}

// Accepted is the 202 answer's body.
type Accepted struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Links   struct {
		Self string `json:"self"`
	} `json:"links"`
}

// ServeHTTP takes one order.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	if !checkContentType(w, r) {
		return
	}
	idemKey, ok := idempotencyKey(w, r)
	if !ok {
		return
	}
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	in, problems := decodeOrder(body)
	if len(problems) > 0 {
		writeProblem(w, r, Problem{Type: ProblemInvalidJSON, Status: http.StatusBadRequest, Title: problemTitleMalformed,
			Errors: fieldProblems(problems)})
		return
	}
	canon, err := json.Marshal(&in)
	if err != nil {
		h.internal(w, r, fmt.Errorf("encoding the request's order: %w", err))
		return
	}
	now := h.opts.Now()
	sub := Submission{
		CustomerID:     key.CustomerID,
		KeyID:          key.ID,
		IdempotencyKey: idemKey,
		OrderID:        "ord_" + ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String(),
		RequestSHA256:  sha256.Sum256(canon),
		RequestID:      requestID(r, now),
		Received:       now,
	}
	if sub.IdempotencyKey == "" {
		sub.IdempotencyKey = "auto-" + ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String()
	}
	sub.Body, err = json.Marshal(canonicalOrder{
		ID:         sub.OrderID,
		Channel:    "web",
		Source:     source{Standard: "JSON", RequestID: sub.RequestID},
		orderInput: in,
		CustomerID: key.CustomerID,
	})
	if err != nil {
		h.internal(w, r, fmt.Errorf("encoding the order: %w", err))
		return
	}
	sub.SHA256 = sha256.Sum256(sub.Body)
	if problems := h.opts.Validate(sub.Body); len(problems) > 0 {
		writeProblem(w, r, Problem{Type: ProblemInvalidOrder, Status: http.StatusUnprocessableEntity, Title: problemTitleInvalid,
			Errors: fieldProblems(problems)})
		return
	}
	rec, err := h.opts.Intake.Submit(ctx, sub)
	if err != nil {
		if ctx.Err() != nil {
			return // the client went away; whether it was stored, a retry with the key tells
		}
		h.log.ErrorContext(ctx, "storing a web order failed", "customer_id", key.CustomerID, "key_id", key.ID, "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, Problem{Type: ProblemIntakeDown, Status: http.StatusServiceUnavailable,
			Detail: "the order could not be stored; send it again with the same Idempotency-Key"})
		return
	}
	if rec.Existing && rec.RequestSHA256 != sub.RequestSHA256 {
		h.log.InfoContext(ctx, "idempotency key reused with another order", "customer_id", key.CustomerID,
			"key_id", key.ID, "order_id", rec.OrderID)
		writeProblem(w, r, Problem{Type: ProblemIdempotency, Status: http.StatusConflict,
			Detail: "this Idempotency-Key was used for a different order; use a new key for a new order",
			Errors: []ProblemField{{Parameter: "Idempotency-Key", Detail: "already used with a different body"}}})
		return
	}
	h.log.InfoContext(ctx, "web order received", "customer_id", key.CustomerID, "key_id", key.ID,
		"order_id", rec.OrderID, "document_id", rec.DocumentID, "replay", rec.Existing)
	var out Accepted
	out.OrderID, out.Status, out.Links.Self = rec.OrderID, "received", OrdersPath+"/"+rec.OrderID
	w.Header().Set("Location", out.Links.Self)
	if rec.Existing {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, out)
}

// canonicalOrder is the order as intake stores it.
type canonicalOrder struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Source  source `json:"source"`
	orderInput
	CustomerID string `json:"customer_id"`
}

type source struct {
	Standard  string `json:"standard"`
	RequestID string `json:"request_id,omitempty"`
}

// authenticate finds the customer key of the request and checks that it
// may post orders.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (KeyInfo, bool) {
	tok, ok := BearerToken(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ordergate"`)
		writeProblem(w, r, Problem{Type: ProblemUnauthorized, Status: http.StatusUnauthorized,
			Detail: "a customer API key is required: Authorization: Bearer <key>"})
		return KeyInfo{}, false
	}
	key, err := h.opts.Keys.Lookup(r.Context(), tok)
	switch {
	case errors.Is(err, ErrInvalidKey):
		w.Header().Set("WWW-Authenticate", `Bearer realm="ordergate", error="invalid_token"`)
		writeProblem(w, r, Problem{Type: ProblemUnauthorized, Status: http.StatusUnauthorized,
			Detail: "the API key is not valid (unknown or revoked)"})
		return KeyInfo{}, false
	case err != nil:
		if r.Context().Err() == nil {
			h.log.ErrorContext(r.Context(), "looking up an API key failed", "err", err)
			w.Header().Set("Retry-After", "5")
			writeProblem(w, r, Problem{Type: ProblemIntakeDown, Status: http.StatusServiceUnavailable,
				Detail: "the API key could not be checked; try again"})
		}
		return KeyInfo{}, false
	}
	if !key.Allows(ScopeOrdersWrite) {
		writeProblem(w, r, Problem{Type: ProblemForbidden, Status: http.StatusForbidden,
			Detail: "the API key lacks the scope " + ScopeOrdersWrite})
		return KeyInfo{}, false
	}
	return key, true
}

// BearerToken returns the token of an "Authorization: Bearer" header.
func BearerToken(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func checkContentType(w http.ResponseWriter, r *http.Request) bool {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return true
		}
	}
	w.Header().Set("Accept-Post", "application/json")
	writeProblem(w, r, Problem{Type: ProblemMediaType, Status: http.StatusUnsupportedMediaType,
		Detail: "the body must be application/json (UTF-8)"})
	return false
}

// idempotencyKey reads the Idempotency-Key header: 1 to
// MaxIdempotencyKeyLen visible ASCII characters, optionally in double
// quotes (the IETF draft's structured-field string form). An absent
// header gives "".
func idempotencyKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	vs := r.Header.Values("Idempotency-Key")
	if len(vs) == 0 {
		return "", true
	}
	bad := func(detail string) (string, bool) {
		writeProblem(w, r, Problem{Type: ProblemInvalidHeader, Status: http.StatusBadRequest, Title: "invalid Idempotency-Key",
			Errors: []ProblemField{{Parameter: "Idempotency-Key", Detail: detail}}})
		return "", false
	}
	if len(vs) > 1 {
		return bad("sent more than once")
	}
	k := strings.TrimSpace(vs[0])
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return bad(fmt.Sprintf("must be 1 to %d characters", MaxIdempotencyKeyLen))
	}
	if !visibleASCII(k) {
		return bad("may hold only visible ASCII characters other than '\"' and '\\'")
	}
	return k, true
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// requestID is the client's X-Request-Id when usable, else a new ULID.
func requestID(r *http.Request, now time.Time) string {
	if v := r.Header.Get("X-Request-Id"); v != "" && len(v) <= 128 && visibleASCII(v) {
		return v
	}
	return "req_" + ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String()
}

// readBody reads the whole body up to the limit.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	limit := h.opts.MaxBodyBytes
	tooLarge := func() ([]byte, bool) {
		w.Header().Set("Connection", "close")
		writeProblem(w, r, Problem{Type: ProblemTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: "the body is larger than " + strconv.FormatInt(limit, 10) + " bytes"})
		return nil, false
	}
	if r.ContentLength > limit {
		return tooLarge()
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge()
	case err != nil:
		if r.Context().Err() == nil {
			writeProblem(w, r, Problem{Type: ProblemInvalidJSON, Status: http.StatusBadRequest,
				Detail: "reading the body failed: " + err.Error()})
		}
		return nil, false
	case buf.Len() == 0:
		writeProblem(w, r, Problem{Type: ProblemInvalidJSON, Status: http.StatusBadRequest, Title: problemTitleMalformed,
			Detail: "the body is empty; send the order as JSON"})
		return nil, false
	}
	return buf.Bytes(), true
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "web order failed", "err", err)
	writeProblem(w, r, Problem{Type: ProblemInternalError, Status: http.StatusInternalServerError, Detail: "internal error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
