package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/channels/dirdrop"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
)

// batchGate holds the first call of a fake until released, so that the
// items due meanwhile go out together in the next batch, and fails the
// second item of the first batch of two or more once.
type batchGate struct {
	hold     chan struct{}
	started  chan struct{}
	once     sync.Once
	released sync.Once
	mu       sync.Mutex
	held     int            // items of the first call
	failed   string         // the item that failed
	attempts map[string]int // by item
	maxBatch int
}

func newBatchGate() *batchGate {
	return &batchGate{hold: make(chan struct{}), started: make(chan struct{}), attempts: map[string]int{}}
}

// enter waits for the release on the first call, of n items.
func (g *batchGate) enter(n int) {
	g.once.Do(func() {
		g.mu.Lock()
		g.held = n
		g.mu.Unlock()
		close(g.started)
	})
	<-g.hold
}

// release lets the first call go on; it is idempotent.
func (g *batchGate) release() { g.released.Do(func() { close(g.hold) }) }

// firstCall is the number of items of the first call.
func (g *batchGate) firstCall() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

// outcomes counts the attempts at items and says which one fails.
func (g *batchGate) outcomes(items []string) []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.maxBatch = max(g.maxBatch, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		g.attempts[it]++
		if g.failed == "" && len(items) >= 2 && i == 1 {
			g.failed = it
			errs[i] = fmt.Errorf("disk full while writing %s", it)
		}
	}
	return errs
}

func (g *batchGate) snapshot() (failed string, attempts map[string]int, maxBatch int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	attempts = map[string]int{}
	for k, v := range g.attempts {
		attempts[k] = v
	}
	return g.failed, attempts, g.maxBatch
}

// batchBackend is a routing.BatchBackend behind a batchGate.
type batchBackend struct{ gate *batchGate }

func (b *batchBackend) Name() string                { return "files" }
func (b *batchBackend) Close(context.Context) error { return nil }

func (b *batchBackend) Deliver(ctx context.Context, d routing.Delivery) (routing.Receipt, error) {
	rs, errs := b.DeliverBatch(ctx, []routing.Delivery{d})
	return rs[0], errs[0]
}

func (b *batchBackend) DeliverBatch(_ context.Context, ds []routing.Delivery) ([]routing.Receipt, []error) {
	b.gate.enter(len(ds))
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.Key
	}
	errs := b.gate.outcomes(keys)
	rs := make([]routing.Receipt, len(ds))
	for i, d := range ds {
		if errs[i] == nil {
			rs[i] = routing.Receipt{ExternalRef: "erp-" + d.OrderID, At: time.Now()}
		}
	}
	return rs, errs
}

// batchOutbox is a channels.BatchOutbound: a dirdrop.Outbox behind a
// batchGate.
type batchOutbox struct {
	gate *batchGate
	out  *dirdrop.Outbox
}

func (o *batchOutbox) Send(ctx context.Context, name string, body []byte) error {
	return o.SendBatch(ctx, []channels.OutFile{{Name: name, Body: body}})[0]
}

func (o *batchOutbox) SendBatch(ctx context.Context, files []channels.OutFile) []error {
	o.gate.enter(len(files))
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	errs := o.gate.outcomes(names)
	var send []channels.OutFile
	var idx []int
	for i, f := range files {
		if errs[i] == nil {
			send = append(send, f)
			idx = append(idx, i)
		}
	}
	for k, err := range o.out.SendBatch(ctx, send) {
		errs[idx[k]] = err
	}
	return errs
}

// pushOrders drops n purchase orders and returns their source keys.
func pushOrders(h *harness, n int) []string {
	var keys []string
	for i := range n {
		key := fmt.Sprintf("po-%d", i)
		h.src.push(key, fixtures.X12850(5000+i, fmt.Sprintf("PO-%d", 5000+i), 1))
		keys = append(keys, key)
	}
	return keys
}

func TestDeliveryBatch(t *testing.T) { forEachDriver(t, testDeliveryBatch) }

// testDeliveryBatch: deliveries due together go to a BatchBackend in one
// call; the one that fails is retried alone, the others are delivered at
// their first attempt, each with its own events.
func testDeliveryBatch(t *testing.T) {
	gate := newBatchGate()
	h := newHarness(t, harnessOptions{backend: &batchBackend{gate: gate}})
	t.Cleanup(gate.release)
	keys := pushOrders(h, 4)
	<-gate.started
	h.eventually("the four deliveries due or in the first call", func() (bool, string) {
		due, err := h.st.DueDeliveries(h.ctx, time.Now(), 10)
		if err != nil {
			return false, err.Error()
		}
		return len(due)+gate.firstCall() >= 4, fmt.Sprintf("%d due, %d in the first call", len(due), gate.firstCall())
	})
	gate.release()
	var recs []store.OrderRecord
	for _, key := range keys {
		recs = append(recs, h.orderOf(h.documentIn(key, store.DocumentParsed).ID, order.StatusDelivered))
	}
	failed, attempts, maxBatch := gate.snapshot()
	if maxBatch < 2 {
		t.Fatalf("largest batch = %d, want the deliveries due together in one", maxBatch)
	}
	if failed == "" {
		t.Fatal("no delivery failed")
	}
	for _, rec := range recs {
		dels, err := h.st.DeliveriesOfOrder(h.ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(dels) != 1 {
			t.Fatalf("deliveries of %s = %d, want 1", rec.ID, len(dels))
		}
		key := routing.DeliveryKey(rec.ID, int(dels[0].OrderRevision))
		want := 1
		if key == failed {
			want = 2
		}
		if got := attempts[key]; got != want {
			t.Errorf("%s: backend attempts = %d, want %d", key, got, want)
		}
		if d := dels[0]; d.Status != store.DeliverySent || d.Attempts != want {
			t.Errorf("%s: delivery = {%s, attempts %d}, want {%s, %d}", key, d.Status, d.Attempts, store.DeliverySent, want)
		}
		n := 0
		for _, k := range h.orderKinds(rec.ID) {
			if k == "delivery_attempt" {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: delivery_attempt events = %d, want %d", key, n, want)
		}
	}
}

func TestAckBatch(t *testing.T) { forEachDriver(t, testAckBatch) }

// testAckBatch: acks pending together go to a BatchOutbound in one call;
// the one that fails is recorded as failed and sent again, the others are
// sent at once.
func testAckBatch(t *testing.T) {
	gate := newBatchGate()
	h := newHarness(t, harnessOptions{outbound: func(dir string) channels.Outbound {
		return &batchOutbox{gate: gate, out: &dirdrop.Outbox{Dir: dir}}
	}})
	t.Cleanup(gate.release)
	keys := pushOrders(h, 4)
	<-gate.started
	h.eventually("four acks pending", func() (bool, string) {
		acks, err := h.st.PendingAcks(h.ctx, 10)
		if err != nil {
			return false, err.Error()
		}
		return len(acks) >= 4, fmt.Sprintf("%d pending", len(acks))
	})
	gate.release()
	var all []store.Ack
	for _, key := range keys {
		acks := h.sentAcks(h.documentIn(key, store.DocumentParsed).ID, 1)
		h.checkAckFile(acks[0], ".x12")
		all = append(all, acks...)
	}
	failed, attempts, maxBatch := gate.snapshot()
	if maxBatch < 2 {
		t.Fatalf("largest batch = %d, want the acks pending together in one", maxBatch)
	}
	if failed == "" {
		t.Fatal("no ack failed")
	}
	for _, a := range all {
		name := a.DocumentID + "." + a.Kind + ".x12"
		want := 1
		if name == failed {
			want = 2
		}
		if got := attempts[name]; got != want {
			t.Errorf("%s: sends = %d, want %d", name, got, want)
		}
		if a.Attempts != want {
			t.Errorf("%s: attempts recorded = %d, want %d", name, a.Attempts, want)
		}
		kinds := h.documentKinds(a.DocumentID)
		failedEvents := 0
		for _, k := range kinds {
			if k == "ack_failed" {
				failedEvents++
			}
		}
		if failedEvents != want-1 {
			t.Errorf("%s: ack_failed events = %d, want %d (%q)", name, failedEvents, want-1, kinds)
		}
	}
}
