package pipeline_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/webhook"
)

// TestBackoffDelay: the wait before attempt n+1 is a draw from [c/2, c],
// c = min(initial * 2^(n-1), max): never above the cap, never shrinking
// while below it, and spread over the whole range (jitter).
func TestBackoffDelay(t *testing.T) {
	const initial, ceiling = time.Second, 30 * time.Second
	for n := 1; n <= 40; n++ {
		c := initial << min(n-1, 20)
		c = min(c, ceiling)
		lo, hi := ceiling, time.Duration(0)
		for range 2000 {
			d := pipeline.BackoffDelay(n, initial, ceiling)
			if d < c/2 || d > c {
				t.Fatalf("BackoffDelay(%d) = %v, want within [%v, %v]", n, d, c/2, c)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		// 2000 uniform draws cover all but a few per cent of the range.
		if lo > c/2+c/20 || hi < c-c/20 {
			t.Errorf("BackoffDelay(%d) drew from [%v, %v], want the jitter to span [%v, %v]", n, lo, hi, c/2, c)
		}
	}
	if d := pipeline.BackoffDelay(3, 10*time.Millisecond, 50*time.Millisecond); d < 20*time.Millisecond || d > 40*time.Millisecond {
		t.Errorf("a small configured backoff: BackoffDelay(3, 10ms, 50ms) = %v, want within [20ms, 40ms] (not raised)", d)
	}
}

// scaledClock runs factor times as fast as the wall clock: the
// pipeline's compressed clock.
type scaledClock struct {
	base   time.Time
	factor int64
}

func (c *scaledClock) Now() time.Time {
	return c.base.Add(time.Duration(int64(time.Since(c.base)) * c.factor))
}

// TestWebhookOutageCompressedClock: the delivery worker runs on a clock
// 100 times as fast as the wall clock, with the backend's backoff 1 s
// to 4 s (the jitter's spread is TestBackoffDelay's). The receiver is
// down for 10 (simulated) minutes, then flaky (30% 500s, 10% timeouts).
// Every order is delivered, always with the same Idempotency-Key; every
// wait before a retry is within the jittered range of its attempt, never
// above the cap, never shorter than the one before while below it, and
// the cap is reached. With the receiver down for good, the deliveries
// are dead letters after their max_attempts; reprocessed once it is
// back, they are delivered.
func TestWebhookOutageCompressedClock(t *testing.T) {
	clock := &scaledClock{base: time.Now(), factor: 100}
	recv := &flakyReceiver{clock: clock, rng: rand.New(rand.NewPCG(3, 4)), until: clock.Now().Add(10 * time.Minute),
		keys: map[string]map[string]int{}, taken: map[string]bool{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	be, err := webhook.New(webhook.Config{Name: "files", URL: srv.URL, Timeout: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The backend's circuit breaker (open 50 ms = 5 simulated s) spares
	// most attempts during the outage (and a loaded machine makes fewer
	// in a simulated minute); a cap of 4 s is still reached.
	const initial, ceiling = time.Second, 4 * time.Second
	h := newHarness(t, harnessOptions{backend: be, maxAttempts: 100, now: clock.Now,
		backoff: "initial_backoff: 1s, max_backoff: 4s"})
	const n = 20
	for i := range n {
		h.src.push(fmt.Sprintf("o%d", i), fixtures.X12850(i+1, fmt.Sprintf("PO-O%d", i), 1))
	}
	var ids []string
	for i := range n {
		doc := h.documentIn(fmt.Sprintf("o%d", i), store.DocumentParsed)
		ids = append(ids, h.orderOf(doc.ID, order.StatusDelivered).ID)
	}
	if now := clock.Now(); now.Before(recv.until) {
		t.Fatalf("delivered before the outage ended (%v left)", recv.until.Sub(now))
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

	capped := 0
	for _, id := range ids {
		waits := retryWaits(t, h, id)
		if len(waits) < 1 {
			t.Errorf("order %s was retried %d times across a 10-minute outage, want more", id, len(waits))
		}
		for k, w := range waits {
			c := min(initial<<min(k, 20), ceiling) // before attempt k+2
			if w > ceiling || w < c/2 || w > c {
				t.Errorf("order %s: wait after attempt %d is %v, want within [%v, %v]", id, k+1, w, c/2, c)
			}
			if k > 0 && c == 2*min(initial<<min(k-1, 20), ceiling) && w < waits[k-1] {
				t.Errorf("order %s: wait after attempt %d (%v) is shorter than the one before (%v)", id, k+1, w, waits[k-1])
			}
			if c == ceiling {
				capped++
			}
		}
	}
	if capped == 0 {
		t.Errorf("no wait reached the cap of %v", ceiling)
	}

	// Down for good: dead letters after 4 attempts.
	recv.mu.Lock()
	recv.until = clock.Now().Add(24 * time.Hour)
	recv.mu.Unlock()
	h2 := newHarness(t, harnessOptions{backend: be, maxAttempts: 4, now: clock.Now, backoff: "initial_backoff: 1s, max_backoff: 30s"})
	var dead []string
	for i := range 3 {
		h2.src.push(fmt.Sprintf("d%d", i), fixtures.X12850(100+i, fmt.Sprintf("PO-D%d", i), 1))
	}
	for i := range 3 {
		doc := h2.documentIn(fmt.Sprintf("d%d", i), store.DocumentParsed)
		dead = append(dead, h2.orderOf(doc.ID, order.StatusFailed).ID)
	}
	letters, err := h2.st.DeadLetters(h2.ctx, 10)
	if err != nil || len(letters) != 3 {
		t.Fatalf("dead letters = %d, %v; want 3", len(letters), err)
	}
	for _, d := range letters {
		if d.Attempts != 4 {
			t.Errorf("dead letter %+v: want 4 attempts", d)
		}
	}
	recv.mu.Lock()
	recv.until = time.Time{}
	recv.mu.Unlock()
	recv.calm.Store(true)
	for _, r := range h2.p.Reprocess(h2.ctx, dead, pipeline.ReprocessOptions{Actor: "tester"}) {
		if r.Error != "" {
			t.Errorf("reprocess %s: %s", r.ID, r.Error)
		}
	}
	for i := range 3 {
		h2.orderOf(h2.document(fmt.Sprintf("d%d", i)).ID, order.StatusDelivered)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for _, id := range dead {
		if keys := recv.keys[id]; len(keys) != 1 {
			t.Errorf("order %s was sent with idempotency keys %v across its reprocess, want one", id, keys)
		}
	}
}

// retryWaits returns the waits the delivery worker scheduled after each
// failed attempt of the order's delivery, in attempt order.
func retryWaits(t *testing.T, h *harness, orderID string) []time.Duration {
	t.Helper()
	events, err := h.st.Timeline(h.ctx, orderID)
	if err != nil {
		t.Fatal(err)
	}
	byAttempt := map[int]time.Duration{}
	last := 0
	for _, e := range events {
		if e.Kind != "delivery_attempt" {
			continue
		}
		var data struct {
			Attempt int    `json:"attempt"`
			Outcome string `json:"outcome"`
			WaitMS  *int64 `json:"wait_ms"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatalf("event data %s: %v", e.Data, err)
		}
		if data.Outcome != "retry" {
			continue
		}
		if data.WaitMS == nil {
			t.Fatalf("retry event without wait_ms: %s", e.Data)
		}
		byAttempt[data.Attempt] = time.Duration(*data.WaitMS) * time.Millisecond
		last = max(last, data.Attempt)
	}
	out := make([]time.Duration, 0, last)
	for k := 1; k <= last; k++ {
		w, ok := byAttempt[k]
		if !ok {
			t.Fatalf("order %s: no retry event for attempt %d of %d", orderID, k, last)
		}
		out = append(out, w)
	}
	return out
}
