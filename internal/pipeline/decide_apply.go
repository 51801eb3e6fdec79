package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// ErrNotHeld is returned by Approve and Reject for an order that does not
// wait for a decision.
var ErrNotHeld = errors.New("the order is not held")

// actorRules is the actor of the events the rules cause.
const actorRules = "rules"

// applyDecision carries a decision out on a received order.
func (p *Pipeline) applyDecision(ctx context.Context, tx *store.Tx, rec *store.OrderRecord, d rules.Decision) error {
	out := d.Order
	out.ID = rec.ID
	for _, ch := range d.Changes {
		data, _ := json.Marshal(ch)
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "changed", Reason: ch.Reason, Data: data}); err != nil {
			return err
		}
	}
	for _, n := range d.Notes {
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "note", Reason: n}); err != nil {
			return err
		}
	}
	if d.Replaces != "" {
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "replaces",
			Reason: "this order replaces order " + d.Replaces + " (same customer and purchase order number, other content)"}); err != nil {
			return err
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: d.Replaces, Actor: actorRules, Kind: "replaced",
			Reason: "replaced by order " + rec.ID}); err != nil {
			return err
		}
	}
	for _, t := range d.Tasks {
		task, created, err := tx.InsertTask(ctx, store.TaskInput{OrderID: rec.ID, CustomerID: out.CustomerID, Assignee: t.SalesRep,
			Email: t.Email, Text: t.Text, Wait: t.Wait})
		if err != nil {
			return err
		}
		if created {
			who := t.SalesRep
			if who == "" {
				who = "the sales rep"
			}
			if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "task",
				Reason: fmt.Sprintf("task %s for %s: %s", task.ID, who, t.Text)}); err != nil {
				return err
			}
		}
	}
	switch d.Outcome {
	case rules.OutcomeAccept:
		out.Status = order.StatusAccepted
	case rules.OutcomeHold:
		out.Status = order.StatusHeld
		out.Holds = rules.OrderHolds(d.Holds)
	default: // reject, drop
		out.Status = order.StatusRejected
	}
	updated, err := tx.UpdateOrder(ctx, store.OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: out, Read: rec})
	if err != nil {
		return err
	}
	p.d.Metrics.Orders.WithLabelValues(string(rec.Channel), "decide", string(out.Status)).Inc()
	switch d.Outcome {
	case rules.OutcomeAccept:
		reason := "accepted: every rule in force passed"
		if len(d.Changes) > 0 {
			reason = fmt.Sprintf("accepted with %d change(s) by the rules", len(d.Changes))
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "accepted", Reason: reason}); err != nil {
			return err
		}
		if err := p.respond(ctx, tx, &updated, out, d.Response, ""); err != nil {
			return err
		}
		stored, err := updated.OrderFrom(out)
		if err != nil {
			return fmt.Errorf("route: %w: %w", ErrPermanent, err)
		}
		return p.routeOrder(ctx, tx, &updated, stored)
	case rules.OutcomeHold:
		state := heldState{Approval: rules.NewApprovalState(d.Holds), Holds: d.Holds, Response: d.Response}
		b, err := json.Marshal(state)
		if err != nil {
			return err
		}
		if err := tx.PutApproval(ctx, rec.ID, store.ApprovalPending, b); err != nil {
			return err
		}
		for _, h := range d.Holds {
			data, _ := json.Marshal(h)
			if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "held",
				Reason: fmt.Sprintf("%s: %s (cleared by %s)", h.Label(), h.Reason, strings.Join(h.Levels, ", then ")), Data: data}); err != nil {
				return err
			}
		}
		cfg := p.d.Config()
		partner, ok := cfg.Partner(rec.PartnerID)
		pending := ok && partner.Acks.PendingResponse ||
			!ok && cfg.Mail.Confirmations.PendingResponse && mailChannel(out.Channel)
		if pending && d.Response != nil {
			return p.respond(ctx, tx, &updated, out, pendingResponse(out), "-pending")
		}
		return nil
	case rules.OutcomeReject:
		for _, h := range d.Rejections {
			data, _ := json.Marshal(h)
			if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "rejected", Reason: h.Label() + ": " + h.Reason, Data: data}); err != nil {
				return err
			}
		}
		return p.respond(ctx, tx, &updated, out, d.Response, "")
	default: // drop
		reasons := make([]string, 0, len(d.Rejections))
		for _, h := range d.Rejections {
			reasons = append(reasons, h.Reason)
		}
		_, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: actorRules, Kind: "dropped", Reason: strings.Join(reasons, "; ")})
		return err
	}
}

// pendingResponse is the "received, pending" answer to a held order for
// partners that want one at once: every line accepted as received,
// with a note that the order waits for a decision.
func pendingResponse(o *order.Order) *order.Response {
	return &order.Response{Status: order.ResponseAccepted, Notes: []string{"received; pending review"}}
}

// respond queues the order response for the order's partner in the acks
// outbox, in the format the partner wants (855, ORDRSP); suffix tells a
// pending answer from the final one. An order the partner's format
// cannot answer (it came through another channel) gets an event instead.
func (p *Pipeline) respond(ctx context.Context, tx *store.Tx, rec *store.OrderRecord, o *order.Order, r *order.Response, suffix string) error {
	if r == nil {
		return nil
	}
	cfg := p.d.Config()
	partner, ok := cfg.Partner(rec.PartnerID)
	byMail := cfg.Mail.Enabled() &&
		(ok && partner.Acks.OrderResponse == "email" || cfg.Mail.Confirmations.Enabled && mailChannel(o.Channel))
	if !ok {
		if byMail {
			return p.respondByMail(ctx, tx, rec, o, r, suffix)
		}
		return nil
	}
	var kind, base string
	switch partner.Acks.OrderResponse {
	case "855":
		kind, base = "855", store.Ack855
	case "ordrsp":
		kind, base = "ordrsp", store.AckORDRSP
	default:
		if byMail {
			return p.respondByMail(ctx, tx, rec, o, r, suffix)
		}
		return nil
	}
	doc, err := tx.GetDocument(ctx, rec.DocumentID)
	if err != nil {
		return err
	}
	body, err := ediproc.OrderResponse(ctx, kind, o, r, ediproc.ResponseOptions{Partner: PartnerSettings(partner),
		ControlNumber: func(partnerID, k string) (int64, error) { return tx.NextControlNumber(ctx, orNone(partnerID), k) },
		Now:           p.d.Now().UTC(), Pending: suffix == "-pending"})
	if errors.Is(err, ediproc.ErrNoResponse) && byMail {
		// The order came by e-mail, fax, web or phone: answer it so.
		return p.respondByMail(ctx, tx, rec, o, r, suffix)
	}
	if errors.Is(err, ediproc.ErrNoResponse) {
		_, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "response_skipped", Reason: err.Error()})
		return err
	}
	if err != nil {
		return err
	}
	dest := doc.Channel
	if partner.Acks.Via != "" {
		dest = partner.Acks.Via
	}
	ackKind := ResponseAckKind(base, rec.ID) + suffix
	_, created, err := tx.InsertAck(ctx, store.AckInput{DocumentID: rec.DocumentID, PartnerID: partner.ID, Kind: ackKind, Body: body, Destination: dest})
	if err != nil || !created {
		return err
	}
	_, err = tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "response",
		Reason: fmt.Sprintf("%s (%s) queued for %s via %s", strings.ToUpper(kind), r.Status, partner.ID, dest)})
	return err
}

// ResponseAckKind is the acks outbox kind of an order's response: the
// message type and the order id (a document can hold several orders).
func ResponseAckKind(base, orderID string) string { return base + "-" + orderID }

// Decision is a person's decision on a held order.
type Decision struct {
	OrderID string
	User    string
	// Role is the role the decision is made in. With Roles set (a person
	// authenticated by the UI or the API), it must be one of them, and
	// when empty the first of Roles the order waits for is taken. Without
	// Roles it is trusted as given (the gateway's own releases, such as a
	// sales rep's task done).
	Role  string
	Roles []string
	// MayOverride: the user is an administrator, who decides in place of
	// the roles the holds wait for when holding none of them; the trail
	// and the timeline record an override.
	MayOverride bool
	Comment     string
	Reject      bool
}

// decisionRole is the role a person decides in (see Decision), or
// override when an administrator holds none of the roles the order
// waits for.
func decisionRole(dec Decision, pending []string) (role string, override bool, err error) {
	if dec.Roles == nil && !dec.MayOverride {
		return dec.Role, false, nil
	}
	if dec.Role != "" {
		if slices.Contains(dec.Roles, dec.Role) {
			return dec.Role, false, nil
		}
		if dec.MayOverride {
			return "", true, nil
		}
		return "", false, fmt.Errorf("%w: %s does not hold the role %s (holds: %s)", rules.ErrWrongRole, dec.User, dec.Role, rolesOrNone(dec.Roles))
	}
	for _, r := range pending {
		if slices.Contains(dec.Roles, r) {
			return r, false, nil
		}
	}
	if dec.MayOverride {
		return "", true, nil
	}
	return "", false, fmt.Errorf("%w: %s holds %s; the order waits for %s", rules.ErrWrongRole, dec.User, rolesOrNone(dec.Roles), strings.Join(pending, ", "))
}

func rolesOrNone(roles []string) string {
	if len(roles) == 0 {
		return "no approval role"
	}
	return strings.Join(roles, ", ")
}

// DecisionResult says where a held order stands after a decision.
type DecisionResult struct {
	OrderID string       `json:"order_id"`
	Status  order.Status `json:"status"`
	// Role is the role the decision was made in; Override says it was an
	// administrator's override.
	Role     string              `json:"role"`
	Override bool                `json:"override,omitempty"`
	Pending  []string            `json:"pending_roles,omitempty"`
	State    rules.ApprovalState `json:"approval"`
}

// Decide records a person's approval or rejection of a held order. The
// approval state machine checks the role (and that no user approves two
// levels of a hold). When the last level approves, the order is accepted,
// answered and routed in the same transaction; a rejection rejects it and
// answers the sender.
func (p *Pipeline) Decide(ctx context.Context, dec Decision) (DecisionResult, error) {
	var res DecisionResult
	err := p.write(ctx, func(tx *store.Tx, _ message.Publisher) error {
		var err error
		res, err = p.decideHeld(ctx, tx, dec)
		return err
	})
	return res, err
}

func (p *Pipeline) decideHeld(ctx context.Context, tx *store.Tx, dec Decision) (DecisionResult, error) {
	res := DecisionResult{OrderID: dec.OrderID}
	rec, err := tx.GetOrder(ctx, dec.OrderID)
	if err != nil {
		return res, err
	}
	appr, err := tx.GetApproval(ctx, dec.OrderID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && appr.Status != store.ApprovalPending) || rec.Status != order.StatusHeld {
		return res, fmt.Errorf("%w: order %s is %s", ErrNotHeld, dec.OrderID, rec.Status)
	}
	if err != nil {
		return res, err
	}
	var state heldState
	if err := json.Unmarshal(appr.State, &state); err != nil {
		return res, fmt.Errorf("reading the approval state of %s: %w", dec.OrderID, err)
	}
	now := p.d.Now().UTC()
	role, override, err := decisionRole(dec, state.Approval.PendingRoles())
	if err != nil {
		return res, err
	}
	switch {
	case override:
		role = rules.RoleOverride + " override"
		state.Approval, err = rules.Override(state.Approval, !dec.Reject, dec.User, dec.Comment, now)
	case dec.Reject:
		state.Approval, err = rules.Reject(state.Approval, role, dec.User, dec.Comment, now)
	default:
		state.Approval, err = rules.Approve(state.Approval, role, dec.User, dec.Comment, now)
	}
	if err != nil {
		return res, err
	}
	dec.Role = role
	status := store.ApprovalPending
	switch state.Approval.Status {
	case rules.ApprovalApproved:
		status = store.ApprovalApproved
	case rules.ApprovalRejected:
		status = store.ApprovalRejected
	}
	b, err := json.Marshal(state)
	if err != nil {
		return res, err
	}
	if err := tx.PutApproval(ctx, dec.OrderID, status, b); err != nil {
		return res, err
	}
	kind := "approved"
	if dec.Reject {
		kind = "rejected"
	}
	reason := fmt.Sprintf("%s as %s", kind, dec.Role)
	if dec.Comment != "" {
		reason += ": " + dec.Comment
	}
	data, _ := json.Marshal(map[string]any{"role": dec.Role, "override": override, "pending_roles": state.Approval.PendingRoles()})
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: dec.OrderID, Actor: dec.User, Kind: kind, Reason: reason, Data: data}); err != nil {
		return res, err
	}
	res.State, res.Pending, res.Status = state.Approval, state.Approval.PendingRoles(), rec.Status
	res.Role, res.Override = role, override
	o, err := rec.Order()
	if err != nil {
		return res, err
	}
	o.ID = rec.ID
	switch state.Approval.Status {
	case rules.ApprovalApproved:
		o.Status, o.Holds = order.StatusAccepted, nil
		updated, err := tx.UpdateOrder(ctx, store.OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o, Read: &rec})
		if err != nil {
			return res, err
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: dec.User, Kind: "accepted", Reason: "every hold cleared"}); err != nil {
			return res, err
		}
		if err := p.respond(ctx, tx, &updated, o, state.Response, ""); err != nil {
			return res, err
		}
		stored, err := updated.OrderFrom(o)
		if err != nil {
			return res, fmt.Errorf("route: %w: %w", ErrPermanent, err)
		}
		if err := p.routeOrder(ctx, tx, &updated, stored); err != nil {
			return res, err
		}
		res.Status = order.StatusRouted
	case rules.ApprovalRejected:
		o.Status = order.StatusRejected
		updated, err := tx.UpdateOrder(ctx, store.OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o, Read: &rec})
		if err != nil {
			return res, err
		}
		why := "rejected by " + dec.Role
		if dec.Comment != "" {
			why += ": " + dec.Comment
		}
		resp := rules.RejectedResponse(o, why, order.Date{})
		if err := p.respond(ctx, tx, &updated, o, resp, ""); err != nil {
			return res, err
		}
		res.Status = order.StatusRejected
	}
	return res, nil
}

// CompleteTask marks a sales rep's task done, on the order's timeline.
// When the order waits for the rep (a notes hold), that is the rep's
// release: the notes hold is approved in the notes role, and the order
// goes on if nothing else holds it.
func (p *Pipeline) CompleteTask(ctx context.Context, id, user string) (store.Task, error) {
	var task store.Task
	err := p.write(ctx, func(tx *store.Tx, _ message.Publisher) error {
		var err error
		if task, err = tx.CompleteTask(ctx, id, user); err != nil {
			return err
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: task.OrderID, Actor: user, Kind: "task_done", Reason: "task " + id + " done: " + task.Text}); err != nil {
			return err
		}
		if !task.Wait {
			return nil
		}
		appr, err := tx.GetApproval(ctx, task.OrderID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil || appr.Status != store.ApprovalPending {
			return err
		}
		var state heldState
		if err := json.Unmarshal(appr.State, &state); err != nil {
			return err
		}
		role := p.d.Config().RulesFor("").HoldRoles[rules.RuleNotes]
		if role == "" {
			role = "sales-rep"
		}
		for _, h := range state.Approval.Holds {
			if h.Rule == rules.RuleNotes && h.Next() == role {
				_, err := p.decideHeld(ctx, tx, Decision{OrderID: task.OrderID, User: user, Role: role, Comment: "task " + id + " done"})
				return err
			}
		}
		return nil
	})
	return task, err
}
