package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing"
	"github.com/ordergate/ordergate/routing/routetable"
)

// Duplicate policies (partner config "duplicates").
const (
	policyReject     = "reject"
	policyAckAndDrop = "ack-and-drop"
	policyHold       = "hold"
)

// parse decodes a received document, stores its orders and its acks, and
// publishes order.parsed for each order. A document not in "received"
// state was parsed before (a redelivered message): nothing happens. Small
// documents are parsed at intake (see TakeBatch); this stage takes the
// large ones and those whose interchanges were seen before.
func (p *Pipeline) parse(ctx context.Context, tx *store.Tx, pub message.Publisher, msg *message.Message, pl payload) error {
	doc, err := tx.GetDocument(ctx, pl.DocumentID)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("parse: %w: %w", ErrPermanent, err)
	}
	if err != nil {
		return err
	}
	if doc.Status != store.DocumentReceived {
		return nil
	}
	cfg := p.d.Config()
	rc, err := p.d.Store.Archive().Open(doc.SHA256)
	if err != nil {
		return fmt.Errorf("parse: opening %s: %w", doc.ID, err)
	}
	defer rc.Close()
	if doc.Standard == StandardOrderJSON {
		o, perr := decodeOrderJSON(rc)
		return p.storeOrderJSON(ctx, tx, pub, msg, doc, o, perr)
	}
	if doc.Standard == StandardEmail {
		return p.parseMail(ctx, tx, pub, msg, doc, rc)
	}
	opts := ediproc.Options{
		Partner: Resolver(cfg, doc.Channel, doc.PartnerID),
		Duplicate: func(std edi.Standard, env edi.Envelope, partner ediproc.Partner) (bool, error) {
			return p.claimInterchange(ctx, tx, doc.ID, std, env, partner)
		},
		ControlNumber: func(partnerID, kind string) (int64, error) {
			return tx.NextControlNumber(ctx, orNone(partnerID), kind)
		},
		Now: p.d.Now,
	}
	sum, err := p.d.Processor.Process(ctx, rc, doc.Filename, opts, func(m *ediproc.Message) error {
		return p.recordMessage(ctx, tx, pub, msg, doc, m, nil, false)
	})
	if err != nil {
		return fmt.Errorf("parse: %s: %w", doc.ID, err)
	}
	return p.finishDocument(ctx, tx, doc, sum)
}

// claimInterchange claims an interchange's envelope key for the document
// (the envelope layer of duplicate detection) and reports whether it was
// held by another document, with a "duplicate" event on this one.
func (p *Pipeline) claimInterchange(ctx context.Context, tx *store.Tx, docID string, std edi.Standard, env edi.Envelope, partner ediproc.Partner) (bool, error) {
	holder, err := tx.ClaimKey(ctx, store.LayerEnvelope, envelopeKey(std, env), docID, "", p.d.Config().Pipeline.DuplicateWindow)
	if err != nil || holder == nil {
		return false, err
	}
	_, err = tx.AddEvent(ctx, store.EventInput{DocumentID: docID, Actor: "system", Kind: "duplicate",
		Reason: fmt.Sprintf("interchange %s from %s was received before in document %s (policy %s)",
			env.InterchangeControl, env.SenderID, holder.FirstDocumentID, policyOf(partner))})
	return true, err
}

// recordMessage stores what parsing found in one message: an order (with
// its "parsed" event and its order.parsed message), or an event saying why
// there is none. When stored is not nil (intake), an order for the
// normalize stage is added to it instead of getting its message: intake
// normalizes it in the same transaction (normalizeParsed).
//
// With hold (intake without savepoints), an order intake normalizes is
// not inserted here: it gets its id and its "parsed" event (held back
// with the transaction's other events), and normalizeParsed inserts it
// right before normalizing it, its row held back until the automatic
// stages are done with it (store.OrderInput.Hold): written once instead
// of inserted and updated.
func (p *Pipeline) recordMessage(ctx context.Context, tx *store.Tx, pub message.Publisher, parent *message.Message, doc store.Document, m *ediproc.Message, stored *[]parsedOrder, hold bool) error {
	switch {
	case m.Duplicate && policyOf(m.Partner) != policyHold:
		return nil
	case !m.Accepted:
		_, err := tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: "message_rejected",
			Reason: fmt.Sprintf("%s %s %s: %s", m.Standard, m.Type, m.Envelope.MessageControl, joinErrors(m.Errors, 5))})
		return err
	case m.Order == nil:
		_, err := tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: "message_skipped",
			Reason: fmt.Sprintf("%s %s %s is not a purchase order", m.Standard, m.Type, m.Envelope.MessageControl)})
		return err
	}
	o := m.Order
	o.Status = order.StatusReceived
	o.Provenance = o.Provenance.Sorted() // at once when intake sorted it (preParse)
	if m.Duplicate {
		o.Status = order.StatusHeld
		o.Holds = append(o.Holds, order.Hold{Rule: "duplicate", Reason: "the interchange " + m.Envelope.InterchangeControl + " was received before"})
	}
	in := store.OrderInput{DocumentID: doc.ID, MessageIndex: m.Index, PartnerID: m.Partner.ID, Order: o}
	// Held: not inserted here, only given its id (normalizeParsed
	// inserts it, after its event, which is held back until then).
	held := hold && stored != nil && !p.stagesOnly && !m.Duplicate && len(*stored) < p.intakeNormalizeMax && tx.DeferringEvents()
	var rec store.OrderRecord
	if held {
		o.ID = tx.NewOrderID()
		rec.ID = o.ID
	} else {
		var created bool
		var err error
		if rec, created, err = tx.InsertOrder(ctx, in); err != nil || !created {
			return err
		}
	}
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, DocumentID: doc.ID, Actor: "system", Kind: "parsed",
		Reason: fmt.Sprintf("%s %s message %s from partner %s", m.Standard, m.Type, m.Envelope.MessageControl, orNone(m.Partner.ID))}); err != nil {
		return err
	}
	p.d.Metrics.Orders.WithLabelValues(string(o.Channel), "parse", string(o.Status)).Inc()
	if held {
		in.Hold = true
		*stored = append(*stored, parsedOrder{in: &in})
		return nil
	}
	if m.Duplicate {
		_, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "held", Reason: o.Holds[len(o.Holds)-1].Reason})
		return err
	}
	if stored != nil && !p.stagesOnly {
		// Intake normalizes it in this transaction (normalizeParsed), as
		// decoding the stored JSON gives it (OrderFrom).
		if so, err := rec.OrderFrom(o); err == nil {
			*stored = append(*stored, parsedOrder{rec: rec, o: so})
			return nil
		}
	}
	return publish(pub, TopicOrderParsed, parent, payload{OrderID: rec.ID})
}

// finishDocument stores a parsed document's acks and its outcome.
func (p *Pipeline) finishDocument(ctx context.Context, tx *store.Tx, doc store.Document, sum *ediproc.Summary) error {
	if err := p.storeAcks(ctx, tx, doc, sum); err != nil {
		return err
	}
	status, reason := documentOutcome(sum)
	if err := tx.SetDocumentOutcome(ctx, doc.ID, firstPartner(sum, doc.PartnerID), sum.Standard.String(), status, reason); err != nil {
		return err
	}
	summary := fmt.Sprintf("%d message(s), %d accepted, %d order(s)", sum.Messages, sum.Accepted, sum.Orders)
	if reason != "" {
		summary += ": " + reason
	}
	if _, err := tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: string(status), Reason: summary}); err != nil {
		return err
	}
	p.d.Metrics.Documents.WithLabelValues(doc.Channel, string(status)).Inc()
	return nil
}

// storeAcks queues each ack for the ack sender; the bytes are kept in
// the ack's row (no archive fsync under the write lock).
func (p *Pipeline) storeAcks(ctx context.Context, tx *store.Tx, doc store.Document, sum *ediproc.Summary) error {
	cfg := p.d.Config()
	for _, a := range sum.Acks {
		dest := doc.Channel
		if pt, ok := cfg.Partner(a.PartnerID); ok && pt.Acks.Via != "" {
			dest = pt.Acks.Via
		}
		if _, _, err := tx.InsertAck(ctx, store.AckInput{DocumentID: doc.ID, PartnerID: a.PartnerID, Kind: a.Kind, Body: a.Body, Destination: dest}); err != nil {
			return err
		}
	}
	return nil
}

// documentOutcome is the document's status after parsing.
func documentOutcome(sum *ediproc.Summary) (store.DocumentStatus, string) {
	if len(sum.Errors) > 0 {
		return store.DocumentRejected, joinErrors(sum.Errors, 3)
	}
	dups, rejected := 0, 0
	var errs []error
	for _, ic := range sum.Interchanges {
		if ic.Duplicate {
			dups++
		}
		if ic.Rejected {
			rejected++
			errs = append(errs, ic.Errors...)
		}
	}
	switch {
	case len(sum.Interchanges) > 0 && dups == len(sum.Interchanges):
		return store.DocumentDuplicate, "every interchange was received before"
	case sum.Accepted == 0 && len(errs) > 0:
		return store.DocumentRejected, joinErrors(errs, 3)
	case sum.Accepted == 0:
		return store.DocumentRejected, "no message was accepted"
	}
	return store.DocumentParsed, ""
}

func firstPartner(sum *ediproc.Summary, fallback string) string {
	for _, ic := range sum.Interchanges {
		if ic.PartnerKnown {
			return ic.Partner.ID
		}
	}
	return fallback
}

func joinErrors(errs []error, most int) string {
	var parts []string
	for i, e := range errs {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-most))
			break
		}
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func policyOf(p ediproc.Partner) string {
	if p.Duplicates == "" {
		return policyReject
	}
	return p.Duplicates
}

// normalize resolves an order against master data: our customer (from
// the order, a party cross-reference or the partner's account), ship-to,
// each line's SKU and unit; what it cannot resolve is recorded on the
// order. Then the decide stage runs in the same transaction.
func (p *Pipeline) normalize(ctx context.Context, tx *store.Tx, pub message.Publisher, msg *message.Message, pl payload) error {
	rec, err := loadRecord(ctx, tx, pl.OrderID, order.StatusReceived)
	if err != nil || rec == nil {
		return err
	}
	o, err := rec.Order()
	if err != nil {
		return fmt.Errorf("normalize %s: %w: %w", rec.ID, ErrPermanent, err)
	}
	return p.normalizeOrder(ctx, tx, newMasterReads(tx), rec, o)
}

// normalizeOrder resolves a received order against the master data and
// runs the automatic stages on it in tx: decide, and route what it
// accepts. o is rec's order (as rec.Order() gives it), which it changes.
// reads are tx's master data lookups (newMasterReads), which orders of
// one transaction share.
func (p *Pipeline) normalizeOrder(ctx context.Context, tx *store.Tx, reads *masterReads, rec *store.OrderRecord, o *order.Order) error {
	// Normalize, decide and route each write the order's row: the store
	// writes the last of them only, once, at the flush below.
	tx.DeferOrderWrites(rec.ID)
	// Its events are written in a few statements: at the end, or with
	// those of the rest of the transaction when its caller holds events
	// back already (intake, which normalizes a batch of orders).
	batched := tx.DeferringEvents()
	tx.DeferEvents()
	cfg := p.d.Config()
	partner, _ := cfg.Partner(rec.PartnerID)
	o.ID = rec.ID
	res, err := masterdata.ResolveWith(ctx, reads, o, rec.PartnerID, partner.CustomerID)
	if err != nil {
		return fmt.Errorf("normalize %s: %w", rec.ID, err)
	}
	sh := shipToOf(res)
	sh.Hash = ContentHash(o, sh.Code)
	updated, err := tx.UpdateOrder(ctx, store.OrderUpdate{ID: rec.ID, Revision: rec.Revision, PartnerID: rec.PartnerID, Order: o, Read: rec,
		ContentHash: sh.Hash})
	if err != nil {
		return err
	}
	resolved := 0
	for _, l := range res.Lines {
		if l.SKU != "" {
			resolved++
		}
	}
	customer := res.CustomerID
	if customer == "" {
		customer = "(unresolved)"
	} else if res.CustomerFrom != "" {
		customer += " from " + res.CustomerFrom
	}
	reason := fmt.Sprintf("customer %s; %d of %d line(s) resolved to our items", customer, resolved, len(o.Lines))
	if res.ShipToNew {
		reason += "; the ship-to is new"
	}
	if len(res.Unresolved) > 0 {
		reason += "; unresolved: " + unresolvedSummary(res.Unresolved)
	}
	data, _ := json.Marshal(normalizedData{ShipToNew: res.ShipToNew, Unresolved: res.Unresolved})
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "normalized", Reason: reason, Data: data}); err != nil {
		return err
	}
	p.d.Metrics.Orders.WithLabelValues(string(rec.Channel), "normalize", string(updated.Status)).Inc()
	// The automatic stages run on in this transaction: decide, and route
	// what it accepts, with the order as stored, not decoded again. Their
	// topics stay for the orders that reach them another way (a human's
	// approval, a reprocess).
	stored, err := updated.OrderFrom(o)
	if err != nil {
		return fmt.Errorf("normalize %s: %w: %w", rec.ID, ErrPermanent, err)
	}
	if err := p.decideOrder(ctx, tx, reads, &updated, stored, sh); err != nil {
		return err
	}
	if err := tx.FlushOrderWrites(ctx); err != nil {
		return err
	}
	if batched {
		return nil
	}
	return tx.FlushEvents(ctx)
}

// unresolvedReasons is how many unresolved fields a "normalized" event's
// reason names; its data lists them all.
const unresolvedReasons = 5

// unresolvedSummary names the first unresolvedReasons of the unresolved
// fields and counts the rest: an order of a partner whose items are not
// mapped yet has one per line, and the event's data has the list.
func unresolvedSummary(unresolved []string) string {
	if len(unresolved) <= unresolvedReasons {
		return strings.Join(unresolved, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(unresolved[:unresolvedReasons], "; "), len(unresolved)-unresolvedReasons)
}

// normalizedData is the data of a "normalized" event (the keys in the
// order a map of them is written in).
type normalizedData struct {
	ShipToNew  bool     `json:"ship_to_new"`
	Unresolved []string `json:"unresolved"`
}

// decide applies the rule set to an order that reaches the topic (the
// automatic path decides in the normalize stage's transaction), with the
// ship-to the master-data resolver finds for it.
func (p *Pipeline) decide(ctx context.Context, tx *store.Tx, pub message.Publisher, msg *message.Message, pl payload) error {
	rec, err := loadRecord(ctx, tx, pl.OrderID, order.StatusReceived)
	if err != nil || rec == nil {
		return err
	}
	o, err := rec.Order()
	if err != nil {
		return fmt.Errorf("decide %s: %w: %w", rec.ID, ErrPermanent, err)
	}
	o.ID = rec.ID
	partner, _ := p.d.Config().Partner(rec.PartnerID)
	sh, err := resolveShipTo(ctx, tx, o, rec.PartnerID, partner.CustomerID)
	if err != nil {
		return fmt.Errorf("decide %s: %w", rec.ID, err)
	}
	return p.decideOrder(ctx, tx, tx, rec, o, sh)
}

// route picks the backends for an accepted order that reached the topic
// (the automatic path routes in the decide stage's transaction).
func (p *Pipeline) route(ctx context.Context, tx *store.Tx, _ message.Publisher, msg *message.Message, pl payload) error {
	rec, err := loadRecord(ctx, tx, pl.OrderID, order.StatusAccepted)
	if err != nil || rec == nil {
		return err
	}
	o, err := rec.Order()
	if err != nil {
		return fmt.Errorf("route: %w: %w", ErrPermanent, err)
	}
	o.ID = rec.ID
	return p.routeOrder(ctx, tx, rec, o)
}

// lineAttributes returns the product master's attributes of each line's
// (resolved) SKU, by line index, for order.lines[i].attributes in route
// conditions: nil for a line without a SKU or with an unknown one. One
// query for all lines.
func lineAttributes(ctx context.Context, tx *store.Tx, o *order.Order) ([]map[string]string, error) {
	skus := make([]string, 0, len(o.Lines))
	for _, l := range o.Lines {
		if l.SKU != "" {
			skus = append(skus, l.SKU)
		}
	}
	if len(skus) == 0 {
		return nil, nil
	}
	products, err := tx.Products(ctx, skus)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(o.Lines))
	for i, l := range o.Lines {
		if p, ok := products[l.SKU]; ok && l.SKU != "" {
			out[i] = p.Attributes
		}
	}
	return out, nil
}

// routeOrder matches an accepted order against the route table and
// queues one delivery per backend of the matching routes in the routing
// outbox, in the route's format (rendered here, once, so every attempt
// sends the same bytes); the delivery worker sends them. o is rec's order
// (rec.Order(), with o.ID set), which routeOrder does not change.
func (p *Pipeline) routeOrder(ctx context.Context, tx *store.Tx, rec *store.OrderRecord, o *order.Order) error {
	cfg := p.d.Config()
	tab, err := p.routes.of(cfg)
	if err != nil {
		return fmt.Errorf("route: %w: %w", ErrPermanent, err)
	}
	attrs, err := lineAttributes(ctx, tx, o)
	if err != nil {
		return fmt.Errorf("route %s: %w", rec.ID, err)
	}
	targets, err := targetsOf(cfg, tab, routetable.Input{Order: o, Partner: rec.PartnerID, LineAttributes: attrs})
	if err != nil {
		return fmt.Errorf("route %s: %w", rec.ID, err)
	}
	revision, err := tx.SetOrderStatusRevision(ctx, rec.ID, rec.Revision, order.StatusRouted)
	if err != nil {
		return err
	}
	var names []string
	for _, t := range targets {
		in := store.DeliveryInput{OrderID: rec.ID, OrderRevision: revision, Route: t.route, Backend: t.backend, Format: string(t.format)}
		if t.format != routing.FormatJSON {
			if in.Payload, err = p.render(ctx, tx, cfg, o, t); err != nil {
				return fmt.Errorf("route %s: rendering %s for %s: %w", rec.ID, t.format, t.backend, err)
			}
		}
		if _, _, err := tx.InsertDelivery(ctx, in); err != nil {
			return err
		}
		names = append(names, fmt.Sprintf("%s -> %s (%s)", t.route, t.backend, t.format))
	}
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "routed", Reason: strings.Join(names, ", ")}); err != nil {
		return err
	}
	if p.needOrder(targets) {
		// For the delivery worker, which checks it against what was
		// committed (this transaction may yet roll back).
		routed := *o
		routed.Status = order.StatusRouted
		p.routed.put([]storedOrder{{rec.ID, revision, &routed}})
	}
	p.d.Metrics.Orders.WithLabelValues(string(rec.Channel), "route", string(order.StatusRouted)).Inc()
	return nil
}

// needOrder reports whether a target's backend takes the order's fields
// (is no routing.PayloadBackend): only then is the routed order handed
// off to the delivery worker.
func (p *Pipeline) needOrder(targets []target) bool {
	if len(targets) == 0 {
		return false
	}
	backends, release := p.backends()
	defer release()
	for _, t := range targets {
		if _, payloadOnly := backends[t.backend].(routing.PayloadBackend); !payloadOnly {
			return true
		}
	}
	return false
}

// loadRecord reads an order's row for a stage that does not need its
// content; nil (and err nil) when the order is no longer in the state the
// stage handles (a redelivery).
func loadRecord(ctx context.Context, tx *store.Tx, id string, want order.Status) (*store.OrderRecord, error) {
	rec, err := tx.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	if err != nil || rec.Status != want {
		return nil, err
	}
	return &rec, nil
}
