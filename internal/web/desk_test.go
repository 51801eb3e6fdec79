package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The desk without JavaScript: Enter posts op=add, the server resolves the
// lines, shows prices and offers a new row; an ambiguous search offers a
// choice; submitting creates the order.
func TestDeskWithoutScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.session("dora")
	form := func(op string, items, qtys, skus []string, extra url.Values) url.Values {
		f := url.Values{"customer": {"C-1000"}, "rid": {"r1"}, "op": {op}, "item": items, "qty": qtys, "sku": skus,
			"unit": make([]string, len(items))}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	status, _, body := e.do("POST", "/desk", c, form("add", []string{"scr-100", "screws", ""}, []string{"3", "1", "1"}, []string{"", "", ""}, nil), nil)
	if status != http.StatusOK {
		t.Fatalf("add: %d", status)
	}
	for _, want := range []string{
		`value="SCR-100"`,        // line 1 resolved by SKU (any case)
		"37.50",                  // 3 x 12.50 at the customer's price
		`name="pick-1"`,          // "screws" matches two products: a choice
		"Several products match", // and says so
		`aria-label="Item 3" autocomplete="off" autofocus`, // a fresh row with the focus
	} {
		if !strings.Contains(body, want) {
			t.Errorf("after add: body lacks %q", want)
		}
	}
	// Submitting with the ambiguity open is refused.
	status, _, _ = e.do("POST", "/desk", c, form("submit", []string{"SCR-100", "screws"}, []string{"3", "1"}, []string{"SCR-100", ""}, nil), nil)
	if status != http.StatusUnprocessableEntity || len(e.svc.Submitted) != 0 {
		t.Fatalf("submit with an ambiguous line: %d, %d submitted", status, len(e.svc.Submitted))
	}
	// The user picks SCR-120 and removes nothing; submit.
	status, loc, body := e.do("POST", "/desk", c, form("submit", []string{"SCR-100", "screws"}, []string{"3", "2"}, []string{"SCR-100", ""},
		url.Values{"pick-1": {"SCR-120"}, "po": {"PO-9"}, "requested": {"2026-12-01"}, "shipto": {"1"}}), nil)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/orders/") {
		t.Fatalf("submit: %d %s\n%s", status, loc, body)
	}
	o := e.svc.Submitted[0]
	if len(o.Lines) != 2 || o.Lines[1].SKU != "SCR-120" || o.Lines[1].UnitPrice.String() != "14.90" || o.RequestedDelivery.String() != "2026-12-01" {
		t.Errorf("submitted order %+v", o)
	}
	if st := o.Party("ship_to"); st == nil || st.ID != "ST-KI-02" {
		t.Errorf("ship-to %+v, want the second address", st)
	}
	// A re-posted form (same request id) does not make a second order.
	e.do("POST", "/desk", c, form("submit", []string{"SCR-100"}, []string{"3"}, []string{"SCR-100"}, nil), nil)
	if n := len(e.svc.Submitted); n != 1 {
		t.Errorf("re-posted form made %d orders, want 1", n)
	}
	// Removing a line.
	_, _, body = e.do("POST", "/desk", c, form("remove-0", []string{"SCR-100", "DRL-550"}, []string{"1", "1"}, []string{"SCR-100", "DRL-550"},
		url.Values{"rid": {"r2"}}), nil)
	if strings.Contains(body, `value="SCR-100"`) || !strings.Contains(body, `value="DRL-550"`) {
		t.Errorf("remove-0 did not remove the first line")
	}
}

func TestDeskRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.session("dora")
	for _, tc := range []struct {
		name string
		f    url.Values
		want string
	}{
		{"no lines", url.Values{"customer": {"C-1000"}, "op": {"submit"}}, "Add at least one line"},
		{"bad quantity", url.Values{"customer": {"C-1000"}, "op": {"submit"}, "item": {"SCR-100"}, "qty": {"-2"}, "sku": {""}, "unit": {""}}, "positive number"},
		{"unknown product", url.Values{"customer": {"C-1000"}, "op": {"submit"}, "item": {"nothing like it"}, "qty": {"1"}, "sku": {""}, "unit": {""}}, "No product matches"},
		{"bad date", url.Values{"customer": {"C-1000"}, "op": {"submit"}, "item": {"SCR-100"}, "qty": {"1"}, "sku": {""}, "unit": {""}, "requested": {"2026-13-40"}}, "Requested date"},
	} {
		status, _, body := e.do("POST", "/desk", c, tc.f, nil)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%s: status %d, body lacks %q", tc.name, status, tc.want)
		}
	}
	if n := len(e.svc.Submitted); n != 0 {
		t.Errorf("%d orders submitted from bad input", n)
	}
	if s, _, _ := e.do("POST", "/desk", c, url.Values{"customer": {"C-9999"}, "op": {"submit"}}, nil); s != http.StatusNotFound {
		t.Errorf("unknown customer: %d, want 404", s)
	}
}

func TestReviewRejectsUnparsableCorrection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.session("dora")
	id := e.svc.DraftIDs()[0]
	status, _, body := e.do("POST", "/review/"+id+"/accept", c, url.Values{"lines[0].quantity": {"eight"}}, nil)
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `is not a number`) {
		t.Errorf("bad quantity: %d", status)
	}
	if ids := e.svc.DraftIDs(); len(ids) != 2 {
		t.Errorf("draft left the queue after a refused correction")
	}
	status, _, _ = e.do("POST", "/review/"+id+"/reject", c, url.Values{"comment": {""}}, nil)
	if status != http.StatusUnprocessableEntity {
		t.Errorf("reject without a reason: %d, want 422", status)
	}
}
