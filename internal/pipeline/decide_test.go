package pipeline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// creditRules holds orders over the customer's credit limit for an
// approver, and orders over 1000 for a manager, then finance.
const creditRules = `rules:
  credit_limit: {enabled: true}
  customers: {enabled: true}
  approvals:
    - {name: big, when: "order.total > 1000", levels: [manager, finance]}`

// putCustomer stores customer C-1001 (the test partner's account).
func (h *harness) putCustomer(limit, balance string) {
	h.t.Helper()
	l := decimal.MustParse(limit)
	err := h.st.Write(h.ctx, func(tx *store.Tx) error {
		_, err := tx.UpsertCustomer(h.ctx, store.Customer{Number: "C-1001", Name: "Baumarkt Nord", Currency: "EUR",
			CreditLimit: &l, OpenBalance: decimal.MustParse(balance), SalesRep: "Anna", SalesRepEmail: "anna@example.com"})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// TestDecideCreditLimit: the credit rule holds an order over the limit
// with the numbers, an approver releases it, it is routed and its 855
// goes to the partner with the line statuses.
func TestDecideCreditLimit(t *testing.T) { forEachDriver(t, testDecideCreditLimit) }

func testDecideCreditLimit(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: creditRules, response: `"855"`})
	h.putCustomer("100.00", "90.00")

	// 1 line: 2 x 2.01 = 4.02; exposure 94.02 <= 100: accepted.
	h.src.push("small", fixtures.X12850(1, "PO-SMALL", 1))
	small := h.documentIn("small", store.DocumentParsed)
	h.orderOf(small.ID, order.StatusDelivered)

	// 3 lines: 4.02 + 9.06 + 16.12 = 29.20; 90 + 4.02 + 29.20 > 100: held.
	h.src.push("big", fixtures.X12850(2, "PO-BIG", 3))
	big := h.documentIn("big", store.DocumentParsed)
	rec := h.orderOf(big.ID, order.StatusHeld)
	o, err := rec.Order()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Holds) != 1 || o.Holds[0].Rule != "credit_limit" {
		t.Fatalf("holds = %+v, want one credit_limit hold", o.Holds)
	}
	evs, err := h.st.Timeline(h.ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(evs, func(e store.Event) bool { return e.Kind == "held" })
	if i < 0 {
		t.Fatalf("timeline %v has no held event", kinds(evs))
	}
	var hold rules.Hold
	if err := json.Unmarshal(evs[i].Data, &hold); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"open_balance": "90.00", "open_orders": "4.02", "order_total": "29.20", "limit": "100.00"}
	for k, v := range want {
		if hold.Numbers[k] != v {
			t.Errorf("hold number %s = %q, want %q (all: %v)", k, hold.Numbers[k], v, hold.Numbers)
		}
	}
	if acks, _ := h.st.AcksOfDocument(h.ctx, big.ID); slices.ContainsFunc(acks, func(a store.Ack) bool { return strings.HasPrefix(a.Kind, "855") }) {
		t.Error("an 855 was sent for a held order")
	}
	pending, err := h.st.PendingApprovals(h.ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].OrderID != rec.ID {
		t.Fatalf("pending approvals = %+v, %v", pending, err)
	}

	// The wrong role cannot release it; the approver can.
	_, err = h.p.Decide(h.ctx, pipeline.Decision{OrderID: rec.ID, User: "eve", Role: "finance"})
	if !errors.Is(err, rules.ErrWrongRole) {
		t.Errorf("finance approving a credit hold: %v, want ErrWrongRole", err)
	}
	res, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: rec.ID, User: "ann", Role: "approver", Comment: "paid yesterday"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != order.StatusRouted || len(res.Pending) != 0 {
		t.Errorf("decision result = %+v, want routed", res)
	}
	h.orderOf(big.ID, order.StatusDelivered)
	if _, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: rec.ID, User: "ann", Role: "approver"}); !errors.Is(err, pipeline.ErrNotHeld) {
		t.Errorf("deciding again: %v, want ErrNotHeld", err)
	}
	if ks := h.orderKinds(rec.ID); !slices.Contains(ks, "approved") || !slices.Contains(ks, "response") {
		t.Errorf("timeline = %v, want approved and response", ks)
	}
	var resp *store.Ack
	h.eventually("the 855 sent", func() (bool, string) {
		acks, err := h.st.AcksOfDocument(h.ctx, big.ID)
		if err != nil {
			return false, err.Error()
		}
		for _, a := range acks {
			if a.Kind == pipeline.ResponseAckKind(store.Ack855, rec.ID) && a.Status == store.AckSent {
				resp = &a
				return true, ""
			}
		}
		return false, "no 855 sent yet"
	})
	if ks := h.orderKinds(rec.ID); !slices.Contains(ks, "ack_sent") {
		t.Errorf("order timeline %v lacks the 855's ack_sent", ks)
	}
	for _, seg := range []string{"ST*855*", "BAK*00*AD*PO-BIG*", "ACK*IA*2*EA", "ACK*IA*4*EA"} {
		if !bytes.Contains(resp.Body, []byte(seg)) {
			t.Errorf("855 lacks %s:\n%s", seg, resp.Body)
		}
	}
}

// TestDecideApprovalLevels: an approval with two levels needs both roles,
// in order, by two people; a rejection rejects the order and answers it.
func TestDecideApprovalLevels(t *testing.T) { forEachDriver(t, testDecideApprovalLevels) }

func testDecideApprovalLevels(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: creditRules, response: `"855"`})
	h.putCustomer("1000000", "0")
	// 40 lines: well over 1000.
	h.src.push("a", fixtures.X12850(1, "PO-A", 40))
	h.src.push("b", fixtures.X12850(2, "PO-B", 40))
	a := h.orderOf(h.documentIn("a", store.DocumentParsed).ID, order.StatusHeld)
	b := h.orderOf(h.documentIn("b", store.DocumentParsed).ID, order.StatusHeld)

	if _, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: a.ID, User: "fin", Role: "finance"}); !errors.Is(err, rules.ErrWrongRole) {
		t.Errorf("finance first: %v, want ErrWrongRole", err)
	}
	res, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: a.ID, User: "boss", Role: "manager"})
	if err != nil || res.Status != order.StatusHeld || !slices.Equal(res.Pending, []string{"finance"}) {
		t.Fatalf("after the manager: %+v, %v; want held, pending finance", res, err)
	}
	if _, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: a.ID, User: "boss", Role: "finance"}); !errors.Is(err, rules.ErrSameUser) {
		t.Errorf("the same user on both levels: %v, want ErrSameUser", err)
	}
	if res, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: a.ID, User: "fin", Role: "finance"}); err != nil || res.Status != order.StatusRouted {
		t.Fatalf("after finance: %+v, %v; want routed", res, err)
	}
	h.orderOf(a.DocumentID, order.StatusDelivered)

	res, err = h.p.Decide(h.ctx, pipeline.Decision{OrderID: b.ID, User: "boss", Role: "manager", Comment: "no", Reject: true})
	if err != nil || res.Status != order.StatusRejected {
		t.Fatalf("rejecting: %+v, %v", res, err)
	}
	h.orderOf(b.DocumentID, order.StatusRejected)
	h.eventually("the rejecting 855", func() (bool, string) {
		acks, _ := h.st.AcksOfDocument(h.ctx, b.DocumentID)
		for _, ack := range acks {
			if strings.HasPrefix(ack.Kind, store.Ack855) && bytes.Contains(ack.Body, []byte("BAK*00*RD*PO-B")) {
				return true, ""
			}
		}
		return false, "none"
	})
}

// TestDecidePendingResponse: a partner that wants an answer at once gets
// an 855 "acknowledged, no detail" (BAK02 AK) for a held order, and the
// real answer when it is decided.
func TestDecidePendingResponse(t *testing.T) { forEachDriver(t, testDecidePendingResponse) }

func testDecidePendingResponse(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: creditRules, response: `"855", pending_response: true`})
	h.putCustomer("100.00", "90.00")
	h.src.push("big", fixtures.X12850(2, "PO-PENDING", 3))
	doc := h.documentIn("big", store.DocumentParsed)
	rec := h.orderOf(doc.ID, order.StatusHeld)
	ackOf := func(kind string) *store.Ack {
		var found *store.Ack
		h.eventually("the "+kind, func() (bool, string) {
			acks, err := h.st.AcksOfDocument(h.ctx, doc.ID)
			if err != nil {
				return false, err.Error()
			}
			for _, a := range acks {
				if a.Kind == kind {
					found = &a
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d acks", len(acks))
		})
		return found
	}
	pending := ackOf(pipeline.ResponseAckKind(store.Ack855, rec.ID) + "-pending")
	if !bytes.Contains(pending.Body, []byte("BAK*00*AK*PO-PENDING")) || bytes.Contains(pending.Body, []byte("PO1*")) {
		t.Errorf("pending 855:\n%s", pending.Body)
	}
	if _, err := h.p.Decide(h.ctx, pipeline.Decision{OrderID: rec.ID, User: "ann", Role: "approver"}); err != nil {
		t.Fatal(err)
	}
	final := ackOf(pipeline.ResponseAckKind(store.Ack855, rec.ID))
	if !bytes.Contains(final.Body, []byte("BAK*00*AD*PO-PENDING")) {
		t.Errorf("final 855:\n%s", final.Body)
	}
}
