package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/sony/gobreaker/v2"
)

// pollLoop calls fn until ctx ends: at once again while fn reports it did
// work, after interval when it found none. With changed (the queue's
// commit signal, nil when it has none) an idle round waits for the next
// commit instead, but at least interval since the last call (a busy
// writer commits far more often) and at most a wait that doubles after
// each idle round without commits, up to idleMax.
func pollLoop(ctx context.Context, interval, idleMax time.Duration, changed func() <-chan struct{}, fn func(ctx context.Context) (busy bool)) {
	wait := interval
	for ctx.Err() == nil {
		var woken <-chan struct{}
		if changed != nil {
			woken = changed() // before fn: a commit while it runs is not missed
		}
		last := time.Now()
		if fn(ctx) {
			wait = interval
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			if changed != nil {
				wait = min(2*wait, max(idleMax, interval))
			}
			continue
		case <-woken:
			t.Stop()
			wait = interval
		case <-ctx.Done():
			t.Stop()
			return
		}
		// Woken: no sooner than interval after the last call.
		if d := time.Until(last.Add(interval)); d > 0 && !sleepCtx(ctx, d) {
			return
		}
	}
}

// workerIdleMax is how long the delivery and ack workers wait between
// looks when nothing commits (on a queue that signals commits): how late
// a retry falls due is noticed at most, and work written by another
// process.
const workerIdleMax = 200 * time.Millisecond

// changes returns the queue's commit signal, or nil when it has none
// (its Changed returns nil: a wrapper around a queue without one).
func (p *Pipeline) changes() func() <-chan struct{} {
	if c, ok := p.d.Queue.(interface{ Changed() <-chan struct{} }); ok && c.Changed() != nil {
		return c.Changed
	}
	return nil
}

// backoffDelay is the capped exponential backoff with jitter before
// attempt n+1: with c = min(initial * 2^(n-1), max), a uniform draw from
// [c/2, c]. It never exceeds max, and until the cap the least wait before
// attempt n+2 (c) is the most before n+1, so the waits never shrink.
func backoffDelay(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// ackFileName is the name an ack goes out under: the same on every
// attempt, so a resend after a crash replaces nothing and adds nothing.
func ackFileName(a store.Ack) string {
	ext := ".x12"
	if a.Kind == store.AckCONTRL || strings.HasPrefix(a.Kind, store.AckORDRSP) {
		ext = ".edi"
	}
	return a.DocumentID + "." + a.Kind + ext
}

const ackMaxAttempts = 10

// runAckSender hands pending acks to their partner's outbound channel,
// a batch at a time: sends in parallel, outcomes in one transaction.
func (p *Pipeline) runAckSender(ctx context.Context) {
	const batch = 256 // as intake's batches: a burst's acks commit a few times, not 30 times per 3,000
	pollLoop(ctx, 2*p.d.WorkerPoll, workerIdleMax, p.changes(), func(ctx context.Context) bool {
		acks, err := p.d.Store.PendingAcks(ctx, batch)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("reading pending acks", "err", err)
			}
			return false
		}
		if len(acks) == 0 {
			return false
		}
		errs := p.sendAcks(ctx, acks)
		if ctx.Err() != nil {
			return false
		}
		werr := p.writeTx(ctx, func(tx *store.Tx) error {
			for i, a := range acks {
				if err := p.recordAck(ctx, tx, a, errs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if werr != nil && ctx.Err() == nil {
			p.log.Error("recording acknowledgement outcomes", "err", werr)
		}
		return len(acks) == batch
	})
}

// parallel runs fn(0..n-1) on at most width goroutines.
func parallel(n, width int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// sendAcks sends acks, the result of acks[i] at errs[i]. The acks for
// one outbound that writes batches (a folder: one fsync of it for all)
// go together; the others one by one, in parallel.
func (p *Pipeline) sendAcks(ctx context.Context, acks []store.Ack) (errs []error) {
	errs = make([]error, len(acks))
	outs := make([]channels.Outbound, len(acks))
	bodies := make([][]byte, len(acks))
	parallel(len(acks), 8, func(i int) {
		if outs[i], errs[i] = p.ackOutbound(acks[i]); errs[i] == nil {
			bodies[i], errs[i] = p.ackBody(acks[i])
		}
	})
	// Jobs: a batch per outbound that writes batches, single acks else.
	var jobs [][]int
	batches := map[string]int{} // destination and partner -> index in jobs
	for i, a := range acks {
		if errs[i] != nil {
			continue
		}
		if _, ok := outs[i].(channels.BatchOutbound); ok {
			k := a.Destination + "\x00" + a.PartnerID
			if j, seen := batches[k]; seen {
				jobs[j] = append(jobs[j], i)
				continue
			}
			batches[k] = len(jobs)
		}
		jobs = append(jobs, []int{i})
	}
	parallel(len(jobs), 8, func(j int) {
		job := jobs[j]
		if len(job) == 1 {
			i := job[0]
			errs[i] = outs[i].Send(ctx, ackFileName(acks[i]), bodies[i])
			return
		}
		files := make([]channels.OutFile, len(job))
		for k, i := range job {
			files[k] = channels.OutFile{Name: ackFileName(acks[i]), Body: bodies[i]}
		}
		for k, err := range outs[job[0]].(channels.BatchOutbound).SendBatch(ctx, files) {
			errs[job[k]] = err
		}
	})
	return errs
}

// ackOutbound is the outbound an ack goes out through.
func (p *Pipeline) ackOutbound(a store.Ack) (channels.Outbound, error) {
	if out, ok := p.d.Outbounds[a.Destination]; ok {
		return out, nil
	}
	if po, found := p.d.PartnerOutbounds[a.Destination]; found {
		out, err := po(a.PartnerID)
		if err != nil {
			return nil, fmt.Errorf("channel %q has no outbound for partner %q: %w", a.Destination, a.PartnerID, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("channel %q has no outbound for acknowledgements", a.Destination)
}

// ackBody is the bytes of an ack: stored with it, or in the archive.
func (p *Pipeline) ackBody(a store.Ack) ([]byte, error) {
	if a.Body != nil {
		return a.Body, nil
	}
	rc, err := p.d.Store.Archive().Open(a.SHA256)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (p *Pipeline) recordAck(ctx context.Context, tx *store.Tx, a store.Ack, err error) error {
	outcome := "sent"
	base, orderID := ackBase(a.Kind)
	defer func() { p.d.Metrics.Acks.WithLabelValues(base, outcome).Inc() }()
	if err == nil {
		if err := tx.MarkAckSent(ctx, a.ID); err != nil {
			return err
		}
		// An order response is on its order's timeline too.
		_, err := tx.AddEvent(ctx, store.EventInput{DocumentID: a.DocumentID, OrderID: orderID, Actor: "system", Kind: "ack_sent",
			Reason: fmt.Sprintf("%s sent to %s as %s", base, a.Destination, ackFileName(a))})
		return err
	}
	outcome = "failed"
	p.log.Warn("sending acknowledgement", "document_id", a.DocumentID, "kind", a.Kind, "destination", a.Destination, "err", err)
	next := time.Now().Add(backoffDelay(a.Attempts+1, time.Second, 5*time.Minute))
	if a.Attempts+1 >= ackMaxAttempts {
		next = time.Time{}
	}
	if err2 := tx.MarkAckFailed(ctx, a.ID, err.Error(), next); err2 != nil {
		return err2
	}
	_, err2 := tx.AddEvent(ctx, store.EventInput{DocumentID: a.DocumentID, OrderID: orderID, Actor: "system", Kind: "ack_failed",
		Reason: fmt.Sprintf("%s to %s (attempt %d): %v", base, a.Destination, a.Attempts+1, err)})
	return err2
}

// ackBase splits an outbox kind into the message type and, for an order
// response ("855-ord_...", "ORDRSP-ord_...", "EMAIL-ord_..."), the order.
func ackBase(kind string) (base, orderID string) {
	base, rest, ok := strings.Cut(kind, "-")
	if !ok || !strings.HasPrefix(rest, "ord_") {
		return kind, ""
	}
	orderID, _, _ = strings.Cut(rest, "-") // "-pending"
	return base, orderID
}

// deliveryWorkers is how many deliveries are in flight at once: enough to
// keep a broker that confirms each message (or a webhook with some
// latency) busy.
const deliveryWorkers = 16

// runDeliveries sends due deliveries to their backends a batch at a time:
// lease the batch in one transaction, call the backends in parallel
// outside any transaction, record the outcomes in one transaction.
func (p *Pipeline) runDeliveries(ctx context.Context) {
	const batch = 256
	pollLoop(ctx, p.d.WorkerPoll, workerIdleMax, p.changes(), func(ctx context.Context) bool {
		due, err := p.d.Store.DueDeliveries(ctx, p.d.Now(), batch)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("reading due deliveries", "err", err)
			}
			return false
		}
		if len(due) == 0 {
			return false
		}
		full := len(due) == batch
		due = p.admitted(due)
		if len(due) == 0 {
			return false
		}
		var ds []store.Delivery
		err = p.writeTx(ctx, func(tx *store.Tx) error {
			ds = ds[:0]
			for _, d := range due {
				d, err := tx.StartAttempt(ctx, d.ID, p.d.Now().Add(time.Minute))
				if errors.Is(err, store.ErrTransition) {
					continue // taken meanwhile
				}
				if err != nil {
					return err
				}
				ds = append(ds, d)
			}
			return nil
		})
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("leasing deliveries", "err", err)
			}
			return false
		}
		// The orders are read after the lease, outside the write lock: as
		// committed then, which is also what a change after the lease
		// would leave the send with.
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = d.OrderID
		}
		byID, err := p.d.Store.OrdersByID(ctx, ids)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("reading the orders of leased deliveries", "err", err)
			}
			return false // the leases run out; the deliveries are tried again
		}
		recs := make([]store.OrderRecord, 0, len(ds))
		kept := ds[:0]
		for _, d := range ds {
			rec, ok := byID[d.OrderID]
			if !ok {
				// Not in the snapshot (orders are never deleted, so this
				// should not happen): its lease runs out and it is tried
				// again.
				p.log.Warn("leased delivery without its order", "delivery_id", d.ID, "order_id", d.OrderID)
				continue
			}
			kept = append(kept, d)
			recs = append(recs, rec)
		}
		ds = kept
		receipts, errs := p.deliverAll(ctx, ds, recs)
		if ctx.Err() != nil {
			return false // the leases run out; the deliveries are tried again
		}
		delivered := p.prepareDelivered(recs, errs)
		werr := p.writeTx(ctx, func(tx *store.Tx) error {
			for i, d := range ds {
				if err := p.recordDelivery(ctx, tx, d, receipts[i], errs[i], delivered[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if werr != nil && ctx.Err() == nil {
			p.log.Error("recording delivery outcomes", "err", werr)
		}
		return full
	})
}

// admitted drops the due deliveries whose backend's circuit breaker is
// open (and all but one while it is half-open): they stay due, their
// attempts untouched.
func (p *Pipeline) admitted(due []store.Delivery) []store.Delivery {
	left := map[string]int{}
	out := due[:0]
	for _, d := range due {
		n, seen := left[d.Backend]
		if !seen {
			n = p.breakers.admit(d.Backend)
		}
		if n == 0 {
			left[d.Backend] = 0
			continue
		}
		left[d.Backend] = n - 1
		out = append(out, d)
	}
	return out
}

// deliverAll makes one attempt at each leased delivery, the outcome of
// ds[i] at index i. The deliveries to a backend that takes batches (a
// folder: one fsync of it for all) go together, through its circuit
// breaker; the others one by one, in parallel.
func (p *Pipeline) deliverAll(ctx context.Context, ds []store.Delivery, recs []store.OrderRecord) ([]routing.Receipt, []error) {
	backends, release := p.backends()
	defer release()
	receipts := make([]routing.Receipt, len(ds))
	errs := make([]error, len(ds))
	dls := make([]routing.Delivery, len(ds))
	var jobs [][]int
	batches := map[string]int{} // backend -> index in jobs
	for i, d := range ds {
		if dls[i], errs[i] = p.delivery(backends, d, recs[i]); errs[i] != nil {
			continue
		}
		if _, ok := backends[d.Backend].(routing.BatchBackend); ok {
			if j, seen := batches[d.Backend]; seen {
				jobs[j] = append(jobs[j], i)
				continue
			}
			batches[d.Backend] = len(jobs)
		}
		jobs = append(jobs, []int{i})
	}
	parallel(len(jobs), deliveryWorkers, func(j int) {
		job := jobs[j]
		name := ds[job[0]].Backend
		backend := backends[name]
		if len(job) == 1 {
			i := job[0]
			receipts[i], errs[i] = p.breakers.call(ctx, name, func(ctx context.Context) (routing.Receipt, error) {
				return backend.Deliver(ctx, dls[i])
			})
			return
		}
		batch := make([]routing.Delivery, len(job))
		for k, i := range job {
			batch[k] = dls[i]
		}
		rs, es := p.breakers.callBatch(ctx, name, len(batch), func(ctx context.Context) ([]routing.Receipt, []error) {
			return backend.(routing.BatchBackend).DeliverBatch(ctx, batch)
		})
		for k, i := range job {
			receipts[i], errs[i] = rs[k], es[k]
		}
	})
	return receipts, errs
}

// backends returns the backends for one batch and its release.
func (p *Pipeline) backends() (map[string]routing.Backend, func()) {
	if p.d.BackendSet != nil {
		return p.d.BackendSet()
	}
	return p.d.Backends, func() {}
}

// delivery is what a leased delivery hands its backend; its errors are
// permanent.
func (p *Pipeline) delivery(backends map[string]routing.Backend, d store.Delivery, rec store.OrderRecord) (routing.Delivery, error) {
	backend, ok := backends[d.Backend]
	if !ok {
		return routing.Delivery{}, fmt.Errorf("%w: no backend named %q", routing.ErrPermanent, d.Backend)
	}
	var o *order.Order
	if _, payloadOnly := backend.(routing.PayloadBackend); !payloadOnly {
		// The backend reads the order's fields: decoded (or handed off).
		var err error
		if o, err = p.deliveryOrder(rec); err != nil {
			return routing.Delivery{}, routing.Permanent(err)
		}
		o.ID = rec.ID
	}
	pl, err := deliveryPayload(d, rec)
	if err != nil {
		return routing.Delivery{}, routing.Permanent(err)
	}
	return routing.Delivery{Key: routing.DeliveryKey(d.OrderID, int(d.OrderRevision)),
		OrderID: d.OrderID, Revision: int(d.OrderRevision), Order: o, Payload: pl, Attempt: d.Attempts}, nil
}

// deliveryOrder returns rec.Order(): the order routing handed off, when
// it is the order as committed (its JSON is rec's, byte for byte), else
// the stored JSON decoded.
func (p *Pipeline) deliveryOrder(rec store.OrderRecord) (*order.Order, error) {
	if o := p.routed.take(rec.ID, rec.Revision); o != nil {
		if data, err := order.Marshal(o); err == nil && bytes.Equal(data, rec.Canonical) {
			d, err := order.Decoded(o, data)
			if err == nil {
				return d, nil
			}
		}
		p.routedStale.Add(1)
	}
	return rec.Order()
}

// prepareDelivered prepares, outside the write lock and in parallel, the
// change to "delivered" of each order whose delivery succeeded (errs[i]
// nil), from the record read after the lease: nil where there is none
// to make, or it could not be prepared (recordDelivery then goes the
// long way).
func (p *Pipeline) prepareDelivered(recs []store.OrderRecord, errs []error) []*store.StatusChange {
	out := make([]*store.StatusChange, len(recs))
	parallel(len(recs), 2, func(i int) {
		if errs[i] != nil || recs[i].Status == order.StatusDelivered || recs[i].Status == order.StatusFailed {
			return
		}
		if c, err := p.d.Store.PrepareStatus(recs[i], order.StatusDelivered); err == nil {
			out[i] = &c
		}
	})
	return out
}

// recordDelivery records an attempt's outcome and its timeline event;
// delivered, when set, is the order's change to "delivered" prepared for
// a success (prepareDelivered).
func (p *Pipeline) recordDelivery(ctx context.Context, tx *store.Tx, d store.Delivery, receipt routing.Receipt, err error, delivered *store.StatusChange) error {
	cfgBackend, _ := p.d.Config().Backend(d.Backend)
	maxAttempts := cfgBackend.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		// The breaker opened during the batch: the backend was not
		// called, so this was no attempt. The delivery waits for the
		// breaker (admitted leases none while it is open).
		if _, err := tx.DeferAttempt(ctx, d.ID, p.d.Now()); err != nil {
			return err
		}
		p.d.Metrics.Deliveries.WithLabelValues(d.Backend, "deferred").Inc()
		return nil
	}
	outcome := "sent"
	var waited time.Duration // until the next attempt, on a retry
	ev := store.EventInput{OrderID: d.OrderID, Actor: "system", Kind: "delivery_attempt"}
	switch {
	case err == nil:
		if _, err := tx.MarkDelivered(ctx, d.ID, receipt.ExternalRef); err != nil {
			return err
		}
		ev.Reason = fmt.Sprintf("delivered to %s (attempt %d) %s", d.Backend, d.Attempts, receipt.ExternalRef)
		if receipt.Duplicate {
			ev.Reason += " (the backend had it already)"
		}
		// The prepared change applies while the order is as read and
		// none of its deliveries is open; else the long way decides.
		applied := false
		if delivered != nil {
			if applied, err = tx.SetPreparedStatus(ctx, *delivered, true); err != nil {
				return err
			}
		}
		if !applied {
			if err := p.markOrder(ctx, tx, d.OrderID, order.StatusDelivered); err != nil {
				return err
			}
		}
	case errors.Is(err, routing.ErrPermanent) || d.Attempts >= maxAttempts:
		outcome = "dead"
		if _, err := tx.MarkDead(ctx, d.ID, err.Error()); err != nil {
			return err
		}
		ev.Kind, ev.Reason = "dead_letter", fmt.Sprintf("%s after %d attempt(s): %v", d.Backend, d.Attempts, err)
		if err := p.markOrder(ctx, tx, d.OrderID, order.StatusFailed); err != nil {
			return err
		}
	default:
		outcome = "retry"
		// The backend's initial_backoff and max_backoff as configured
		// (validation keeps them positive and ordered); the defaults for
		// a backend the configuration no longer has.
		initial, ceiling := cfgBackend.InitialBackoff, cfgBackend.MaxBackoff
		if initial <= 0 || ceiling < initial {
			initial, ceiling = time.Second, 5*time.Minute
		}
		wait := backoffDelay(d.Attempts, initial, ceiling)
		if ra, ok := routing.RetryAfter(err); ok {
			// The backend's own hint, within the cap.
			wait = min(max(wait, ra), ceiling)
		}
		waited = wait
		next := p.d.Now().Add(wait)
		if _, err := tx.MarkAttemptFailed(ctx, d.ID, next, err.Error()); err != nil {
			return err
		}
		ev.Reason = fmt.Sprintf("%s attempt %d failed, next at %s: %v", d.Backend, d.Attempts, next.UTC().Format(time.RFC3339), err)
	}
	p.d.Metrics.Deliveries.WithLabelValues(d.Backend, outcome).Inc()
	evData := map[string]any{"delivery_id": d.ID, "attempt": d.Attempts, "outcome": outcome}
	if outcome == "retry" {
		evData["wait_ms"] = waited.Milliseconds()
	}
	data, _ := json.Marshal(evData)
	ev.Data = data
	_, err = tx.AddEvent(ctx, ev)
	return err
}

// markOrder sets an order's status once all its deliveries agree:
// delivered when none is left pending, failed as soon as one is dead.
func (p *Pipeline) markOrder(ctx context.Context, tx *store.Tx, orderID string, status order.Status) error {
	revision, current, open, err := tx.OrderState(ctx, orderID)
	if err != nil {
		return err
	}
	if current == status || current == order.StatusFailed || (status == order.StatusDelivered && open > 0) {
		return nil
	}
	_, err = tx.SetOrderStatusRevision(ctx, orderID, revision, status)
	return err
}

// runRetention trims queue rows every stage has consumed.
func (p *Pipeline) runRetention(ctx context.Context) {
	err := p.d.Queue.Retain(ctx, Topics...)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("queue retention stopped", "err", err)
	}
}

// deliveryPayload is what a delivery sends: the rendered bytes stored with
// it at routing, or the order's canonical JSON as stored.
func deliveryPayload(d store.Delivery, rec store.OrderRecord) (routing.Payload, error) {
	format := routing.Format(d.Format)
	if format == "" || format == routing.FormatJSON {
		return routing.Payload{Format: routing.FormatJSON, ContentType: "application/json",
			Body: append(append(make([]byte, 0, len(rec.Canonical)+1), rec.Canonical...), '\n')}, nil
	}
	if len(d.Payload) == 0 {
		return routing.Payload{}, fmt.Errorf("delivery %s in format %s has no rendered payload", d.ID, format)
	}
	return routing.Payload{Format: format, ContentType: format.ContentType(), Body: d.Payload}, nil
}
