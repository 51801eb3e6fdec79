package pipeline_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/webhook"
)

// flakyReceiver is a webhook receiver that fails like a real one: 30% of
// the requests get a 500, 10% hang past the client's timeout, and while
// down every request fails: while down is set, or until the time until
// of clock when clock is set. It records the Idempotency-Key of each
// request per order and dedupes on it.
type flakyReceiver struct {
	mu       sync.Mutex
	rng      *rand.Rand
	down     atomic.Bool
	clock    *scaledClock // with until (under mu): down before until
	until    time.Time
	calm     atomic.Bool               // no random failures (a receiver back from its outage)
	keys     map[string]map[string]int // order id -> idempotency keys seen -> times
	taken    map[string]bool           // idempotency keys taken (2xx)
	requests atomic.Int64
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	key := r.Header.Get("Idempotency-Key")
	id, _, _ := strings.Cut(key, ".r")
	f.mu.Lock()
	if f.keys[id] == nil {
		f.keys[id] = map[string]int{}
	}
	f.keys[id][key]++
	roll := f.rng.Float64()
	downUntil := f.clock != nil && f.clock.Now().Before(f.until)
	f.mu.Unlock()
	switch {
	case f.down.Load() || downUntil:
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	case f.calm.Load():
	case roll < 0.3:
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	case roll < 0.4:
		time.Sleep(300 * time.Millisecond) // past the client's timeout
		return
	}
	f.mu.Lock()
	f.taken[key] = true
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"wms-%s"}`, id)
}

// TestWebhookDeliveryThroughPipeline: orders routed to a flaky webhook
// are all delivered, each always with the same Idempotency-Key, within
// the attempts allowed; while the receiver is down for a long while they
// end as dead letters, and reprocessing them after it is back delivers
// them.
func TestWebhookDeliveryThroughPipeline(t *testing.T) {
	forEachDriver(t, testWebhookDeliveryThroughPipeline)
}

func testWebhookDeliveryThroughPipeline(t *testing.T) {
	recv := &flakyReceiver{rng: rand.New(rand.NewPCG(1, 2)), keys: map[string]map[string]int{}, taken: map[string]bool{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	be, err := webhook.New(webhook.Config{Name: "files", URL: srv.URL, Timeout: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 40 attempts at 10-50 ms: the flaky phase never exhausts them.
	h := newHarness(t, harnessOptions{backend: be, maxAttempts: 40})
	const n = 60
	for i := range n {
		h.src.push(fmt.Sprintf("f%d", i), fixtures.X12850(i+1, fmt.Sprintf("PO-%d", i), 1))
	}
	var ids []string
	for i := range n {
		doc := h.documentIn(fmt.Sprintf("f%d", i), store.DocumentParsed)
		ids = append(ids, h.orderOf(doc.ID, order.StatusDelivered).ID)
	}
	recv.mu.Lock()
	for _, id := range ids {
		keys := recv.keys[id]
		if len(keys) != 1 {
			t.Errorf("order %s was sent with %d idempotency keys %v, want one", id, len(keys), keys)
		}
		for k := range keys {
			if !recv.taken[k] {
				t.Errorf("order %s is delivered but the receiver never took %s", id, k)
			}
		}
	}
	recv.mu.Unlock()
	if got := recv.requests.Load(); got <= n {
		t.Errorf("%d requests for %d orders: the receiver's failures were not retried", got, n)
	}
	for _, id := range ids {
		dels, err := h.st.DeliveriesOfOrder(h.ctx, id)
		if err != nil || len(dels) != 1 || dels[0].Attempts > 40 || !strings.HasPrefix(dels[0].Receipt, "wms-") {
			t.Errorf("deliveries of %s = %+v, %v", id, dels, err)
		}
	}

	// A long outage (10 minutes at 10-50 ms backoff): the attempts run
	// out, the deliveries are dead letters; once it is back, reprocess.
	recv.down.Store(true)
	h2 := newHarness(t, harnessOptions{backend: be, maxAttempts: 4})
	for i := range 5 {
		h2.src.push(fmt.Sprintf("d%d", i), fixtures.X12850(100+i, fmt.Sprintf("PO-D%d", i), 1))
	}
	var dead []string
	for i := range 5 {
		doc := h2.documentIn(fmt.Sprintf("d%d", i), store.DocumentParsed)
		dead = append(dead, h2.orderOf(doc.ID, order.StatusFailed).ID)
	}
	letters, err := h2.st.DeadLetters(h2.ctx, 10)
	if err != nil || len(letters) != 5 {
		t.Fatalf("dead letters = %d, %v; want 5", len(letters), err)
	}
	for _, d := range letters {
		if d.Attempts != 4 || !strings.Contains(d.LastError, "503") {
			t.Errorf("dead letter %+v: want 4 attempts and the 503", d)
		}
	}
	// Back, and steady: the retried deliveries must all get through
	// within their 4 attempts.
	recv.calm.Store(true)
	recv.down.Store(false)
	res := h2.p.Reprocess(h2.ctx, dead, pipeline.ReprocessOptions{Actor: "tester"})
	for _, r := range res {
		if r.Error != "" {
			t.Errorf("reprocess %s: %s", r.ID, r.Error)
		}
	}
	for i := range 5 {
		doc := h2.document(fmt.Sprintf("d%d", i))
		h2.orderOf(doc.ID, order.StatusDelivered)
	}
}
