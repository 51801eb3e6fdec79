package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// Canonical order documents: the web API, the order desk and the capture
// of e-mails and faxes hand over an order already in the canonical JSON
// form. They take the same intake as EDI files (raw bytes archived, one
// document row keyed by the source key) and become one order each.
const (
	// StandardOrderJSON is the documents' "standard" column for them.
	StandardOrderJSON = "ORDER-JSON"
	// ContentTypeOrderJSON is their content type.
	ContentTypeOrderJSON = "application/vnd.ordergate.order+json"
	// maxOrderJSON is the largest canonical order document accepted.
	maxOrderJSON = 16 << 20
)

// isOrderJSON reports whether a document's first bytes open a JSON object.
func isOrderJSON(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}

// DecodeOrderJSON reads a canonical order document as intake does.
func DecodeOrderJSON(r io.Reader) (*order.Order, error) { return decodeOrderJSON(r) }

// decodeOrderJSON reads a canonical order document: the JSON of the
// contract, no unknown fields, one object, valid by order.Validate.
func decodeOrderJSON(r io.Reader) (*order.Order, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxOrderJSON+1))
	if err != nil {
		return nil, fmt.Errorf("reading the order: %w", err)
	}
	if len(b) > maxOrderJSON {
		return nil, fmt.Errorf("the order document is larger than %d bytes", maxOrderJSON)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var o order.Order
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("the order is not canonical order JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("the order document has data after the order object")
	}
	if o.Status != "" && o.Status != order.StatusReceived && o.Status != order.StatusReview {
		return nil, fmt.Errorf("an incoming order cannot have status %q", o.Status)
	}
	if o.ID != "" && !validOrderID(o.ID) {
		return nil, fmt.Errorf("order id %q is not an ordergate order id (ord_ and 26 ULID characters)", o.ID)
	}
	if o.Source.Standard == "" {
		o.Source.Standard = "json"
	}
	if o.Status == "" {
		o.Status = order.StatusReceived
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &o, nil
}

// validOrderID reports whether id has the form the store gives ids:
// "ord_" and a 26-character Crockford base32 ULID.
func validOrderID(id string) bool {
	rest, ok := strings.CutPrefix(id, "ord_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, c := range rest {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", c) {
			return false
		}
	}
	return true
}

// storeOrderJSON records a canonical order document in tx: the order (with
// the id it carries, if any), its "parsed" event and order.parsed, and the
// document's outcome; a document that is no valid order is rejected with
// the reason. It is idempotent like InsertOrder.
func (p *Pipeline) storeOrderJSON(ctx context.Context, tx *store.Tx, pub message.Publisher, parent *message.Message, doc store.Document, o *order.Order, perr error) error {
	if perr == nil && o.ID != "" {
		if held, err := tx.GetOrder(ctx, o.ID); err == nil && held.DocumentID != doc.ID {
			perr = fmt.Errorf("order id %s is taken by another order", o.ID)
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if perr != nil {
		reason := perr.Error()
		if err := tx.SetDocumentStatus(ctx, doc.ID, store.DocumentRejected, reason); err != nil {
			return err
		}
		if _, err := tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: string(store.DocumentRejected), Reason: reason}); err != nil {
			return err
		}
		p.d.Metrics.Documents.WithLabelValues(doc.Channel, string(store.DocumentRejected)).Inc()
		return nil
	}
	if o.Source.File == "" {
		o.Source.File = doc.Filename
	}
	rec, created, err := tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, MessageIndex: 0, PartnerID: doc.PartnerID, Order: o})
	if err != nil {
		return err
	}
	if err := tx.SetDocumentStatus(ctx, doc.ID, store.DocumentParsed, ""); err != nil {
		return err
	}
	if !created {
		return nil
	}
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, DocumentID: doc.ID, Actor: "system", Kind: "parsed",
		Reason: fmt.Sprintf("%s order %s from channel %s", o.Channel, orNone(o.PONumber), doc.Channel)}); err != nil {
		return err
	}
	p.d.Metrics.Documents.WithLabelValues(doc.Channel, string(store.DocumentParsed)).Inc()
	p.d.Metrics.Orders.WithLabelValues(string(o.Channel), "parse", string(o.Status)).Inc()
	if o.Status == order.StatusReview {
		// A draft waits for a person (the review queue); accepting it
		// publishes order.parsed.
		return nil
	}
	return publish(pub, TopicOrderParsed, parent, payload{OrderID: rec.ID})
}
