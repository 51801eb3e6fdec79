package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// webhookConfig routes every order to a signed webhook; the secret comes
// from OG_WMS_SECRET.
const webhookConfig = backendTestHead + `routes:
  - {name: default, to: [wms]}
backends:
  - {name: wms, type: webhook, url: "%s/orders", secret_env: OG_WMS_SECRET, timeout: 5s, initial_backoff: 10ms, max_backoff: 50ms}
`

// signedReceiver checks every request's HMAC signature (computed here,
// not with the webhook package) and Idempotency-Key, answers the first
// request of every third order with a 500, and takes the rest.
type signedReceiver struct {
	secret []byte
	mu     sync.Mutex
	keys   map[string]map[string]int // order id -> keys -> requests
	taken  map[string]bool
	bad    []string
	refuse bool // answer 422 (a permanent failure) to every order
}

func (s *signedReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, sig, key := r.Header.Get("X-Ordergate-Timestamp"), r.Header.Get("X-Ordergate-Signature"), r.Header.Get("Idempotency-Key")
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(ts + "." + string(body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &o)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !hmac.Equal([]byte(sig), []byte(want)):
		s.bad = append(s.bad, fmt.Sprintf("order %s: signature %q, want %q", o.ID, sig, want))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	case o.ID == "" || !strings.HasPrefix(key, o.ID+".r"):
		s.bad = append(s.bad, fmt.Sprintf("order %q: Idempotency-Key %q", o.ID, key))
		http.Error(w, "bad key", http.StatusBadRequest)
		return
	}
	if s.keys[o.ID] == nil {
		s.keys[o.ID] = map[string]int{}
	}
	s.keys[o.ID][key]++
	if s.refuse {
		http.Error(w, "unknown article", http.StatusUnprocessableEntity)
		return
	}
	if len(s.keys)%3 == 0 && s.keys[o.ID][key] == 1 {
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	s.taken[key] = true
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"wms-%s"}`, o.ID)
}

// TestWebhookEndToEnd: `ordergate serve` delivers every order to a
// signed webhook (the secret from an environment variable); the receiver
// verifies each signature and sees one Idempotency-Key per order, also on
// the retries of its 500s; the receipts are the receiver's references,
// and the secret is nowhere in the log. Orders the receiver refuses are
// dead letters with their order ids in the API; after the fix,
// `ordergate reprocess` delivers them.
func TestWebhookEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end through the binary")
	}
	const secret = "e2e-hmac-secret-0f9a8b7c6d5e"
	recv := &signedReceiver{secret: []byte(secret), keys: map[string]map[string]int{}, taken: map[string]bool{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	dir, port := newGatewayDir(t)
	writeFile(t, dir, "config.yaml", fmt.Sprintf(webhookConfig, port, srv.URL))
	g := start(t, dir, port, "OG_WMS_SECRET="+secret)
	const n = 60
	for i := range n {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d delivered orders", n), func() bool {
		return len(g.orders("status=delivered")) == n
	})
	recv.mu.Lock()
	for _, b := range recv.bad {
		t.Error(b)
	}
	retried := 0
	for _, o := range g.orders("") {
		keys := recv.keys[o.ID]
		if len(keys) != 1 {
			t.Errorf("order %s came with keys %v, want one", o.ID, keys)
		}
		for k, c := range keys {
			if !recv.taken[k] {
				t.Errorf("order %s is delivered but %s was never taken", o.ID, k)
			}
			if c > 1 {
				retried++
			}
		}
	}
	recv.mu.Unlock()
	if retried < n/4 {
		t.Errorf("%d orders were retried after a 500, want about a third of %d", retried, n)
	}
	var detail struct {
		Deliveries []struct {
			Receipt string `json:"receipt"`
		} `json:"deliveries"`
	}
	o := g.orders("")[0]
	g.getJSON("/api/v1/orders/"+o.ID, &detail)
	if len(detail.Deliveries) != 1 || detail.Deliveries[0].Receipt != "wms-"+o.ID {
		t.Errorf("deliveries of %s = %+v, want the receiver's reference", o.ID, detail.Deliveries)
	}

	// Refused (422: a dead letter at once), fixed on the receiver's
	// side, then `ordergate reprocess ORDER...` through the binary.
	recv.mu.Lock()
	recv.refuse = true
	recv.mu.Unlock()
	for i := n; i < n+3; i++ {
		name, body := mixedFile(i, 2)
		drop(t, dir, name, body)
	}
	waitFor(t, time.Minute, "3 failed orders", func() bool { return len(g.orders("status=failed")) == 3 })
	var dead struct {
		Deliveries []struct {
			ID        string `json:"id"`
			OrderID   string `json:"order_id"`
			LastError string `json:"last_error"`
		} `json:"deliveries"`
	}
	g.getJSON("/api/v1/dead-letters", &dead)
	if len(dead.Deliveries) != 3 {
		t.Fatalf("dead letters %+v, want 3 with their order ids", dead.Deliveries)
	}
	// The admin sees them on the dead-letters page too.
	addUser(t, dir, "root", "admin")
	admin := g.uiLogin("root")
	page := g.uiGet(admin, "/admin/dead-letters")
	args := []string{"reprocess", "--config", "config.yaml", "--comment", "article added"}
	for _, d := range dead.Deliveries {
		if !strings.Contains(d.LastError, "422") {
			t.Errorf("dead letter of %s: %q, want the 422", d.OrderID, d.LastError)
		}
		if !strings.Contains(page, `href="/orders/`+d.OrderID+`"`) || !strings.Contains(page, `action="/admin/dead-letters/`+d.ID+`/retry"`) {
			t.Errorf("the dead-letters page lacks %s of %s", d.ID, d.OrderID)
		}
		args = append(args, d.OrderID)
	}
	recv.mu.Lock()
	recv.refuse = false
	recv.mu.Unlock()
	// The first is retried from the page, the others by the CLI.
	if got := g.uiPost(admin, "/admin/dead-letters/"+dead.Deliveries[0].ID+"/retry"); got != http.StatusOK {
		t.Fatalf("retry from the page: %d", got)
	}
	args = append(args[:5], args[6:]...)
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ordergate reprocess: %v\n%s", err, out)
	}
	waitFor(t, time.Minute, fmt.Sprintf("%d delivered orders", n+3), func() bool {
		return len(g.orders("status=delivered")) == n+3
	})
	if err := g.stop(30 * time.Second); err != nil {
		t.Errorf("stopping: %v", err)
	}
	if strings.Contains(g.log.String(), secret) {
		t.Error("the webhook secret is in the log")
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
