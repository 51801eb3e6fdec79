package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/routingtest"
	"github.com/ordergate/ordergate/routing/webhook"
)

// arrival is one request the receiver took.
type arrival struct {
	key, timestamp, signature, contentType string
	body                                   []byte
}

// receiver is an order intake that deduplicates on Idempotency-Key: the
// first request of a key is stored and answered 201 {"id": ...}, a later
// one 409 with the same id.
type receiver struct {
	mu       sync.Mutex
	ids      map[string]string
	arrivals []arrival // every request that reached the handler
	stored   []arrival // one per key
}

func newReceiver() *receiver { return &receiver{ids: map[string]string{}} }

func (rc *receiver) take(r *http.Request) (arrival, error) {
	body, err := io.ReadAll(r.Body)
	a := arrival{key: r.Header.Get(webhook.HeaderIdempotencyKey), timestamp: r.Header.Get(webhook.HeaderTimestamp),
		signature: r.Header.Get(webhook.HeaderSignature), contentType: r.Header.Get("Content-Type"), body: body}
	rc.mu.Lock()
	rc.arrivals = append(rc.arrivals, a)
	rc.mu.Unlock()
	return a, err
}

// store records a and returns its id and whether it was new.
func (rc *receiver) store(a arrival) (string, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if id, ok := rc.ids[a.key]; ok {
		return id, false
	}
	id := fmt.Sprintf("wh-%d", len(rc.ids)+1)
	rc.ids[a.key] = id
	rc.stored = append(rc.stored, a)
	return id, true
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, err := rc.take(r)
	if err != nil || a.key == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id, isNew := rc.store(a)
	w.Header().Set("Content-Type", "application/json")
	if isNew {
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusConflict)
	}
	fmt.Fprintf(w, `{"id": %q}`, id)
}

func (rc *receiver) snapshot() (arrivals, stored []arrival) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]arrival(nil), rc.arrivals...), append([]arrival(nil), rc.stored...)
}

func newBackend(t testing.TB, cfg webhook.Config) *webhook.Backend {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "wms"
	}
	b, err := webhook.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func TestConformance(t *testing.T) {
	routingtest.Run(t, func(t *testing.T) routingtest.Destination {
		rc := newReceiver()
		srv := httptest.NewServer(rc)
		t.Cleanup(srv.Close)
		return routingtest.Destination{
			Open: func(t *testing.T) routing.Backend {
				b, err := webhook.New(webhook.Config{Name: "wms", URL: srv.URL, Secret: []byte("s3cret")}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			Artifacts: func(t *testing.T) []routingtest.Artifact {
				_, stored := rc.snapshot()
				var arts []routingtest.Artifact
				for _, a := range stored {
					arts = append(arts, routingtest.Artifact{Key: a.key, Body: a.body})
				}
				return arts
			},
			Dedupes: true, // the receiver deduplicates on Idempotency-Key
		}
	})
}

// TestSignatureVerifiable checks the signature as a receiver would, with
// its own HMAC over timestamp "." body, and with Verify.
func TestSignatureVerifiable(t *testing.T) {
	secret := []byte("wms-hmac-secret")
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	now := time.Unix(1795000000, 0)
	b := newBackend(t, webhook.Config{URL: srv.URL, Secret: secret, Clock: func() time.Time { return now }})
	d := routingtest.Delivery(t, 1, 1)
	if _, err := b.Deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	arrivals, _ := rc.snapshot()
	a := arrivals[0]
	if a.timestamp != "1795000000" {
		t.Errorf("timestamp = %q, want 1795000000", a.timestamp)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(a.timestamp + "." + string(a.body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); a.signature != want {
		t.Errorf("signature = %q, want %q", a.signature, want)
	}
	if err := webhook.Verify(secret, a.timestamp, a.signature, a.body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	bad := []struct {
		name      string
		secret    []byte
		body      []byte
		timestamp string
		now       time.Time
	}{
		{"wrong secret", []byte("other"), a.body, a.timestamp, now},
		{"changed body", secret, append(bytes.Clone(a.body), ' '), a.timestamp, now},
		{"changed timestamp", secret, a.body, "1795000001", now},
		{"too old", secret, a.body, a.timestamp, now.Add(10 * time.Minute)},
		{"not a timestamp", secret, a.body, "yesterday", now},
	}
	for _, tt := range bad {
		if err := webhook.Verify(tt.secret, tt.timestamp, a.signature, tt.body, tt.now, 5*time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
			t.Errorf("%s: Verify = %v, want ErrBadSignature", tt.name, err)
		}
	}
	if a.contentType != "application/json" || !bytes.Equal(a.body, d.Payload.Body) {
		t.Errorf("arrived %q %q, want the payload as application/json", a.contentType, a.body)
	}
}

func TestNoSignatureWithoutSecret(t *testing.T) {
	rc := newReceiver()
	srv := httptest.NewServer(rc)
	defer srv.Close()
	b := newBackend(t, webhook.Config{URL: srv.URL})
	if _, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1)); err != nil {
		t.Fatal(err)
	}
	arrivals, _ := rc.snapshot()
	if arrivals[0].signature != "" || arrivals[0].timestamp == "" {
		t.Errorf("signature %q timestamp %q, want no signature and a timestamp", arrivals[0].signature, arrivals[0].timestamp)
	}
}

// TestSameKeyAcrossAttempts: a receiver failing twice sees the same key
// and body on every attempt.
func TestSameKeyAcrossAttempts(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get(webhook.HeaderIdempotencyKey))
		bodies = append(bodies, body)
		n := len(keys)
		mu.Unlock()
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	b := newBackend(t, webhook.Config{URL: srv.URL})
	d := routingtest.Delivery(t, 3, 2)
	var err error
	for d.Attempt = 1; d.Attempt <= 5; d.Attempt++ {
		if _, err = b.Deliver(context.Background(), d); err == nil {
			break
		}
	}
	if err != nil || len(keys) != 3 {
		t.Fatalf("after %d requests: %v", len(keys), err)
	}
	for i := range keys {
		if keys[i] != d.Key || !bytes.Equal(bodies[i], d.Payload.Body) {
			t.Errorf("attempt %d: key %q, body %d bytes; want %q and the same body", i+1, keys[i], len(bodies[i]), d.Key)
		}
	}
	if d.Key != "ord_test_0003.r2" {
		t.Errorf("key %q is not order id + revision", d.Key)
	}
}

func TestStatusClasses(t *testing.T) {
	tests := []struct {
		status     int
		header     map[string]string
		body       string
		wantOK     bool
		duplicate  bool
		permanent  bool
		retryAfter time.Duration
	}{
		{status: 200, wantOK: true},
		{status: 201, body: `{"id": "WMS-1"}`, wantOK: true},
		{status: 202, wantOK: true},
		{status: 204, wantOK: true},
		{status: 409, wantOK: true, duplicate: true},
		{status: 400, body: "missing field", permanent: true},
		{status: 401, permanent: true},
		{status: 403, permanent: true},
		{status: 404, permanent: true},
		{status: 410, permanent: true},
		{status: 413, permanent: true},
		{status: 415, permanent: true},
		{status: 422, permanent: true},
		{status: 301, header: map[string]string{"Location": "/elsewhere"}, permanent: true},
		{status: 307, header: map[string]string{"Location": "/elsewhere"}, permanent: true},
		{status: 408},
		{status: 429, header: map[string]string{"Retry-After": "7"}, retryAfter: 7 * time.Second},
		{status: 429},
		{status: 500},
		{status: 502},
		{status: 503, header: map[string]string{"Retry-After": "120"}, retryAfter: 2 * time.Minute},
		{status: 504},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			var redirected bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					redirected = true
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			b := newBackend(t, webhook.Config{URL: srv.URL})
			d := routingtest.Delivery(t, 1, 1)
			r, err := b.Deliver(context.Background(), d)
			if redirected {
				t.Error("the redirect was followed")
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Deliver = %v, want success", err)
				}
				if r.Duplicate != tt.duplicate || r.ExternalRef == "" || r.At.IsZero() {
					t.Errorf("receipt %+v, want Duplicate %v with a reference and a time", r, tt.duplicate)
				}
				return
			}
			if err == nil {
				t.Fatalf("Deliver succeeded on %d", tt.status)
			}
			if got := errors.Is(err, routing.ErrPermanent); got != tt.permanent {
				t.Errorf("Deliver = %v: permanent %v, want %v", err, got, tt.permanent)
			}
			var he *webhook.HTTPError
			if !errors.As(err, &he) || he.StatusCode != tt.status {
				t.Fatalf("Deliver = %v, want an *HTTPError with status %d", err, tt.status)
			}
			if he.RetryAfter() != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", he.RetryAfter(), tt.retryAfter)
			}
			if got, ok := routing.RetryAfter(err); ok != (tt.retryAfter > 0) || got != tt.retryAfter {
				t.Errorf("routing.RetryAfter = %v %v, want %v", got, ok, tt.retryAfter)
			}
			if tt.body != "" && !strings.Contains(err.Error(), tt.body) {
				t.Errorf("error %q does not show the answer %q", err, tt.body)
			}
		})
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	b := newBackend(t, webhook.Config{URL: srv.URL, Clock: func() time.Time { return now }})
	_, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
	if got, ok := routing.RetryAfter(err); !ok || got != 90*time.Second {
		t.Errorf("RetryAfter = %v %v (%v), want 1m30s", got, ok, err)
	}
}

func TestExternalRef(t *testing.T) {
	tests := []struct {
		name       string
		cfg        webhook.Config
		header     map[string]string
		body, want string
	}{
		{"json id", webhook.Config{}, nil, `{"id": "WMS-77", "status": "ok"}`, "WMS-77"},
		{"json numeric id", webhook.Config{}, nil, `{"id": 1234567890123}`, "1234567890123"},
		{"configured field", webhook.Config{RefField: "order_ref"}, nil, `{"id": "x", "order_ref": "SO-9"}`, "SO-9"},
		{"header wins", webhook.Config{RefHeader: "X-Order-Ref"}, map[string]string{"X-Order-Ref": "H-1"}, `{"id": "J-1"}`, "H-1"},
		{"header missing: json", webhook.Config{RefHeader: "X-Order-Ref"}, nil, `{"id": "J-1"}`, "J-1"},
		{"no reference: the key", webhook.Config{}, nil, `accepted`, "ord_test_0001.r1"},
		{"json without the field: the key", webhook.Config{}, nil, `{"ok": true}`, "ord_test_0001.r1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			tt.cfg.URL = srv.URL
			r, err := newBackend(t, tt.cfg).Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
			if err != nil || r.ExternalRef != tt.want {
				t.Errorf("Deliver = %q, %v; want reference %q", r.ExternalRef, err, tt.want)
			}
		})
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	b := newBackend(t, webhook.Config{URL: srv.URL, Timeout: 50 * time.Millisecond})
	_, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
	if err == nil || errors.Is(err, routing.ErrPermanent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Deliver to a hanging receiver = %v, want a transient deadline error", err)
	}
	// The caller's cancellation is reported as such.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	b2 := newBackend(t, webhook.Config{URL: srv.URL, Timeout: time.Minute})
	if _, err := b2.Deliver(ctx, routingtest.Delivery(t, 2, 1)); !errors.Is(err, context.Canceled) || errors.Is(err, routing.ErrPermanent) {
		t.Errorf("Deliver cancelled midway = %v, want context.Canceled, retryable", err)
	}
}

func TestConnectionErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	b := newBackend(t, webhook.Config{URL: url})
	_, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
	if err == nil || errors.Is(err, routing.ErrPermanent) {
		t.Errorf("Deliver to a closed port = %v, want a transient error", err)
	}
}

func TestTLS(t *testing.T) {
	rc := newReceiver()
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	t.Run("untrusted certificate refused", func(t *testing.T) {
		b := newBackend(t, webhook.Config{URL: srv.URL})
		_, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Deliver to a self-signed server = %v, want a certificate error", err)
		}
		if arrivals, _ := rc.snapshot(); len(arrivals) != 0 {
			t.Errorf("%d requests reached the untrusted server", len(arrivals))
		}
	})
	t.Run("private CA file trusted", func(t *testing.T) {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		b := newBackend(t, webhook.Config{URL: srv.URL, CAFile: ca})
		if _, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1)); err != nil {
			t.Errorf("Deliver with the CA file: %v", err)
		}
	})
	t.Run("CA file without certificates", func(t *testing.T) {
		ca := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(ca, []byte("not a certificate"), 0o600)
		if _, err := webhook.New(webhook.Config{Name: "x", URL: srv.URL, CAFile: ca}, nil); err == nil {
			t.Error("New accepted a CA file without certificates")
		}
	})
}

// TestFlakyReceiver delivers 60 orders through a receiver that answers
// 30% of requests with 500 and lets 10% time out (half of those after
// storing the order, as when an answer is lost), with a retry loop as
// the pipeline runs it: every order arrives, every request of an order
// carries the same key and body, none is stored twice.
func TestFlakyReceiver(t *testing.T) {
	rc := newReceiver()
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		p := rng.Float64()
		mu.Unlock()
		switch {
		case p < 0.30:
			rc.take(r)
			http.Error(w, "flaky", http.StatusInternalServerError)
		case p < 0.35: // hang before taking the order
			rc.take(r)
			<-r.Context().Done()
		case p < 0.40: // take the order, then lose the answer
			a, _ := rc.take(r)
			rc.store(a)
			<-r.Context().Done()
		default:
			rc.ServeHTTP(w, r)
		}
	}))
	defer srv.Close()
	b := newBackend(t, webhook.Config{URL: srv.URL, Timeout: 100 * time.Millisecond, Secret: []byte("k")})
	const n = 60
	sent := map[string][]byte{}
	duplicates := 0
	for i := range n {
		d := routingtest.Delivery(t, i, 1)
		sent[d.Key] = d.Payload.Body
		for d.Attempt = 1; ; d.Attempt++ {
			r, err := b.Deliver(context.Background(), d)
			if err == nil {
				if r.Duplicate {
					duplicates++
				}
				break
			}
			if errors.Is(err, routing.ErrPermanent) {
				t.Fatalf("%s: permanent error from a flaky receiver: %v", d.Key, err)
			}
			if d.Attempt == 30 {
				t.Fatalf("%s: not delivered in 30 attempts: %v", d.Key, err)
			}
		}
	}
	arrivals, stored := rc.snapshot()
	if len(stored) != n {
		t.Errorf("%d orders stored, want %d", len(stored), n)
	}
	for _, a := range arrivals {
		want, ok := sent[a.key]
		if !ok || !bytes.Equal(a.body, want) {
			t.Errorf("a request with key %q and a body of %d bytes was not sent", a.key, len(a.body))
		}
		if err := webhook.Verify([]byte("k"), a.timestamp, a.signature, a.body, time.Now(), time.Minute); err != nil {
			t.Errorf("%s: %v", a.key, err)
		}
	}
	if len(arrivals) < n*4/3 {
		t.Errorf("%d requests for %d orders: the receiver was not flaky", len(arrivals), n)
	}
	t.Logf("%d requests, %d answers lost and reported as duplicates", len(arrivals), duplicates)
}

func TestDoesNotLogSecretsOrBodies(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail {
			fail = false
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	b, err := webhook.New(webhook.Config{Name: "wms", URL: srv.URL + "/orders?token=querytoken", Secret: []byte("topsecret-hmac")}, log)
	if err != nil {
		t.Fatal(err)
	}
	d := routingtest.Delivery(t, 1, 1)
	b.Deliver(context.Background(), d)
	b.Deliver(context.Background(), d)
	b.Close(context.Background())
	srv.Close()
	b2, _ := webhook.New(webhook.Config{Name: "wms", URL: srv.URL + "/orders?token=querytoken", Secret: []byte("topsecret-hmac")}, log)
	_, err = b2.Deliver(context.Background(), d) // connection refused: the error names the URL
	if err == nil || strings.Contains(err.Error(), "querytoken") {
		t.Errorf("connection error %v, want one without the URL's query", err)
	}
	out := buf.String()
	if !strings.Contains(out, "delivered") || !strings.Contains(out, "order_id=ord_test_0001") {
		t.Errorf("log lacks the delivery:\n%s", out)
	}
	for _, secret := range []string{"topsecret-hmac", "querytoken", "4500000001", "SCR-100", "sha256="} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  webhook.Config
		want []string
	}{
		{webhook.Config{Name: "a", URL: "https://wms.example.com/orders"}, nil},
		{webhook.Config{Name: "a", URL: "http://127.0.0.1:8080/orders"}, nil},
		{webhook.Config{Name: "a", URL: "http://localhost/orders"}, nil},
		{webhook.Config{Name: "a", URL: "http://[::1]:9000/"}, nil},
		{webhook.Config{}, []string{"name is required", "url is required"}},
		{webhook.Config{Name: "a", URL: "http://wms.example.com/orders"}, []string{"plain http is allowed for loopback hosts only"}},
		{webhook.Config{Name: "a", URL: "ftp://wms.example.com/"}, []string{`scheme "ftp" is not https`}},
		{webhook.Config{Name: "a", URL: "https:///orders"}, []string{"has no host"}},
		{webhook.Config{Name: "a", URL: "https://user:pw@wms.example.com/"}, []string{"must not carry credentials"}},
		{webhook.Config{Name: "a", URL: "https://wms.example.com/", Timeout: -1, MaxResponseBytes: -1}, []string{"timeout -1ns is negative", "max response bytes -1 is negative"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == nil) {
			t.Errorf("Validate(%+v) = %v, want errors %q", tt.cfg, err, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Validate = %q, want it to contain %q", err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("Validate shows the URL's password: %v", err)
		}
	}
	if _, err := webhook.New(webhook.Config{Name: "a", URL: "https://x.example/", CAFile: "/nonexistent/ca.pem"}, nil); err == nil {
		t.Error("New accepted a missing CA file")
	}
}

func TestResponseBodyBounded(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, big)
	}))
	defer srv.Close()
	b := newBackend(t, webhook.Config{URL: srv.URL, MaxResponseBytes: 1024})
	_, err := b.Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
	var he *webhook.HTTPError
	if !errors.As(err, &he) || len(he.Body) > 210 {
		t.Errorf("Deliver = %v, want an *HTTPError with a short body", err)
	}
	// A big JSON answer beyond the bound gives no reference but delivers.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"pad": %q, "id": "late"}`, big)
	}))
	defer srv2.Close()
	r, err := newBackend(t, webhook.Config{URL: srv2.URL, MaxResponseBytes: 1024}).Deliver(context.Background(), routingtest.Delivery(t, 1, 1))
	if err != nil || r.ExternalRef != "ord_test_0001.r1" {
		t.Errorf("Deliver = %+v, %v; want success with the key as reference (the id is past the bound)", r, err)
	}
}
