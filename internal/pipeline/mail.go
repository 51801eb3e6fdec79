package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/mailer"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/mail"
	"github.com/ordergate/ordergate/normalize/order"
)

// StandardEmail is the documents' standard of mails (RFC 5322 bytes from
// an IMAP channel).
const StandardEmail = "EMAIL"

// ContentTypeEmail is their content type.
const ContentTypeEmail = "message/rfc822"

// maxMailBytes bounds a mail the parse stage reads (the channel's own
// limit is usually lower).
const maxMailBytes = 64 << 20

// CaptureInput is what capture gets from a classified mail: the kind (fax
// or e-mail order) and its parts.
type CaptureInput struct {
	Kind    mail.Kind
	Channel string
	Sender  string
	Subject string
	// PartnerID is the partner the channel or the sender's address
	// belongs to ("" when none).
	PartnerID string
	Class     mail.Classification
}

// Capture turns a classified mail into draft orders: each with
// Confidence and Boxes, Status review when a person must look, received
// when every field is sure. An error means the document could not be
// read at all (it is rejected with the reason).
type Capture func(ctx context.Context, in CaptureInput) ([]*order.Order, error)

// parseMail reads a mail document: EDI attachments take the EDI path
// (orders and acknowledgements as from a file), faxes and order mails go
// to capture (draft orders, in review when unsure), other mails are kept,
// visible and not processed.
func (p *Pipeline) parseMail(ctx context.Context, tx *store.Tx, pub message.Publisher, msg *message.Message, doc store.Document, r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, maxMailBytes+1))
	if err != nil {
		return fmt.Errorf("parse: reading mail %s: %w", doc.ID, err)
	}
	cfg := p.d.Config()
	ch, _ := cfg.Channel(doc.Channel)
	reject := func(reason string) error {
		if err := tx.SetDocumentStatus(ctx, doc.ID, store.DocumentRejected, reason); err != nil {
			return err
		}
		_, err := tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: string(store.DocumentRejected), Reason: reason})
		p.d.Metrics.Documents.WithLabelValues(doc.Channel, string(store.DocumentRejected)).Inc()
		return err
	}
	if len(raw) > maxMailBytes {
		return reject(fmt.Sprintf("the mail is larger than %d bytes", maxMailBytes))
	}
	limits := mail.Limits{}
	if ch.MaxMessageBytes > 0 {
		limits.MaxBytes = int64(ch.MaxMessageBytes)
	}
	m, err := mail.Parse(raw, limits)
	if err != nil {
		return reject("the mail cannot be read: " + err.Error())
	}
	partnerID := doc.PartnerID
	if partnerID == "" {
		partnerID = partnerOfSender(cfg, m.From)
	}
	rules := mail.Rules{Mode: ch.Kind, FaxSenders: ch.FaxSenders, OrderSenders: OrderSenders(cfg)}
	if rules.Mode == "" {
		rules.Mode = "auto"
	}
	cls := mail.Classify(m, rules)
	if _, err := tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: "classified",
		Reason: fmt.Sprintf("%s: %s", cls.Kind, cls.Reason)}); err != nil {
		return err
	}
	switch cls.Kind {
	case mail.KindEDI:
		return p.parseMailEDI(ctx, tx, pub, msg, doc, cls, partnerID)
	case mail.KindFax, mail.KindEmailOrder:
		if p.d.Capture == nil {
			return reject("capture of " + string(cls.Kind) + " mails is not configured in this gateway")
		}
		drafts, err := p.d.Capture(ctx, CaptureInput{Kind: cls.Kind, Channel: doc.Channel, Sender: m.From, Subject: m.Subject, PartnerID: partnerID, Class: cls})
		if err != nil {
			if err := p.askToResend(ctx, tx, doc, m, cls, err); err != nil {
				return err
			}
			return reject("nothing could be read from the " + string(cls.Kind) + ": " + err.Error())
		}
		for i, o := range drafts {
			// The mail's kind says how the order came: a fax service's
			// PDF is a fax even when it has a text layer.
			switch {
			case cls.Kind == mail.KindFax:
				o.Channel = order.ChannelFax
			case o.Channel == "":
				o.Channel = order.ChannelEmail
			}
			o.Source.MessageID = m.MessageID
			if err := p.recordDraft(ctx, tx, pub, msg, doc, i, o, partnerID); err != nil {
				return err
			}
		}
		status, reason := store.DocumentParsed, ""
		if len(drafts) == 0 {
			status, reason = store.DocumentRejected, "no order found in the "+string(cls.Kind)
			if err := p.askToResend(ctx, tx, doc, m, cls, errors.New(reason)); err != nil {
				return err
			}
		}
		if err := tx.SetDocumentStatus(ctx, doc.ID, status, reason); err != nil {
			return err
		}
		p.d.Metrics.Documents.WithLabelValues(doc.Channel, string(status)).Inc()
		return nil
	default:
		// Not an order: kept and visible, nothing to do. The document is
		// done (the mail is moved like any other).
		if err := tx.SetDocumentStatus(ctx, doc.ID, store.DocumentParsed, "not an order: "+cls.Reason); err != nil {
			return err
		}
		p.d.Metrics.Documents.WithLabelValues(doc.Channel, "not_an_order").Inc()
		return nil
	}
}

// recordDraft stores one captured order of a mail (message index i).
func (p *Pipeline) recordDraft(ctx context.Context, tx *store.Tx, pub message.Publisher, parent *message.Message, doc store.Document, i int, o *order.Order, partnerID string) error {
	if o.Status != order.StatusReview {
		o.Status = order.StatusReceived
	}
	rec, created, err := tx.InsertOrder(ctx, store.OrderInput{DocumentID: doc.ID, MessageIndex: i, PartnerID: partnerID, Order: o})
	if err != nil || !created {
		return err
	}
	kind, reason := "parsed", fmt.Sprintf("%s order %s captured from %s", o.Channel, orNone(o.PONumber), doc.Filename)
	if o.Status == order.StatusReview {
		kind, reason = "review", reason+"; fields below the confidence threshold wait for a person"
	}
	if _, err := tx.AddEvent(ctx, store.EventInput{OrderID: rec.ID, DocumentID: doc.ID, Actor: "system", Kind: kind, Reason: reason}); err != nil {
		return err
	}
	p.d.Metrics.Orders.WithLabelValues(string(o.Channel), "parse", string(o.Status)).Inc()
	outcome := "touchless"
	if o.Status == order.StatusReview {
		outcome = "review"
	}
	p.d.Metrics.Captured.WithLabelValues(captureSender(doc, o), outcome).Inc()
	if o.Status == order.StatusReview {
		return nil
	}
	return publish(pub, TopicOrderParsed, parent, payload{OrderID: rec.ID})
}

// parseMailEDI processes the EDI attachments of a mail as files: their
// messages become orders (numbered on after each other), their acks go to
// the partners like any file's.
func (p *Pipeline) parseMailEDI(ctx context.Context, tx *store.Tx, pub message.Publisher, msg *message.Message, doc store.Document, cls mail.Classification, partnerID string) error {
	cfg := p.d.Config()
	total := &ediproc.Summary{}
	base := 0
	for _, att := range cls.EDI {
		opts := ediproc.Options{
			Partner: Resolver(cfg, doc.Channel, partnerID),
			Duplicate: func(std edi.Standard, env edi.Envelope, partner ediproc.Partner) (bool, error) {
				return p.claimInterchange(ctx, tx, doc.ID, std, env, partner)
			},
			ControlNumber: func(partner, kind string) (int64, error) { return tx.NextControlNumber(ctx, orNone(partner), kind) },
			Now:           p.d.Now,
		}
		next := base
		sum, err := p.d.Processor.Process(ctx, bytes.NewReader(att.Data), att.Name, opts, func(m *ediproc.Message) error {
			m.Index += base
			next = max(next, m.Index+1)
			return p.recordMessage(ctx, tx, pub, msg, doc, m, nil, false)
		})
		if err != nil {
			return fmt.Errorf("parse: %s attachment %s: %w", doc.ID, att.Name, err)
		}
		base = next
		mergeSummary(total, sum)
	}
	return p.finishDocument(ctx, tx, doc, total)
}

// mergeSummary adds b's counts, acks, errors and interchanges to a.
func mergeSummary(a, b *ediproc.Summary) {
	if a.Standard == edi.Unknown {
		a.Standard = b.Standard
	}
	a.Messages += b.Messages
	a.Accepted += b.Accepted
	a.Orders += b.Orders
	a.Acks = append(a.Acks, b.Acks...)
	a.Errors = append(a.Errors, b.Errors...)
	a.Interchanges = append(a.Interchanges, b.Interchanges...)
}

// OrderSenders are the partners' e-mail address globs: their mails are
// order mails.
func OrderSenders(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Partners {
		out = append(out, p.Match.EmailFrom...)
	}
	return out
}

// partnerOfSender is the partner whose email_from globs match addr.
func partnerOfSender(cfg *config.Config, addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	for _, p := range cfg.Partners {
		for _, g := range p.Match.EmailFrom {
			if ok, err := path.Match(strings.ToLower(g), addr); err == nil && ok {
				return p.ID
			}
		}
	}
	return ""
}

// askToResend answers a fax or order mail nothing could be read from with
// a "please resend" mail to its sender, when mail is configured.
func (p *Pipeline) askToResend(ctx context.Context, tx *store.Tx, doc store.Document, m *mail.Mail, cls mail.Classification, why error) error {
	cfg := p.d.Config()
	if ch, ok := cfg.Channel(doc.Channel); !cfg.Mail.Enabled() || m.From == "" || (ok && !ch.PleaseResend) {
		return nil
	}
	to := m.From
	if m.ReplyTo != "" {
		to = m.ReplyTo
	}
	msg, err := mailer.PleaseResend(mailer.Original{From: to, Subject: m.Subject, MessageID: m.MessageID},
		mailer.ResendData{Company: cfg.Mail.Company, Reason: "we could not read an order from your " + string(cls.Kind),
			Problems: append(append([]string(nil), cls.Problems...), why.Error())})
	if err != nil {
		return err
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, _, err := tx.InsertAck(ctx, store.AckInput{DocumentID: doc.ID, Kind: "RESEND", Body: body, Destination: MailDestination}); err != nil {
		return err
	}
	_, err = tx.AddEvent(ctx, store.EventInput{DocumentID: doc.ID, Actor: "system", Kind: "response",
		Reason: "please-resend mail queued to " + maskAddress(to)})
	return err
}

// senderLabel is a sender for metrics: the domain of its address, never
// the address.
func senderLabel(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 {
		return strings.ToLower(strings.Trim(from[i+1:], "> "))
	}
	return "unknown"
}
