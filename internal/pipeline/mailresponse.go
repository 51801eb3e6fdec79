package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/internal/mailer"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// MailDestination is the acks outbox destination of e-mails: the mail
// outbound sends the stored mailer.Message (JSON).
const MailDestination = "mail"

// AckEmail is the acks outbox kind of an order's confirmation e-mail (with
// the order id appended, like the other responses).
const AckEmail = "EMAIL"

// mailChannels are the channels whose customers get their answer by
// e-mail when confirmations are on.
func mailChannel(c order.Channel) bool {
	return c == order.ChannelEmail || c == order.ChannelFax || c == order.ChannelWeb || c == order.ChannelPhone
}

// respondByMail queues the e-mail answer to an order: to the sender of
// the mail or fax it came in, else to the customer's address in master
// data. An order without an address gets an event saying so.
func (p *Pipeline) respondByMail(ctx context.Context, tx *store.Tx, rec *store.OrderRecord, o *order.Order, r *order.Response, suffix string) error {
	cfg := p.d.Config()
	doc, err := tx.GetDocument(ctx, rec.DocumentID)
	if err != nil {
		return err
	}
	to := ""
	if o.Channel == order.ChannelEmail || o.Channel == order.ChannelFax {
		to = doc.Metadata["from"]
	}
	if to == "" && o.CustomerID != "" {
		if c, err := tx.GetCustomer(ctx, o.CustomerID); err == nil {
			to = c.Email
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if to == "" {
		_, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "response_skipped",
			Reason: "no e-mail address for the confirmation (no sender, no customer e-mail in master data)"})
		return err
	}
	orig := mailer.Original{From: to, Subject: doc.Metadata["subject"], MessageID: doc.Metadata["message_id"]}
	msg, err := confirmationMail(cfg.Mail.Company, orig, o, r)
	if suffix == "-pending" {
		msg, err = pendingMail(cfg.Mail.Company, orig, o), nil
	}
	if err != nil {
		return err
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, created, err := tx.InsertAck(ctx, store.AckInput{DocumentID: rec.DocumentID, PartnerID: rec.PartnerID,
		Kind: ResponseAckKind(AckEmail, rec.ID) + suffix, Body: body, Destination: MailDestination})
	if err != nil || !created {
		return err
	}
	_, err = tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, Actor: "system", Kind: "response",
		Reason: fmt.Sprintf("confirmation e-mail (%s%s) queued to %s", r.Status, suffix, maskAddress(to))})
	return err
}

// confirmationMail is the answer to an order: the confirmation with its
// lines, each change and rejection as a note; a rejected order says so.
func confirmationMail(company string, orig mailer.Original, o *order.Order, r *order.Response) (*mailer.Message, error) {
	d := mailer.ConfirmationData{Company: company, OrderID: o.ID, PONumber: o.PONumber, Customer: o.CustomerID}
	if !o.RequestedDelivery.IsZero() {
		d.RequestedDelivery = o.RequestedDelivery.String()
	}
	for _, l := range o.Lines {
		d.Lines = append(d.Lines, mailer.Line{LineNo: l.LineNo, SKU: l.SKU, Description: l.Description, Quantity: l.Quantity.String(), Unit: l.Unit})
	}
	for _, lr := range r.Lines {
		if lr.Status == order.ResponseAccepted {
			continue
		}
		note := fmt.Sprintf("line %s: %s", lr.LineNo, lr.Status)
		if lr.Quantity != nil {
			note += ", quantity " + lr.Quantity.String()
		}
		if lr.UnitPrice != nil {
			note += ", price " + lr.UnitPrice.String()
		}
		if lr.Reason != "" {
			note += " (" + lr.Reason + ")"
		}
		d.Notes = append(d.Notes, note)
	}
	d.Notes = append(d.Notes, r.Notes...)
	if r.Status == order.ResponseRejected {
		text := fmt.Sprintf("Ihre Bestellung %s wurde nicht angenommen. / Your order %s was not accepted.\n\n%s\n",
			o.PONumber, o.PONumber, strings.Join(d.Notes, "\n"))
		if company != "" {
			text += "\n" + company + "\n"
		}
		to := orig.From
		return &mailer.Message{To: []string{to}, Subject: "Bestellung nicht angenommen / Order not accepted: " + o.PONumber,
			Text: text, InReplyTo: orig.MessageID, AutoReply: true}, nil
	}
	return mailer.Confirmation(orig, d)
}

// pendingMail is the "received, pending" answer to a held order: the
// order arrived and is being checked; the confirmation follows once it
// is decided.
func pendingMail(company string, orig mailer.Original, o *order.Order) *mailer.Message {
	text := fmt.Sprintf("Ihre Bestellung %s ist eingegangen und wird geprüft; die Bestätigung folgt.\n"+
		"Your order %s was received and is being reviewed; the confirmation follows.\n", o.PONumber, o.PONumber)
	if company != "" {
		text += "\n" + company + "\n"
	}
	return &mailer.Message{To: []string{orig.From}, Subject: "Bestellung eingegangen / Order received: " + o.PONumber,
		Text: text, InReplyTo: orig.MessageID, AutoReply: true}
}

// maskAddress keeps an address's domain for logs and timelines.
func maskAddress(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return "…" + a[i:]
	}
	return "…"
}
