package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
)

// downBackend fails every delivery (retryably) and counts the calls per
// key; the first five fail at once, the later ones after 20 ms.
type downBackend struct {
	mu    sync.Mutex
	n     int
	calls map[string]int
}

func (b *downBackend) Name() string { return "files" }
func (b *downBackend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	b.mu.Lock()
	b.calls[d.Key]++
	b.n++
	slow := b.n > 5
	b.mu.Unlock()
	if slow {
		time.Sleep(20 * time.Millisecond)
	}
	return routing.Receipt{}, errors.New("503 service unavailable (test backend)")
}
func (b *downBackend) Close(context.Context) error { return nil }

// TestBreakerOpenMidBatchDefers: a batch of deliveries larger than the
// worker's parallelism goes to a backend that is down; its circuit
// breaker opens during the batch, and the deliveries it then turns away
// were not tried: they wait for the breaker without using an attempt.
// Every delivery ends a dead letter after exactly max_attempts calls of
// the backend, with the backend's error, never the breaker's.
func TestBreakerOpenMidBatchDefers(t *testing.T) {
	be := &downBackend{calls: map[string]int{}}
	const n, attempts = 30, 2
	// The worker's clock stands an hour back until every order is
	// routed, so no delivery is due before; then the first batch holds
	// all n: 16 calls start at once, five fast failures trip the breaker,
	// and the batch's last deliveries (after the slow calls) find it open.
	var behind atomic.Bool
	behind.Store(true)
	now := func() time.Time {
		if behind.Load() {
			return time.Now().Add(-time.Hour)
		}
		return time.Now()
	}
	h := newHarness(t, harnessOptions{backend: be, maxAttempts: attempts, now: now, backoff: "initial_backoff: 5ms, max_backoff: 10ms"})
	for i := range n {
		h.src.push(fmt.Sprintf("b%d", i), fixtures.X12850(i+1, fmt.Sprintf("PO-B%d", i), 1))
	}
	var docs []string
	for i := range n {
		doc := h.documentIn(fmt.Sprintf("b%d", i), store.DocumentParsed)
		docs = append(docs, doc.ID)
		h.orderOf(doc.ID, order.StatusRouted)
	}
	behind.Store(false)
	for _, id := range docs {
		h.orderOf(id, order.StatusFailed)
	}
	letters, err := h.st.DeadLetters(h.ctx, 100)
	if err != nil || len(letters) != n {
		t.Fatalf("dead letters = %d, %v; want %d", len(letters), err, n)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	for _, d := range letters {
		key := routing.DeliveryKey(d.OrderID, int(d.OrderRevision))
		if d.Attempts != attempts || be.calls[key] != attempts {
			t.Errorf("delivery %s: %d attempts, %d calls of the backend; want %d of each", key, d.Attempts, be.calls[key], attempts)
		}
		if !strings.Contains(d.LastError, "503") || strings.Contains(d.LastError, "circuit breaker") {
			t.Errorf("delivery %s died of %q, want the backend's 503", key, d.LastError)
		}
	}
}
