package routingtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
)

// Artifact is one thing that arrived at the destination.
type Artifact struct {
	// Key is the idempotency key the artifact carries (a file name, an
	// Idempotency-Key header, a message id).
	Key string
	// Body is the payload as it arrived.
	Body []byte
}

// Destination is one fresh destination of the backend under test.
type Destination struct {
	// Open returns a new backend on the destination. The suite calls it
	// more than once to simulate a restart and closes what it opens.
	Open func(t *testing.T) routing.Backend
	// Artifacts returns everything that has arrived so far, leftovers of
	// interrupted writes included.
	Artifacts func(t *testing.T) []Artifact
	// Dedupes says the backend guarantees that a redelivery of a key
	// creates no second artifact.
	Dedupes bool
	// Timeout bounds every call of the suite; default 30 s.
	Timeout time.Duration
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, newDestination func(t *testing.T) Destination) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"DeliversEachOnce", testDeliversEachOnce},
		{"RedeliverySameKey", testRedelivery},
		{"ConcurrentRedelivery", testConcurrentRedelivery},
		{"RedeliveryAfterRestart", testRedeliveryAfterRestart},
		{"NewRevisionIsNewDelivery", testNewRevision},
		{"HonoursContext", testContext},
		{"InvalidDeliveryIsPermanent", testInvalid},
		{"CloseIdempotent", testClose},
		{"Batch", testBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := newDestination(t)
			if dst.Open == nil || dst.Artifacts == nil {
				t.Fatal("routingtest: Destination needs Open and Artifacts")
			}
			if dst.Timeout <= 0 {
				dst.Timeout = 30 * time.Second
			}
			tt.fn(t, &harness{Destination: dst})
		})
	}
}

type harness struct{ Destination }

func (h *harness) open(t *testing.T) routing.Backend {
	t.Helper()
	b := h.Open(t)
	if b.Name() == "" {
		t.Error("backend Name is empty")
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("Close at cleanup: %v", err)
		}
	})
	return b
}

func (h *harness) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

func (h *harness) deliver(t *testing.T, b routing.Backend, d routing.Delivery) routing.Receipt {
	t.Helper()
	r, err := b.Deliver(h.ctx(t), d)
	if err != nil {
		t.Fatalf("Deliver %s: %v", d.Key, err)
	}
	if r.ExternalRef == "" {
		t.Errorf("Deliver %s: receipt has no ExternalRef", d.Key)
	}
	if r.At.IsZero() {
		t.Errorf("Deliver %s: receipt has no time", d.Key)
	}
	return r
}

// Delivery returns a valid delivery of a test order: revision rev of
// order i, rendered as JSON.
func Delivery(t *testing.T, i, rev int) routing.Delivery {
	t.Helper()
	qty := decimal.MustNew(int64(i+1), 0)
	o := &order.Order{
		ID: fmt.Sprintf("ord_test_%04d", i), Channel: order.ChannelEDI,
		Source:   order.Source{Standard: "X12", SenderID: "BAUMARKTNORD"},
		Purpose:  order.PurposeOriginal,
		PONumber: fmt.Sprintf("45000%05d", i), Currency: "EUR",
		Lines: []order.Line{{LineNo: "1", Quantity: qty, Unit: "EA", SKU: "SCR-100"}},
		Notes: []string{fmt.Sprintf("revision %d", rev)},
	}
	p, err := routing.RenderJSON(o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := routing.NewDelivery(o, rev, p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// byKey groups the artifacts by key.
func (h *harness) byKey(t *testing.T) map[string][]Artifact {
	t.Helper()
	m := map[string][]Artifact{}
	for _, a := range h.Artifacts(t) {
		m[a.Key] = append(m[a.Key], a)
	}
	return m
}

// checkArrived checks that d arrived, once when the backend dedupes, and
// byte-exact.
func (h *harness) checkArrived(t *testing.T, arts map[string][]Artifact, d routing.Delivery) {
	t.Helper()
	got := arts[d.Key]
	switch {
	case len(got) == 0:
		t.Errorf("%s: no artifact at the destination", d.Key)
	case h.Dedupes && len(got) != 1:
		t.Errorf("%s: %d artifacts, want 1", d.Key, len(got))
	}
	for _, a := range got {
		if !bytes.Equal(a.Body, d.Payload.Body) {
			t.Errorf("%s: artifact body differs: got %d bytes, want %d", d.Key, len(a.Body), len(d.Payload.Body))
		}
	}
}

func (h *harness) checkCount(t *testing.T, arts map[string][]Artifact, want int) {
	t.Helper()
	if got := len(arts); got != want {
		keys := make([]string, 0, len(arts))
		for k := range arts {
			keys = append(keys, k)
		}
		t.Errorf("destination has %d keys %q, want %d", got, keys, want)
	}
}

func testDeliversEachOnce(t *testing.T, h *harness) {
	b := h.open(t)
	const n = 10
	var ds []routing.Delivery
	refs := map[string]string{}
	for i := range n {
		d := Delivery(t, i, 1)
		r := h.deliver(t, b, d)
		if r.Duplicate {
			t.Errorf("%s: first delivery reported as duplicate", d.Key)
		}
		if other, dup := refs[r.ExternalRef]; dup {
			t.Errorf("%s and %s share ExternalRef %q", d.Key, other, r.ExternalRef)
		}
		refs[r.ExternalRef] = d.Key
		ds = append(ds, d)
	}
	arts := h.byKey(t)
	h.checkCount(t, arts, n)
	for _, d := range ds {
		h.checkArrived(t, arts, d)
	}
}

func testRedelivery(t *testing.T, h *harness) {
	b := h.open(t)
	d := Delivery(t, 1, 1)
	first := h.deliver(t, b, d)
	d.Attempt = 2
	again := h.deliver(t, b, d)
	arts := h.byKey(t)
	h.checkCount(t, arts, 1)
	h.checkArrived(t, arts, d)
	if h.Dedupes {
		if !again.Duplicate {
			t.Error("redelivery not reported as Duplicate")
		}
		if again.ExternalRef != first.ExternalRef {
			t.Errorf("redelivery ExternalRef = %q, want %q", again.ExternalRef, first.ExternalRef)
		}
	}
}

func testConcurrentRedelivery(t *testing.T, h *harness) {
	b := h.open(t)
	d := Delivery(t, 2, 1)
	ctx := h.ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := b.Deliver(ctx, d)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Deliver: %v", err)
		}
	}
	arts := h.byKey(t)
	h.checkCount(t, arts, 1)
	h.checkArrived(t, arts, d)
}

func testRedeliveryAfterRestart(t *testing.T, h *harness) {
	d := Delivery(t, 3, 1)
	first := h.open(t)
	h.deliver(t, first, d)
	if err := first.Close(h.ctx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	d.Attempt = 2
	h.deliver(t, h.open(t), d)
	arts := h.byKey(t)
	h.checkCount(t, arts, 1)
	h.checkArrived(t, arts, d)
}

func testNewRevision(t *testing.T, h *harness) {
	b := h.open(t)
	r1, r2 := Delivery(t, 4, 1), Delivery(t, 4, 2)
	h.deliver(t, b, r1)
	if r := h.deliver(t, b, r2); r.Duplicate {
		t.Error("a new revision was reported as Duplicate")
	}
	arts := h.byKey(t)
	h.checkCount(t, arts, 2)
	h.checkArrived(t, arts, r1)
	h.checkArrived(t, arts, r2)
}

func testContext(t *testing.T, h *harness) {
	b := h.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Deliver(ctx, Delivery(t, 5, 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Deliver with a cancelled ctx = %v, want context.Canceled", err)
	}
	if errors.Is(context.Canceled, routing.ErrPermanent) {
		t.Error("cancellation must stay retryable")
	}
	// The backend still works afterwards.
	d := Delivery(t, 6, 1)
	h.deliver(t, b, d)
	h.checkArrived(t, h.byKey(t), d)
}

func testInvalid(t *testing.T, h *harness) {
	b := h.open(t)
	tests := []struct {
		name   string
		change func(d *routing.Delivery)
	}{
		{"empty key", func(d *routing.Delivery) { d.Key = "" }},
		{"key of another revision", func(d *routing.Delivery) { d.Key = routing.DeliveryKey(d.OrderID, d.Revision+1) }},
		{"order of another id", func(d *routing.Delivery) { o := *d.Order; o.ID += "x"; d.Order = &o }},
		{"no format", func(d *routing.Delivery) { d.Payload.Format = "" }},
	}
	_, payloadOnly := b.(routing.PayloadBackend)
	if !payloadOnly {
		tests = append(tests, struct {
			name   string
			change func(d *routing.Delivery)
		}{"nil order", func(d *routing.Delivery) { d.Order = nil }})
	}
	for _, tt := range tests {
		d := Delivery(t, 7, 1)
		tt.change(&d)
		if _, err := b.Deliver(h.ctx(t), d); !errors.Is(err, routing.ErrPermanent) {
			t.Errorf("%s: Deliver = %v, want ErrPermanent", tt.name, err)
		}
	}
	h.checkCount(t, h.byKey(t), 0)
	if payloadOnly {
		// A payload backend is handed deliveries without the order.
		d := Delivery(t, 8, 1)
		d.Order = nil
		h.deliver(t, b, d)
		h.checkArrived(t, h.byKey(t), d)
	}
}

func testClose(t *testing.T, h *harness) {
	b := h.Open(t)
	for i := range 2 {
		if err := b.Close(h.ctx(t)); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
	if _, err := b.Deliver(h.ctx(t), Delivery(t, 8, 1)); !errors.Is(err, routing.ErrClosed) {
		t.Errorf("Deliver after Close = %v, want ErrClosed", err)
	}
	h.checkCount(t, h.byKey(t), 0)
}

// testBatch checks DeliverBatch of a routing.BatchBackend (skipped for
// other backends): each delivery's outcome at its index, an invalid one
// failing alone, and the batch sent again (a crash before the outcomes
// were recorded) adding nothing.
func testBatch(t *testing.T, h *harness) {
	b, ok := h.open(t).(routing.BatchBackend)
	if !ok {
		t.Skip("not a routing.BatchBackend")
	}
	ds := []routing.Delivery{Delivery(t, 20, 1), Delivery(t, 21, 1), Delivery(t, 22, 1), Delivery(t, 20, 2)}
	bad := Delivery(t, 23, 1)
	bad.Key = ""
	batch := []routing.Delivery{ds[0], ds[1], bad, ds[2], ds[3]}
	receipts, errs := b.DeliverBatch(h.ctx(t), batch)
	if len(receipts) != len(batch) || len(errs) != len(batch) {
		t.Fatalf("DeliverBatch of %d = %d receipts, %d errors", len(batch), len(receipts), len(errs))
	}
	refs := map[string]bool{}
	for i, d := range batch {
		if i == 2 {
			if !errors.Is(errs[i], routing.ErrPermanent) {
				t.Errorf("invalid delivery in a batch: %v, want ErrPermanent", errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("%s: %v", d.Key, errs[i])
			continue
		}
		r := receipts[i]
		if r.ExternalRef == "" || r.At.IsZero() || r.Duplicate {
			t.Errorf("%s: receipt %+v, want ExternalRef, At, not Duplicate", d.Key, r)
		}
		if refs[r.ExternalRef] {
			t.Errorf("%s: ExternalRef %q given twice", d.Key, r.ExternalRef)
		}
		refs[r.ExternalRef] = true
	}
	arts := h.byKey(t)
	h.checkCount(t, arts, len(ds))
	for _, d := range ds {
		h.checkArrived(t, arts, d)
	}

	again := []routing.Delivery{ds[2], ds[1], ds[0], ds[3]}
	receipts, errs = b.DeliverBatch(h.ctx(t), again)
	for i, d := range again {
		if errs[i] != nil {
			t.Errorf("%s sent again: %v", d.Key, errs[i])
		} else if h.Dedupes && !receipts[i].Duplicate {
			t.Errorf("%s sent again: not reported as Duplicate", d.Key)
		}
	}
	arts = h.byKey(t)
	h.checkCount(t, arts, len(ds))
	for _, d := range ds {
		h.checkArrived(t, arts, d)
	}
}
