package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/internal/capture"
	"github.com/ordergate/ordergate/internal/store"
	ncapture "github.com/ordergate/ordergate/normalize/capture"
	"github.com/ordergate/ordergate/normalize/order"
)

// ErrNotInReview is returned for a draft that is not waiting for review.
var ErrNotInReview = errors.New("the order is not in review")

// AcceptDraft records a reviewer's acceptance of a captured draft (an
// order in review): the corrected order replaces the draft (its id,
// channel and source stay), the corrections go on the timeline, and the
// order continues in the pipeline (normalize, decide, route) like any
// other.
func (p *Pipeline) AcceptDraft(ctx context.Context, id string, corrected *order.Order, user, comment string, changes any) error {
	if corrected == nil {
		return errors.New("accept draft: no order")
	}
	return p.write(ctx, func(tx *store.Tx, pub message.Publisher) error {
		rec, err := tx.GetOrder(ctx, id)
		if err != nil {
			return err
		}
		if rec.Status != order.StatusReview {
			return fmt.Errorf("%w: order %s is %s", ErrNotInReview, id, rec.Status)
		}
		draft, err := rec.Order()
		if err != nil {
			return err
		}
		o := *corrected
		o.ID, o.Channel, o.Source, o.Status = id, draft.Channel, draft.Source, order.StatusReceived
		o.Holds = nil
		if err := o.Validate(); err != nil {
			return fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		if _, err := tx.UpdateOrder(ctx, store.OrderUpdate{ID: id, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: &o}); err != nil {
			return err
		}
		// Per-field accuracy after review: each captured field the
		// reviewer kept is correct, each one changed was not.
		if doc, err := tx.GetDocument(ctx, rec.DocumentID); err == nil {
			sender := captureSender(doc, draft)
			out := capture.Compare(draft, &o)
			wrong := map[string]bool{}
			for _, w := range out.Wrong {
				wrong[w] = true
			}
			for path := range draft.Confidence {
				field, outcome := fieldClass(path), "correct"
				if wrong[path] {
					outcome = "corrected"
				}
				p.d.Metrics.ReviewedFields.WithLabelValues(sender, field, outcome).Inc()
			}
		}
		// The reviewer's corrections are labelled data: with the sender
		// they let `ordergate capture propose` learn a profile.
		doc, _ := tx.GetDocument(ctx, rec.DocumentID)
		read := func(path string) string {
			where, _ := draft.Provenance.Get(path)
			return ncapture.ReadText(where)
		}
		corrections := ncapture.Corrections(doc.Metadata["from"], draft, &o, read, ncapture.PageSize(draft))
		data, _ := json.Marshal(map[string]any{"changes": changes, "sender": doc.Metadata["from"], "corrections": corrections})
		reason := "draft accepted after review"
		if comment != "" {
			reason += ": " + comment
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: id, Actor: user, Kind: "review_accepted", Reason: reason, Data: data}); err != nil {
			return err
		}
		return publish(pub, TopicOrderParsed, nil, payload{OrderID: id})
	})
}

// RejectDraft records a reviewer's rejection of a draft: the order is
// rejected with the reason on its timeline.
func (p *Pipeline) RejectDraft(ctx context.Context, id, user, comment string) error {
	return p.write(ctx, func(tx *store.Tx, _ message.Publisher) error {
		rec, err := tx.GetOrder(ctx, id)
		if err != nil {
			return err
		}
		if rec.Status != order.StatusReview {
			return fmt.Errorf("%w: order %s is %s", ErrNotInReview, id, rec.Status)
		}
		if _, err := tx.SetOrderStatus(ctx, id, rec.Revision, order.StatusRejected); err != nil {
			return err
		}
		reason := "draft rejected in review"
		if comment != "" {
			reason += ": " + comment
		}
		_, err = tx.AddEvent(ctx, store.EventInput{OrderID: id, Actor: user, Kind: "review_rejected", Reason: reason})
		return err
	})
}

// fieldClass names a field path for metrics without its line index:
// "lines[3].quantity" is "lines.quantity".
func fieldClass(path string) string {
	if i := strings.IndexByte(path, '['); i >= 0 {
		if j := strings.IndexByte(path[i:], ']'); j >= 0 {
			return path[:i] + path[i+j+1:]
		}
	}
	return path
}
