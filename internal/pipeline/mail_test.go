package pipeline_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/channels"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// mailWith builds a mail from from with a text body and, when name is
// set, one base64 attachment.
func mailWith(from, subject, body, name, ctype string, att []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: orders@toolsupply.example\r\nSubject: %s\r\nMessage-ID: <%x@test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n",
		from, subject, sha256.Sum256([]byte(subject)))
	if name == "" {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", body)
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	fmt.Fprintf(&b, "--XX\r\nContent-Type: %s; name=%q\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--XX--\r\n",
		ctype, name, name, base64.StdEncoding.EncodeToString(att))
	return []byte(b.String())
}

// TestMailDocuments: mails from an IMAP channel are classified at the
// parse stage: an EDI attachment takes the EDI path, a newsletter is kept
// but not processed, a fax without capture is rejected with the reason.
func TestMailDocuments(t *testing.T) { forEachDriver(t, testMailDocuments) }

func testMailDocuments(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	docs := []channels.Document{
		{SourceKey: "m1", Name: "po.eml", Body: channels.BytesBody(mailWith("buyer@baumarkt-nord.de", "PO 4711", "see attachment",
			"po.x12", "application/edi-x12", fixtures.X12850(77, "PO-MAIL-EDI", 2)))},
		{SourceKey: "m2", Name: "news.eml", Body: channels.BytesBody(mailWith("news@shop.example", "Our autumn offers", "Unsubscribe here", "", "", nil))},
		{SourceKey: "m3", Name: "fax.eml", Body: channels.BytesBody(mailWith("fax@fax.example.com", "Fax from +49 40 1234", "fax attached",
			"fax.pdf", "application/pdf", []byte("%PDF-1.4\n%fake\n")))},
	}
	for i := range docs {
		docs[i].Channel, docs[i].Received = "mail", time.Now()
		docs[i].SHA256 = sha256.Sum256(mustBytes(t, docs[i].Body))
	}
	taken, err := h.p.TakeBatch(h.ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range taken {
		if tk.Doc.Standard != "EMAIL" {
			t.Errorf("document %s standard %q, want EMAIL", tk.Doc.ID, tk.Doc.Standard)
		}
	}
	edi := h.waitDoc(taken[0].Doc.ID, store.DocumentParsed)
	rec := h.orderOf(edi.ID, order.StatusDelivered)
	if rec.PONumber != "PO-MAIL-EDI" || rec.PartnerID != "baumarkt-nord" {
		t.Errorf("order from the EDI attachment: %+v", rec)
	}
	news := h.waitDoc(taken[1].Doc.ID, store.DocumentParsed)
	if !strings.Contains(news.Error, "not an order") {
		t.Errorf("newsletter: %q, want it marked not an order", news.Error)
	}
	if recs, _ := h.st.OrdersOfDocument(h.ctx, news.ID); len(recs) != 0 {
		t.Errorf("%d orders from a newsletter", len(recs))
	}
	fax := h.waitDoc(taken[2].Doc.ID, store.DocumentRejected)
	if !strings.Contains(fax.Error, "capture") {
		t.Errorf("fax without capture: %q", fax.Error)
	}
	if ks := h.documentKinds(taken[2].Doc.ID); !slices.Contains(ks, "classified") {
		t.Errorf("fax document events %v lack the classification", ks)
	}
}

func mustBytes(t *testing.T, b *channels.Body) []byte {
	t.Helper()
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitDoc waits until document id has status want.
func (h *harness) waitDoc(id string, want store.DocumentStatus) store.Document {
	h.t.Helper()
	var doc store.Document
	h.eventually(fmt.Sprintf("document %s %s", id, want), func() (bool, string) {
		var err error
		doc, err = h.st.GetDocument(h.ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return doc.Status == want, fmt.Sprintf("status %s (%s)", doc.Status, doc.Error)
	})
	return doc
}

// TestMailCaptureFails: a fax nothing can be read from is rejected with
// the reason and its sender asked to send it again.
func TestMailCaptureFails(t *testing.T) { forEachDriver(t, testMailCaptureFails) }

func testMailCaptureFails(t *testing.T) {
	h := newHarness(t, harnessOptions{capture: func(context.Context, pipeline.CaptureInput) ([]*order.Order, error) {
		return nil, errors.New("the PDF is broken")
	}})
	doc := channels.Document{Channel: "mail", SourceKey: "f", Name: "fax.eml", Received: time.Now(),
		Body: channels.BytesBody(mailWith("fax@fax.example.com", "Fax from 040 1234567", "fax", "fax.pdf", "application/pdf", []byte("%PDF-1.4 broken")))}
	taken, err := h.p.TakeBatch(h.ctx, []channels.Document{doc})
	if err != nil {
		t.Fatal(err)
	}
	got := h.waitDoc(taken[0].Doc.ID, store.DocumentRejected)
	if !strings.Contains(got.Error, "the PDF is broken") {
		t.Errorf("rejection %q lacks the reason", got.Error)
	}
	acks, err := h.st.AcksOfDocument(h.ctx, got.ID)
	if err != nil || len(acks) != 1 || acks[0].Kind != "RESEND" || acks[0].Destination != pipeline.MailDestination ||
		!strings.Contains(string(acks[0].Body), "fax@fax.example.com") {
		t.Errorf("acks = %+v, %v; want one please-resend mail to the fax sender", acks, err)
	}
}

// TestMailDeliveredTwice: the same mail delivered twice (only a trace
// header differs, so the source keys differ) is one document and one
// draft; the second is a duplicate naming the first. A mail without a
// Message-ID is recognised by its content without the trace headers; a
// mail from another sender reusing a Message-ID is not merged.
func TestMailDeliveredTwice(t *testing.T) { forEachDriver(t, testMailDeliveredTwice) }

func testMailDeliveredTwice(t *testing.T) {
	var captured int
	h := newHarness(t, harnessOptions{capture: func(_ context.Context, in pipeline.CaptureInput) ([]*order.Order, error) {
		captured++
		return []*order.Order{{PONumber: "PO-TWICE", Status: order.StatusReview}}, nil
	}})
	orderMail := mailWith("einkauf@baumarkt-nord.de", "Bestellung", "10 x SCR-100", "", "", nil)
	noID := []byte(strings.Replace(string(mailWith("einkauf@baumarkt-nord.de", "Bestellung ohne ID", "5 x SCR-200", "", "", nil)),
		"Message-ID:", "X-Old-Message-ID:", 1))
	otherSender := []byte(strings.Replace(string(orderMail), "einkauf@baumarkt-nord.de", "someone@else.example", 1))
	received := func(raw []byte, hop int) []byte {
		return append([]byte(fmt.Sprintf("Received: from mx%d.example by imap.example; Fri, 27 Nov 2026 10:0%d:00 +0000\r\nReturn-Path: <b%d@x>\r\n", hop, hop, hop)), raw...)
	}
	bodies := [][]byte{received(orderMail, 1), received(orderMail, 2), received(noID, 1), received(noID, 2), otherSender}
	var docs []channels.Document
	for i, b := range bodies {
		docs = append(docs, channels.Document{Channel: "mail", SourceKey: fmt.Sprintf("k%d", i), Name: "m.eml", Received: time.Now(),
			Body: channels.BytesBody(b), SHA256: sha256.Sum256(b)})
	}
	var taken []pipeline.Taken
	for _, d := range docs {
		tk, err := h.p.TakeBatch(h.ctx, []channels.Document{d})
		if err != nil {
			t.Fatal(err)
		}
		taken = append(taken, tk...)
	}
	for i, want := range []store.DocumentStatus{store.DocumentParsed, store.DocumentDuplicate, store.DocumentParsed, store.DocumentDuplicate, store.DocumentParsed} {
		got := h.waitDoc(taken[i].Doc.ID, want)
		if want != store.DocumentDuplicate {
			continue
		}
		if first := taken[i-1].Doc.ID; !strings.Contains(got.Error, first) {
			t.Errorf("mail %d: duplicate reason %q does not name the first document %s", i, got.Error, first)
		}
		if ks := h.documentKinds(got.ID); !slices.Contains(ks, store.EventDuplicate) {
			t.Errorf("mail %d: events %v lack a duplicate event", i, ks)
		}
		if recs, _ := h.st.OrdersOfDocument(h.ctx, got.ID); len(recs) != 0 {
			t.Errorf("mail %d: %d orders from a duplicate mail", i, len(recs))
		}
	}
	if captured != 3 {
		t.Errorf("capture ran %d times, want 3 (once per distinct mail)", captured)
	}
}

// counter reads a counter of the pipeline's metrics by its labels (0 when
// it has none).
func counter(t *testing.T, p *pipeline.Pipeline, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := pipeline.MetricsOf(p).Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestCaptureMetricsPerFaxSender: faxes from two senders through one fax
// service count per fax number (last digits hidden), not under the
// service's domain; a fax without a number in its subject counts under
// its matched customer; the per-field accuracy after review counts under
// the same sender.
func TestCaptureMetricsPerFaxSender(t *testing.T) { forEachDriver(t, testCaptureMetricsPerFaxSender) }

func testCaptureMetricsPerFaxSender(t *testing.T) {
	h := newHarness(t, harnessOptions{capture: func(_ context.Context, in pipeline.CaptureInput) ([]*order.Order, error) {
		q := decimal.MustParse("5")
		return []*order.Order{{PONumber: "PO-" + in.Subject[len(in.Subject)-3:], CustomerID: "C-1001", Currency: "EUR", Status: order.StatusReview, Source: order.Source{Standard: "PDF"},
			Lines:      []order.Line{{LineNo: "1", Quantity: q, Unit: "EA", SKU: "SCR-100"}},
			Confidence: map[string]float64{"po_number": 0.99, "lines[0].quantity": 0.4}}}, nil
	}})
	subjects := []string{"Fax from +49 40 1234567", "Fax from +49 89 5550123", "Fax from +49 40 1234567", "Fax received"}
	var docs []channels.Document
	for i, s := range subjects {
		raw := mailWith("gateway@fax.example.com", s+fmt.Sprint(i), "fax", "fax.pdf", "application/pdf", []byte("%PDF-1.4\n"))
		docs = append(docs, channels.Document{Channel: "mail", SourceKey: fmt.Sprint("fax", i), Name: "fax.eml", Received: time.Now(),
			Body: channels.BytesBody(raw), SHA256: sha256.Sum256(raw), Meta: map[string]string{"from": "gateway@fax.example.com", "subject": s}})
	}
	taken, err := h.p.TakeBatch(h.ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range taken {
		h.waitDoc(tk.Doc.ID, store.DocumentParsed)
	}
	for label, want := range map[string]float64{"fax:49401234xxx": 2, "fax:49895550xxx": 1, "fax:customer:C-1001": 1, "fax.example.com": 0} {
		if got := counter(t, h.p, "ordergate_captured_total", map[string]string{"sender": label, "outcome": "review"}); got != want {
			t.Errorf("captured_total{sender=%q} = %v, want %v", label, got, want)
		}
	}
	rec := h.orderOf(taken[1].Doc.ID, order.StatusReview)
	draft, err := rec.Order()
	if err != nil {
		t.Fatal(err)
	}
	corrected := *draft
	corrected.Lines = []order.Line{draft.Lines[0]}
	corrected.Lines[0].Quantity = decimal.MustParse("50")
	if err := h.p.AcceptDraft(h.ctx, rec.ID, &corrected, "dora", "", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field, outcome string
	}{{"lines.quantity", "corrected"}, {"po_number", "correct"}} {
		if got := counter(t, h.p, "ordergate_reviewed_fields_total", map[string]string{"sender": "fax:49895550xxx", "field": c.field, "outcome": c.outcome}); got != 1 {
			t.Errorf("reviewed_fields_total{%s,%s} = %v, want 1", c.field, c.outcome, got)
		}
	}
}

// TestMailNoOrderAsksToResend: a fax in which capture found no order is
// rejected and its sender asked to send it again, unless the channel
// says please_resend: false.
func TestMailNoOrderAsksToResend(t *testing.T) { forEachDriver(t, testMailNoOrderAsksToResend) }

func testMailNoOrderAsksToResend(t *testing.T) {
	h := newHarness(t, harnessOptions{capture: func(context.Context, pipeline.CaptureInput) ([]*order.Order, error) {
		return nil, nil
	}})
	for _, tt := range []struct {
		channel string
		acks    int
	}{{"mail", 1}, {"mail-quiet", 0}} {
		raw := mailWith("fax@fax.example.com", "Fax from 040 1234567 to "+tt.channel, "fax", "fax.pdf", "application/pdf", []byte("%PDF-1.4 blank"))
		doc := channels.Document{Channel: tt.channel, SourceKey: tt.channel, Name: "fax.eml", Received: time.Now(), Body: channels.BytesBody(raw)}
		taken, err := h.p.TakeBatch(h.ctx, []channels.Document{doc})
		if err != nil {
			t.Fatal(err)
		}
		got := h.waitDoc(taken[0].Doc.ID, store.DocumentRejected)
		if !strings.Contains(got.Error, "no order found") {
			t.Errorf("%s: rejection %q", tt.channel, got.Error)
		}
		acks, err := h.st.AcksOfDocument(h.ctx, got.ID)
		if err != nil || len(acks) != tt.acks || (tt.acks == 1 && (acks[0].Kind != "RESEND" || !strings.Contains(string(acks[0].Body), "fax@fax.example.com"))) {
			t.Errorf("%s: acks = %+v, %v; want %d please-resend mail(s) to the fax sender", tt.channel, acks, err, tt.acks)
		}
	}
}
