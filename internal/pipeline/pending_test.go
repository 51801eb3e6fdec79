package pipeline_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// ackOf waits for the document's ack of kind and returns it.
func (h *harness) ackOf(docID, kind string) store.Ack {
	h.t.Helper()
	var found store.Ack
	h.eventually("the "+kind, func() (bool, string) {
		acks, err := h.st.AcksOfDocument(h.ctx, docID)
		if err != nil {
			return false, err.Error()
		}
		var kinds []string
		for _, a := range acks {
			if a.Kind == kind {
				found = a
				return true, ""
			}
			kinds = append(kinds, a.Kind)
		}
		return false, fmt.Sprint(kinds)
	})
	return found
}

// TestPendingResponseORDRSP: an EDIFACT partner that wants an immediate
// answer gets an ORDRSP "received" (BGM 1225 29, no lines) while the
// order is held, and the final one once it is decided.
func TestPendingResponseORDRSP(t *testing.T) { forEachDriver(t, testPendingResponseORDRSP) }

func testPendingResponseORDRSP(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: creditRules, response: `ordrsp, pending_response: true`})
	h.putCustomer("100.00", "90.00")
	h.src.push("big", fixtures.EDIFACTOrders(7, "PO-ORDRSP-PENDING", 3))
	doc := h.documentIn("big", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusHeld)
	pending := h.ackOf(doc.ID, pipeline.ResponseAckKind(store.AckORDRSP, rec.ID)+"-pending")
	for _, want := range []string{"BGM+231+PO-ORDRSP-PENDING+29'", "FTX+AAI"} {
		if !bytes.Contains(pending.Body, []byte(want)) {
			t.Errorf("pending ORDRSP lacks %s:\n%s", want, pending.Body)
		}
	}
	if bytes.Contains(pending.Body, []byte("LIN+")) {
		t.Errorf("pending ORDRSP has lines:\n%s", pending.Body)
	}
	if _, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: rec.ID, User: "ann", Role: "approver"}); err != nil {
		t.Fatal(err)
	}
	final := h.ackOf(doc.ID, pipeline.ResponseAckKind(store.AckORDRSP, rec.ID))
	if !bytes.Contains(final.Body, []byte("LIN+1+")) {
		t.Errorf("final ORDRSP has no lines:\n%s", final.Body)
	}
}

// TestPendingResponseEmail: a partner answered by e-mail that wants an
// immediate answer gets a "received, pending" mail while the order is
// held, and the confirmation once it is decided.
func TestPendingResponseEmail(t *testing.T) { forEachDriver(t, testPendingResponseEmail) }

func testPendingResponseEmail(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: creditRules, response: `email, pending_response: true`})
	l := decimal.MustParse("100.00")
	err := h.st.Write(h.ctx, func(tx *store.Tx) error {
		_, err := tx.UpsertCustomer(h.ctx, store.Customer{Number: "C-1001", Name: "Baumarkt Nord", Currency: "EUR",
			CreditLimit: &l, OpenBalance: decimal.MustParse("90.00"), Email: "einkauf@baumarkt-nord.example"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.src.push("big", fixtures.X12850(3, "PO-MAIL-PENDING", 3))
	doc := h.documentIn("big", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusHeld)
	pending := h.ackOf(doc.ID, pipeline.ResponseAckKind(pipeline.AckEmail, rec.ID)+"-pending")
	for _, want := range []string{"Order received: PO-MAIL-PENDING", "einkauf@baumarkt-nord.example", "being reviewed"} {
		if !bytes.Contains(pending.Body, []byte(want)) {
			t.Errorf("pending mail lacks %q:\n%s", want, pending.Body)
		}
	}
	if _, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: rec.ID, User: "ann", Role: "approver"}); err != nil {
		t.Fatal(err)
	}
	final := h.ackOf(doc.ID, pipeline.ResponseAckKind(pipeline.AckEmail, rec.ID))
	if bytes.Contains(final.Body, []byte("being reviewed")) {
		t.Errorf("the final mail is the pending one:\n%s", final.Body)
	}
}

// TestCompleteTaskReleasesNotesHold: an order that waits for its sales
// rep (a note with notes_to_sales_rep.wait) goes on when the rep marks
// the task done.
func TestCompleteTaskReleasesNotesHold(t *testing.T) {
	forEachDriver(t, testCompleteTaskReleasesNotesHold)
}

func testCompleteTaskReleasesNotesHold(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: "rules:\n  notes_to_sales_rep: {enabled: true, wait: true}"})
	h.putCustomer("100000.00", "0")
	h.src.push("note", []byte(`{"channel": "fax", "source": {"standard": "PDF"}, "po_number": "PO-NOTE-WAIT", "customer_id": "C-1001",
  "currency": "EUR", "notes": ["Bitte vor 8 Uhr liefern"],
  "lines": [{"line_no": "1", "quantity": "1", "unit": "EA", "unit_price": "2.00", "supplier_part": "SCR-001"}]}`))
	doc := h.documentIn("note", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusHeld)
	tasks, err := h.st.OpenTasks(h.ctx, "Anna", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].OrderID != rec.ID || !tasks[0].Wait {
		t.Fatalf("open tasks of Anna = %+v, want one waiting task for %s", tasks, rec.ID)
	}
	if _, err := h.p.CompleteTask(h.ctx, tasks[0].ID, "anna"); err != nil {
		t.Fatal(err)
	}
	h.orderOf(doc.ID, order.StatusDelivered)
	if _, err := h.p.CompleteTask(h.ctx, tasks[0].ID, "anna"); !errors.Is(err, store.ErrTransition) {
		t.Errorf("completing the task again: %v, want ErrTransition", err)
	}
}

// TestEmailConfirmationLines: the confirmation e-mail names each line
// the rules changed (a price corrected to the contract) or rejected (an
// unknown item).
func TestEmailConfirmationLines(t *testing.T) { forEachDriver(t, testEmailConfirmationLines) }

func testEmailConfirmationLines(t *testing.T) {
	h := newHarness(t, harnessOptions{response: "email", rules: `rules:
  price_tolerance: "0.5%"
  price_policy: correct
  items: {enabled: true, policy: reject}`})
	h.putWarehouse()
	err := h.st.Write(h.ctx, func(tx *store.Tx) error {
		_, err := tx.UpsertCustomer(h.ctx, store.Customer{Number: "C-1001", Name: "Baumarkt Nord", Currency: "EUR",
			SalesRep: "Anna", SalesRepEmail: "anna@example.com", Email: "einkauf@baumarkt-nord.example"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Line 1: SCR-001 at 2.01, the contract says 1.50; line 2: SCR-002 is
	// no product of ours.
	h.src.push("po", fixtures.X12850(9, "PO-MAIL-LINES", 2))
	doc := h.documentIn("po", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusDelivered)
	mail := h.ackOf(doc.ID, pipeline.ResponseAckKind(pipeline.AckEmail, rec.ID))
	for _, want := range []string{"einkauf@baumarkt-nord.example", "line 1: changed, price 1.50", "line 2: rejected"} {
		if !bytes.Contains(mail.Body, []byte(want)) {
			t.Errorf("confirmation lacks %q:\n%s", want, mail.Body)
		}
	}
}

// TestPendingResponseEmailCustomer: a faxed order of a customer without a
// partner, held for approval, is answered at once by a "received" mail
// when mail.confirmations.pending_response is set.
func TestPendingResponseEmailCustomer(t *testing.T) {
	forEachDriver(t, testPendingResponseEmailCustomer)
}

func testPendingResponseEmailCustomer(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: creditRules, mail: "  confirmations: {enabled: true, pending_response: true}"})
	l := decimal.MustParse("100.00")
	err := h.st.Write(h.ctx, func(tx *store.Tx) error {
		_, err := tx.UpsertCustomer(h.ctx, store.Customer{Number: "C-1001", Name: "Baumarkt Nord", Currency: "EUR",
			CreditLimit: &l, OpenBalance: decimal.MustParse("90.00"), Email: "einkauf@baumarkt-nord.example"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.src.push("fax", faxOrder("PO-FAX-PENDING", "Lagerstrasse 5", "20457", "20.00"))
	doc := h.documentIn("fax", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusHeld)
	pending := h.ackOf(doc.ID, pipeline.ResponseAckKind(pipeline.AckEmail, rec.ID)+"-pending")
	if !bytes.Contains(pending.Body, []byte("Order received: PO-FAX-PENDING")) {
		t.Errorf("pending mail:\n%s", pending.Body)
	}
}
