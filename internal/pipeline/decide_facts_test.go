package pipeline_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/govalues/decimal"
	"github.com/ordergate/ordergate/internal/fixtures"
	"github.com/ordergate/ordergate/internal/masterdata"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// putWarehouse stores customer C-1001 (no credit limit) with its
// warehouse ship-to ST-WH-9 (Lagerstrasse 5, 20457 Hamburg), the
// partner's cross-reference of its party ST-HH-01 (the fixtures' N1*ST)
// to that ship-to, and product SCR-001 with a contract price of 1.50.
func (h *harness) putWarehouse() {
	h.t.Helper()
	err := h.st.Write(h.ctx, func(tx *store.Tx) error {
		if _, err := tx.UpsertCustomer(h.ctx, store.Customer{Number: "C-1001", Name: "Baumarkt Nord", Currency: "EUR",
			SalesRep: "Anna", SalesRepEmail: "anna@example.com"}); err != nil {
			return err
		}
		if _, err := tx.UpsertShipTo(h.ctx, store.ShipTo{CustomerNumber: "C-1001", Code: "ST-WH-9", Name: "Lager Hamburg",
			Street: "Lagerstrasse 5", City: "Hamburg", PostalCode: "20457", Country: "DE"}); err != nil {
			return err
		}
		if _, err := tx.UpsertPartyXref(h.ctx, store.PartyXref{PartnerID: "baumarkt-nord", Scheme: order.SchemeBuyer,
			PartyID: "ST-HH-01", CustomerNumber: "C-1001", ShipToCode: "ST-WH-9"}); err != nil {
			return err
		}
		if _, err := tx.UpsertProduct(h.ctx, store.Product{SKU: "SCR-001", Description: "Wood screws", BaseUnit: "EA"}); err != nil {
			return err
		}
		_, err := tx.UpsertPrice(h.ctx, store.Price{CustomerNumber: "C-1001", SKU: "SCR-001", Price: decimal.MustParse("1.50"), Currency: "EUR"})
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// faxOrder is the canonical JSON of a faxed order of C-1001 for 2 EA of
// SCR-001 at price, delivered on 2026-12-15 (as the fixtures' 850) to a
// ship-to given by its address only.
func faxOrder(po, street, postal, price string) []byte {
	return fmt.Appendf(nil, `{"channel": "fax", "source": {"standard": "PDF"}, "purpose": "original",
  "po_number": %q, "currency": "EUR", "requested_delivery": "2026-12-15", "customer_id": "C-1001",
  "parties": [{"role": "ship_to", "name": "Lager", "address": {"lines": [%q], "city": "Hamburg", "postal_code": %q, "country": "DE"}}],
  "lines": [{"line_no": "1", "quantity": "2", "unit": "EA", "unit_price": %q, "supplier_part": "SCR-001"}]}`, po, street, postal, price)
}

// TestDecideShipToNewFromResolver: order.ship_to.new is what the master
// data resolver found: a ship-to known through the partner's
// cross-reference is not new; a faxed address that is none of the
// customer's ship-tos is.
func TestDecideShipToNewFromResolver(t *testing.T) { forEachDriver(t, testDecideShipToNew) }

func testDecideShipToNew(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: `rules:
  approvals:
    - {name: new-ship-to, when: "order.ship_to.new", role: sales-manager}`})
	h.putWarehouse()

	h.src.push("xref", fixtures.X12850(1, "PO-XREF", 1))
	h.orderOf(h.documentIn("xref", store.DocumentParsed).ID, order.StatusDelivered)

	h.src.push("fax-known", faxOrder("PO-FAX-KNOWN", "Lagerstrasse 5", "20457", "2.01"))
	h.orderOf(h.documentIn("fax-known", store.DocumentParsed).ID, order.StatusDelivered)

	h.src.push("fax-new", faxOrder("PO-FAX-NEW", "Neue Strasse 1", "28195", "2.01"))
	rec := h.orderOf(h.documentIn("fax-new", store.DocumentParsed).ID, order.StatusHeld)
	o, err := rec.Order()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Holds) != 1 || !strings.Contains(o.Holds[0].Rule+o.Holds[0].Reason, "new-ship-to") {
		t.Errorf("holds = %+v, want the new-ship-to approval", o.Holds)
	}
}

// TestDecideDuplicateContent: the duplicate rule compares orders as
// received and resolved, before the rules change them, and by the
// resolved ship-to: the same 850 twice is the same content although the
// first one's price was corrected to the contract, and a faxed copy of
// an 850 that names the ship-to by its address is the same content as
// the 850 naming it by the partner's id.
func TestDecideDuplicateContent(t *testing.T) { forEachDriver(t, testDecideDuplicateContent) }

func testDecideDuplicateContent(t *testing.T) {
	h := newHarness(t, harnessOptions{duplicates: "change", rules: `rules:
  price_tolerance: "0.5%"
  price_policy: correct`})
	h.putWarehouse()

	// 2 EA of SCR-001 at 2.01, corrected to the contract's 1.50.
	h.src.push("first", fixtures.X12850(1, "PO-TWICE", 1))
	first := h.orderOf(h.documentIn("first", store.DocumentParsed).ID, order.StatusDelivered)
	o, err := first.Order()
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Lines[0].UnitPrice; got == nil || got.String() != "1.50" {
		t.Fatalf("first order's price = %v, want 1.50 (corrected)", got)
	}
	h.src.push("again", fixtures.X12850(2, "PO-TWICE", 1))
	h.wantDuplicate(h.orderOf(h.documentIn("again", store.DocumentParsed).ID, order.StatusRejected), "dropped", "the same content")

	h.src.push("edi", fixtures.X12850(3, "PO-COPY", 1))
	h.orderOf(h.documentIn("edi", store.DocumentParsed).ID, order.StatusDelivered)
	h.src.push("fax", faxOrder("PO-COPY", "Lagerstrasse 5", "20457", "2.01"))
	// The fax comes from no partner: the default policy rejects it.
	h.wantDuplicate(h.orderOf(h.documentIn("fax", store.DocumentParsed).ID, order.StatusRejected), "rejected", "the same content")
	h.src.push("changed", faxOrder("PO-COPY", "Lagerstrasse 5", "20457", "2.50"))
	h.wantDuplicate(h.orderOf(h.documentIn("changed", store.DocumentParsed).ID, order.StatusRejected), "rejected", "different content")
}

// wantDuplicate checks that the order was dropped (kind "dropped") or
// rejected ("rejected") as a duplicate with a reason that says want.
func (h *harness) wantDuplicate(rec store.OrderRecord, kind, want string) {
	h.t.Helper()
	evs, err := h.st.Timeline(h.ctx, rec.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	i := slices.IndexFunc(evs, func(e store.Event) bool { return e.Kind == kind })
	if i < 0 {
		h.t.Fatalf("timeline %v of %s has no %s event", kinds(evs), rec.PONumber, kind)
	}
	if !strings.Contains(evs[i].Reason, want) {
		h.t.Errorf("%s %s: %q, want it to say %q", kind, rec.PONumber, evs[i].Reason, want)
	}
}

// webOrder is the canonical JSON of a web order of C-1001 dated date:
// one line of quantity x price in currency.
func webOrder(po, date, currency, qty, price string) []byte {
	return fmt.Appendf(nil, `{"channel": "web", "source": {"standard": "JSON"}, "purpose": "original",
  "po_number": %q, "po_date": %q, "currency": %q, "customer_id": "C-1001",
  "lines": [{"line_no": "1", "quantity": %q, "unit": "EA", "unit_price": %q, "supplier_part": "SCR-001"}]}`, po, date, currency, qty, price)
}

// TestDecideCreditExchangeRates: the credit rule converts an order and
// the open orders in another currency with the exchange rates of master
// data; without a rate it holds and names the currencies, and an open
// order it cannot convert is never left out of the exposure silently.
func TestDecideCreditExchangeRates(t *testing.T) { forEachDriver(t, testDecideCreditExchangeRates) }

func testDecideCreditExchangeRates(t *testing.T) {
	h := newHarness(t, harnessOptions{rules: "rules:\n  credit_limit: {enabled: true}"})
	h.putCustomer("1000.00", "0")
	holdOf := func(key string) (string, map[string]string) {
		t.Helper()
		rec := h.orderOf(h.documentIn(key, store.DocumentParsed).ID, order.StatusHeld)
		evs, err := h.st.Timeline(h.ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(evs, func(e store.Event) bool { return e.Kind == "held" })
		if i < 0 {
			t.Fatalf("%s: timeline %v has no held event", key, kinds(evs))
		}
		var hold struct{ Numbers map[string]string }
		if err := json.Unmarshal(evs[i].Data, &hold); err != nil {
			t.Fatal(err)
		}
		return evs[i].Reason, hold.Numbers
	}

	h.src.push("usd-no-rate", webOrder("PO-USD-1", "2026-11-20", "USD", "2", "10.00"))
	if reason, _ := holdOf("usd-no-rate"); !strings.Contains(reason, "no exchange rate from USD to EUR") {
		t.Errorf("held: %q, want it to name the currencies", reason)
	}

	rep, err := masterdata.Import(h.ctx, h.st, masterdata.Rates, strings.NewReader("pair,rate,valid_from\nUSD/EUR,0.5,2026-11-01\n"))
	if err != nil || !rep.OK() {
		t.Fatalf("importing the rate: %v\n%s", err, rep.String())
	}
	// 20.00 USD = 10.00 EUR, open from now on.
	h.src.push("usd", webOrder("PO-USD-2", "2026-11-20", "USD", "2", "10.00"))
	h.orderOf(h.documentIn("usd", store.DocumentParsed).ID, order.StatusDelivered)

	// Before the rate's valid_from, the open USD order cannot be counted.
	h.src.push("eur-old", webOrder("PO-EUR-OLD", "2026-10-01", "EUR", "1", "5.00"))
	if reason, _ := holdOf("eur-old"); !strings.Contains(reason, "1 open order in USD (no exchange rate from USD to EUR on 2026-10-01)") {
		t.Errorf("held: %q, want the open USD order named", reason)
	}

	// 0 + 10.00 (the USD order) + 995.00 > 1000.00.
	h.src.push("eur-big", webOrder("PO-EUR-BIG", "2026-11-25", "EUR", "1", "995.00"))
	reason, nums := holdOf("eur-big")
	if open, err := decimal.Parse(nums["open_orders"]); err != nil || !open.Equal(decimal.MustParse("10")) {
		t.Errorf("held: %q with numbers %v, want open orders 10 EUR", reason, nums)
	}
}
