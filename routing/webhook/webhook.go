package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ordergate/ordergate/routing"
)

var _ routing.Backend = (*Backend)(nil)

// The headers of a delivery.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Ordergate-Timestamp"
	HeaderSignature      = "X-Ordergate-Signature"
	HeaderAttempt        = "X-Ordergate-Attempt"
)

// Defaults of Config.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultRefField         = "id"
	DefaultMaxResponseBytes = 64 << 10
)

// Config configures a Backend.
type Config struct {
	// Name is the backend's name. Required.
	Name string
	// URL is where deliveries are POSTed: https, or http to a loopback
	// host. Required.
	URL string
	// Secret signs every request (X-Ordergate-Signature) when not empty.
	// It is the resolved value, never logged.
	Secret []byte
	// Timeout bounds each request, from connecting to reading the
	// answer; default 30 s.
	Timeout time.Duration
	// CAFile is a PEM file of CA certificates trusted besides the system
	// roots, for a private CA. Optional.
	CAFile string
	// RefHeader is the response header holding the receiver's reference
	// of the order. Optional; it wins over RefField.
	RefHeader string
	// RefField is the top-level field of a JSON answer holding the
	// reference; default "id".
	RefField string
	// MaxResponseBytes bounds how much of an answer is read; default
	// 64 KiB.
	MaxResponseBytes int64
	// Clock returns the current time for timestamps and receipts;
	// default time.Now.
	Clock func() time.Time
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("webhook: name is required"))
	}
	if c.URL == "" {
		errs = append(errs, fmt.Errorf("webhook %s: url is required", c.Name))
	} else if u, err := url.Parse(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("webhook %s: url: %w", c.Name, err))
	} else {
		switch {
		case u.Host == "":
			errs = append(errs, fmt.Errorf("webhook %s: url %s has no host", c.Name, redact(u)))
		case u.User != nil:
			errs = append(errs, fmt.Errorf("webhook %s: url must not carry credentials", c.Name))
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		case u.Scheme == "http":
			errs = append(errs, fmt.Errorf("webhook %s: url %s: plain http is allowed for loopback hosts only; use https", c.Name, redact(u)))
		default:
			errs = append(errs, fmt.Errorf("webhook %s: url scheme %q is not https", c.Name, u.Scheme))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("webhook %s: timeout %v is negative", c.Name, c.Timeout))
	}
	if c.MaxResponseBytes < 0 {
		errs = append(errs, fmt.Errorf("webhook %s: max response bytes %d is negative", c.Name, c.MaxResponseBytes))
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redact returns the URL without its query, which may carry a token.
func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// Backend POSTs deliveries to a URL.
type Backend struct {
	name      string
	url       string
	logURL    string
	secret    []byte
	timeout   time.Duration
	refHeader string
	refField  string
	maxBody   int64
	clock     func() time.Time
	client    *http.Client
	transport *http.Transport
	log       *slog.Logger
	closed    atomic.Bool
}

// New checks cfg, loads the CA file and returns the backend. log may be
// nil (discard).
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RefField == "" {
		cfg.RefField = DefaultRefField
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: reading the CA file: %w", cfg.Name, err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("webhook %s: CA file %s holds no PEM certificate", cfg.Name, cfg.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	u, _ := url.Parse(cfg.URL) // Validate parsed it
	logURL := redact(u)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	tr.MaxIdleConnsPerHost = 32
	tr.Proxy = http.ProxyFromEnvironment
	return &Backend{
		name: cfg.Name, url: cfg.URL, logURL: logURL, secret: bytes.Clone(cfg.Secret), timeout: cfg.Timeout,
		refHeader: cfg.RefHeader, refField: cfg.RefField, maxBody: cfg.MaxResponseBytes, clock: cfg.Clock,
		transport: tr,
		client: &http.Client{
			Transport: tr,
			// A redirect is not followed: a 301/302 turns a POST into a
			// GET, and the signed body would go to another host.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log: log.With("backend", cfg.Name),
	}, nil
}

// Name returns the configured name.
func (b *Backend) Name() string { return b.name }

// PayloadOnly marks the backend a routing.PayloadBackend: it sends the
// payload and the delivery's ids, not the order's fields.
func (b *Backend) PayloadOnly() {}

// Close closes idle connections and marks the backend closed. It is
// idempotent.
func (b *Backend) Close(context.Context) error {
	if !b.closed.Swap(true) {
		b.transport.CloseIdleConnections()
	}
	return nil
}

// HTTPError is an answer other than 2xx and 409.
type HTTPError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Wait is the delay the receiver asked for with Retry-After (408,
	// 429, 503); 0 when none.
	Wait time.Duration
	// Body is the start of the answer's body, for the timeline.
	Body string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Wait > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.Wait)
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// RetryAfter returns the delay the receiver asked for; routing.RetryAfter
// reads it.
func (e *HTTPError) RetryAfter() time.Duration { return e.Wait }

// Temporary reports whether a later attempt may succeed: 408, 429, 5xx.
func (e *HTTPError) Temporary() bool {
	return e.StatusCode == http.StatusRequestTimeout || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Sign returns the X-Ordergate-Signature value of a body sent at
// timestamp (unix seconds as a decimal string): "sha256=" and the hex
// HMAC-SHA256 of timestamp + "." + body under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is Verify's answer to a request that is not signed with
// the secret, or signed too long ago.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Verify checks a received request's signature for a receiver: the
// signature must be Sign(secret, timestamp, body), compared in constant
// time, and the timestamp within tolerance of now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not unix seconds", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp is %v away from now", ErrBadSignature, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}

// Deliver POSTs d and reads the answer.
func (b *Backend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	if b.closed.Load() {
		return routing.Receipt{}, fmt.Errorf("webhook %s: delivering %s: %w", b.name, d.Key, routing.ErrClosed)
	}
	if err := d.ValidatePayload(); err != nil {
		return routing.Receipt{}, fmt.Errorf("webhook %s: %w", b.name, err)
	}
	if err := ctx.Err(); err != nil {
		return routing.Receipt{}, fmt.Errorf("webhook %s: delivering %s: %w", b.name, d.Key, err)
	}
	log := b.log.With("order_id", d.OrderID, "key", d.Key, "attempt", d.Attempt)
	rctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, b.url, bytes.NewReader(d.Payload.Body))
	if err != nil {
		return routing.Receipt{}, routing.Permanent(fmt.Errorf("webhook %s: building the request: %w", b.name, err))
	}
	ts := strconv.FormatInt(b.clock().Unix(), 10)
	req.Header.Set("Content-Type", d.Payload.ContentType)
	req.Header.Set("User-Agent", "ordergate-webhook/1")
	req.Header.Set(HeaderIdempotencyKey, d.Key)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderAttempt, strconv.Itoa(d.Attempt))
	if len(b.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(b.secret, ts, d.Payload.Body))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = b.logURL // without a query that may carry a token
		}
		if ctx.Err() != nil { // the caller's ctx ended: its error, retryable
			return routing.Receipt{}, fmt.Errorf("webhook %s: delivering %s: %w", b.name, d.Key, ctx.Err())
		}
		if rctx.Err() != nil {
			err = fmt.Errorf("no answer within %v: %w", b.timeout, rctx.Err())
		}
		log.Warn("delivery failed", "err", err)
		return routing.Receipt{}, fmt.Errorf("webhook %s: delivering %s: %w", b.name, d.Key, err)
	}
	body, readErr := b.readBody(resp)
	at := b.clock()
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		if readErr != nil {
			// The receiver said yes; a broken answer body only costs the reference.
			log.Warn("reading the answer failed", "status", code, "err", readErr)
		}
		ref := b.reference(resp, body, d.Key)
		log.Info("delivered", "status", code, "ref", ref)
		return routing.Receipt{ExternalRef: ref, At: at, Detail: fmt.Sprintf("POST %d, reference %s", code, ref)}, nil
	case code == http.StatusConflict:
		ref := b.reference(resp, body, d.Key)
		log.Info("receiver already has this key", "status", code, "ref", ref)
		return routing.Receipt{ExternalRef: ref, At: at, Duplicate: true,
			Detail: fmt.Sprintf("POST 409: already delivered, reference %s", ref)}, nil
	default:
		he := &HTTPError{StatusCode: code, Body: snippet(body)}
		if he.Temporary() {
			he.Wait = retryAfter(resp.Header.Get("Retry-After"), at)
			log.Warn("delivery refused for now", "status", code, "retry_after", he.Wait)
			return routing.Receipt{}, fmt.Errorf("webhook %s: delivering %s: %w", b.name, d.Key, he)
		}
		log.Error("delivery refused", "status", code)
		return routing.Receipt{}, routing.Permanent(fmt.Errorf("webhook %s: delivering %s: %w", b.name, d.Key, he))
	}
}

// readBody reads at most maxBody bytes of the answer, then drains a
// little more so that the connection can be reused, and closes it.
func (b *Backend) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, b.maxBody))
	if err == nil {
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	}
	return body, err
}

// reference is the receiver's reference of the order: the configured
// header, else the JSON field, else the idempotency key.
func (b *Backend) reference(resp *http.Response, body []byte, key string) string {
	if b.refHeader != "" {
		if v := strings.TrimSpace(resp.Header.Get(b.refHeader)); v != "" {
			return v
		}
	}
	if len(body) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			if raw, ok := m[b.refField]; ok {
				var s string
				if json.Unmarshal(raw, &s) == nil && s != "" {
					return s
				}
				var n json.Number
				if json.Unmarshal(raw, &n) == nil {
					return n.String()
				}
			}
		}
	}
	return key
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// snippet is the start of an answer body for an error message: at most
// 200 bytes, on one line.
func snippet(body []byte) string {
	const n = 200
	s := string(body)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "..."
	}
	return strings.Join(strings.Fields(s), " ")
}
