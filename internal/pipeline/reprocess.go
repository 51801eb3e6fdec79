package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// ErrNothingToReprocess is returned for an id with nothing to do: an order
// without dead deliveries (and no reroute asked), a delivery that is
// pending.
var ErrNothingToReprocess = errors.New("nothing to reprocess")

// ReprocessOptions say what Reprocess does and who asked.
type ReprocessOptions struct {
	// Reroute routes the orders again under the current configuration (a
	// new revision, new deliveries), instead of retrying their dead
	// deliveries.
	Reroute bool
	Actor   string // who asked: a user, "cli"
	Comment string
}

// Reprocessed is what Reprocess did with one id.
type Reprocessed struct {
	ID         string   `json:"id"`
	OrderID    string   `json:"order_id,omitempty"`
	Action     string   `json:"action,omitempty"` // retry | reroute
	Deliveries []string `json:"deliveries,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// Reprocess retries dead letters or re-routes orders after a fix of the
// configuration or of a backend: ids are delivery ids (dlv_...: that
// delivery is tried again) or order ids (ord_...: the order's dead
// deliveries are tried again; with Reroute, the order is routed anew).
// Each id is done in its own transaction with an event on the order's
// timeline; the delivery worker sends what is due. It works from another
// process too (the CLI), since all it changes is in the store.
func (p *Pipeline) Reprocess(ctx context.Context, ids []string, opts ReprocessOptions) []Reprocessed {
	if opts.Actor == "" {
		opts.Actor = "system"
	}
	out := make([]Reprocessed, 0, len(ids))
	for _, id := range ids {
		var r Reprocessed
		err := p.write(ctx, func(tx *store.Tx, pub message.Publisher) error {
			r = Reprocessed{ID: id} // afresh on a retried transaction
			return p.reprocessOne(ctx, tx, pub, id, opts, &r)
		})
		if err != nil {
			r.ID, r.Error = id, err.Error()
		}
		out = append(out, r)
	}
	return out
}

func (p *Pipeline) reprocessOne(ctx context.Context, tx *store.Tx, _ message.Publisher, id string, opts ReprocessOptions, r *Reprocessed) error {
	var dels []store.Delivery
	switch {
	case strings.HasPrefix(id, "dlv_"):
		d, err := tx.GetDelivery(ctx, id)
		if err != nil {
			return err
		}
		if opts.Reroute {
			return p.reroute(ctx, tx, d.OrderID, opts, r)
		}
		dels = []store.Delivery{d}
		r.OrderID = d.OrderID
	case strings.HasPrefix(id, "ord_"):
		if opts.Reroute {
			return p.reroute(ctx, tx, id, opts, r)
		}
		all, err := tx.DeliveriesOfOrder(ctx, id)
		if err != nil {
			return err
		}
		// Only the latest routing counts: deliveries of an earlier
		// revision were superseded by a reroute.
		var latest int64
		for _, d := range all {
			latest = max(latest, d.OrderRevision)
		}
		for _, d := range all {
			if d.Status == store.DeliveryDead && d.OrderRevision == latest {
				dels = append(dels, d)
			}
		}
		r.OrderID = id
		if len(dels) == 0 {
			if _, err := tx.GetOrder(ctx, id); err != nil {
				return err
			}
			return fmt.Errorf("%w: order %s has no dead delivery (reroute routes it again)", ErrNothingToReprocess, id)
		}
	default:
		return fmt.Errorf("%q is neither an order id (ord_...) nor a delivery id (dlv_...)", id)
	}
	r.Action = "retry"
	for _, d := range dels {
		// Only a dead letter is retried: a sent delivery is sent again
		// only by an explicit reroute.
		if d.Status != store.DeliveryDead {
			return fmt.Errorf("%w: delivery %s is %s (only dead deliveries are retried; reroute sends the order again)", ErrNothingToReprocess, d.ID, d.Status)
		}
		if _, err := tx.ResetDelivery(ctx, d.ID); err != nil {
			return err
		}
		r.Deliveries = append(r.Deliveries, d.ID)
	}
	rec, err := tx.GetOrder(ctx, r.OrderID)
	if err != nil {
		return err
	}
	if rec.Status == order.StatusFailed || rec.Status == order.StatusDelivered {
		if _, err := tx.SetOrderStatus(ctx, rec.ID, rec.Revision, order.StatusRouted); err != nil {
			return err
		}
	}
	_, err = tx.AddEvent(ctx, store.EventInput{OrderID: r.OrderID, Actor: opts.Actor, Kind: "reprocess",
		Reason: strings.TrimSpace(fmt.Sprintf("retry of %s %s", strings.Join(r.Deliveries, ", "), opts.Comment))})
	return err
}

// reroute routes an order again under the current configuration: a new
// revision, accepted, then the route stage's work (new deliveries, keyed
// by the new revision).
func (p *Pipeline) reroute(ctx context.Context, tx *store.Tx, orderID string, opts ReprocessOptions, r *Reprocessed) error {
	rec, err := tx.GetOrder(ctx, orderID)
	if err != nil {
		return err
	}
	switch rec.Status {
	case order.StatusAccepted, order.StatusRouted, order.StatusDelivered, order.StatusFailed:
	default:
		return fmt.Errorf("%w: order %s is %s; only accepted, routed, delivered or failed orders are routed again", ErrNothingToReprocess, orderID, rec.Status)
	}
	all, err := tx.DeliveriesOfOrder(ctx, orderID)
	if err != nil {
		return err
	}
	for _, d := range all {
		if d.Status == store.DeliveryPending || d.Status == store.DeliverySending {
			// The old route's open deliveries are abandoned: dead, with the reason.
			if _, err := tx.MarkDead(ctx, d.ID, "superseded by a reroute"); err != nil && !errors.Is(err, store.ErrTransition) {
				return err
			}
		}
	}
	accepted, err := tx.SetOrderStatus(ctx, rec.ID, rec.Revision, order.StatusAccepted)
	if err != nil {
		return err
	}
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: orderID, Actor: opts.Actor, Kind: "reprocess",
		Reason: strings.TrimSpace("reroute under the current configuration " + opts.Comment)}); err != nil {
		return err
	}
	r.OrderID, r.Action = orderID, "reroute"
	o, err := accepted.Order()
	if err != nil {
		return fmt.Errorf("route: %w: %w", ErrPermanent, err)
	}
	o.ID = accepted.ID
	if err := p.routeOrder(ctx, tx, &accepted, o); err != nil {
		return err
	}
	now, err := tx.DeliveriesOfOrder(ctx, orderID)
	if err != nil {
		return err
	}
	for _, d := range now {
		if d.OrderRevision > rec.Revision {
			r.Deliveries = append(r.Deliveries, d.ID)
		}
	}
	return nil
}
