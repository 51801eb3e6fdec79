package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ordergate/ordergate/internal/pipeline/sqliteq"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
)

// pollLoop calls fn until ctx ends: at once again while fn reports it did
// work, after interval when it found none.
func pollLoop(ctx context.Context, interval time.Duration, fn func(ctx context.Context) (busy bool)) {
	for ctx.Err() == nil {
		if fn(ctx) {
			continue
		}
		t := time.NewTimer(interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// backoffDelay is the capped exponential backoff with jitter before
// attempt n+1.
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
	if a.Kind == store.AckCONTRL || a.Kind == store.AckORDRSP {
		ext = ".edi"
	}
	return a.DocumentID + "." + a.Kind + ext
}

const ackMaxAttempts = 10

// runAckSender hands pending acks to their partner's outbound channel.
func (p *Pipeline) runAckSender(ctx context.Context) {
	pollLoop(ctx, 20*time.Millisecond, func(ctx context.Context) bool {
		acks, err := p.d.Store.PendingAcks(ctx, 100)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("reading pending acks", "err", err)
			}
			return false
		}
		for _, a := range acks {
			p.sendAck(ctx, a)
		}
		return len(acks) == 100
	})
}

func (p *Pipeline) sendAck(ctx context.Context, a store.Ack) {
	log := p.log.With("document_id", a.DocumentID, "kind", a.Kind, "destination", a.Destination, "partner", a.PartnerID)
	err := func() error {
		out, ok := p.d.Outbounds[a.Destination]
		if !ok {
			return fmt.Errorf("channel %q has no outbound for acknowledgements", a.Destination)
		}
		rc, err := p.d.Store.Archive().Open(a.SHA256)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		return out.Send(ctx, ackFileName(a), body)
	}()
	if ctx.Err() != nil {
		return
	}
	werr := p.d.Writer.InTx(ctx, func(sqlTx *sql.Tx) error {
		tx := p.d.Store.WrapTx(sqlTx)
		if err == nil {
			if err := tx.MarkAckSent(ctx, a.ID); err != nil {
				return err
			}
			_, err := tx.AddEvent(ctx, store.EventInput{DocumentID: a.DocumentID, Actor: "system", Kind: "ack_sent",
				Reason: fmt.Sprintf("%s sent to %s as %s", a.Kind, a.Destination, ackFileName(a))})
			return err
		}
		next := time.Now().Add(backoffDelay(a.Attempts+1, time.Second, 5*time.Minute))
		if a.Attempts+1 >= ackMaxAttempts {
			next = time.Time{}
		}
		if err2 := tx.MarkAckFailed(ctx, a.ID, err.Error(), next); err2 != nil {
			return err2
		}
		_, err2 := tx.AddEvent(ctx, store.EventInput{DocumentID: a.DocumentID, Actor: "system", Kind: "ack_failed",
			Reason: fmt.Sprintf("%s to %s: %v", a.Kind, a.Destination, err)})
		return err2
	})
	outcome := "sent"
	if err != nil {
		outcome = "failed"
		log.Warn("sending acknowledgement", "err", err)
	}
	p.d.Metrics.Acks.WithLabelValues(a.Kind, outcome).Inc()
	if werr != nil && ctx.Err() == nil {
		log.Error("recording acknowledgement outcome", "err", werr)
	}
}

// runDeliveries sends due deliveries to their backends, a few at a time.
func (p *Pipeline) runDeliveries(ctx context.Context) {
	const batch = 64
	pollLoop(ctx, 10*time.Millisecond, func(ctx context.Context) bool {
		due, err := p.d.Store.DueDeliveries(ctx, time.Now(), batch)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("reading due deliveries", "err", err)
			}
			return false
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, d := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				p.deliver(ctx, d)
			}()
		}
		wg.Wait()
		return len(due) == batch
	})
}

// deliver makes one attempt: lease the delivery, call the backend outside
// any transaction, record the outcome.
func (p *Pipeline) deliver(ctx context.Context, d store.Delivery) {
	log := p.log.With("order_id", d.OrderID, "backend", d.Backend, "delivery_id", d.ID)
	var rec store.OrderRecord
	err := p.d.Writer.InTx(ctx, func(sqlTx *sql.Tx) error {
		tx := p.d.Store.WrapTx(sqlTx)
		var err error
		if d, err = tx.StartAttempt(ctx, d.ID, time.Now().Add(time.Minute)); err != nil {
			return err
		}
		rec, err = tx.GetOrder(ctx, d.OrderID)
		return err
	})
	if err != nil {
		if !errors.Is(err, store.ErrTransition) && ctx.Err() == nil {
			log.Warn("starting delivery attempt", "err", err)
		}
		return
	}
	backend, ok := p.d.Backends[d.Backend]
	var receipt routing.Receipt
	if !ok {
		err = fmt.Errorf("%w: no backend named %q", routing.ErrPermanent, d.Backend)
	} else {
		var o *order.Order
		if o, err = rec.Order(); err == nil {
			o.ID = rec.ID
			var pl routing.Payload
			if pl, err = routing.RenderJSON(o); err == nil {
				receipt, err = backend.Deliver(ctx, routing.Delivery{Key: routing.DeliveryKey(d.OrderID, int(d.OrderRevision)),
					OrderID: d.OrderID, Revision: int(d.OrderRevision), Order: o, Payload: pl, Attempt: d.Attempts})
			}
		}
	}
	if ctx.Err() != nil && err != nil {
		return // the lease runs out and the delivery is tried again after a restart
	}
	cfgBackend, _ := p.d.Config().Backend(d.Backend)
	maxAttempts := cfgBackend.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	outcome := "sent"
	werr := p.d.Writer.InTx(context.WithoutCancel(ctx), func(sqlTx *sql.Tx) error {
		tx := p.d.Store.WrapTx(sqlTx)
		ev := store.EventInput{OrderID: d.OrderID, Actor: "system", Kind: "delivery_attempt"}
		switch {
		case err == nil:
			if _, err := tx.MarkDelivered(ctx, d.ID, receipt.ExternalRef); err != nil {
				return err
			}
			ev.Reason = fmt.Sprintf("delivered to %s (attempt %d) %s", d.Backend, d.Attempts, receipt.ExternalRef)
			if err := p.markOrder(ctx, tx, d.OrderID, order.StatusDelivered); err != nil {
				return err
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
			next := time.Now().Add(backoffDelay(d.Attempts, max(cfgBackend.InitialBackoff, 100*time.Millisecond), max(cfgBackend.MaxBackoff, time.Second)))
			if _, err := tx.MarkAttemptFailed(ctx, d.ID, next, err.Error()); err != nil {
				return err
			}
			ev.Reason = fmt.Sprintf("%s attempt %d failed, next at %s: %v", d.Backend, d.Attempts, next.UTC().Format(time.RFC3339), err)
		}
		data, _ := json.Marshal(map[string]any{"delivery_id": d.ID, "attempt": d.Attempts, "outcome": outcome})
		ev.Data = data
		_, err := tx.AddEvent(ctx, ev)
		return err
	})
	p.d.Metrics.Deliveries.WithLabelValues(d.Backend, outcome).Inc()
	if werr != nil {
		log.Error("recording delivery outcome", "err", werr)
	}
}

// markOrder sets an order's status once all its deliveries agree:
// delivered when none is left pending, failed as soon as one is dead.
func (p *Pipeline) markOrder(ctx context.Context, tx *store.Tx, orderID string, status order.Status) error {
	rec, err := tx.GetOrder(ctx, orderID)
	if err != nil {
		return err
	}
	if rec.Status == status || rec.Status == order.StatusFailed {
		return nil
	}
	o, err := rec.Order()
	if err != nil {
		return err
	}
	o.Status = status
	_, err = tx.UpdateOrder(ctx, store.OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o})
	return err
}

// runRetention trims queue rows every stage has consumed.
func (p *Pipeline) runRetention(ctx context.Context) {
	err := sqliteq.Retain(ctx, p.d.Writer, time.Minute, 10*time.Minute, p.wlog, Topics...)
	if err != nil && ctx.Err() == nil {
		p.log.Warn("queue retention stopped", "err", err)
	}
}
