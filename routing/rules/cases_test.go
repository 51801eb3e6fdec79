package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/normalize/order"
)

// decideCase is one file of testdata/cases: an order, its facts and config,
// and what the decision must be.
type decideCase struct {
	Name   string       `json:"name"`
	Order  *order.Order `json:"order"`
	Facts  Facts        `json:"facts"`
	Config Config       `json:"config"`
	Want   struct {
		Outcome       Outcome      `json:"outcome"`
		Holds         []wantHold   `json:"holds"`
		Rejections    []wantHold   `json:"rejections"`
		Changes       []wantChange `json:"changes"`
		NotesContains []string     `json:"notes_contains"`
		Tasks         []wantTask   `json:"tasks"`
		Replaces      string       `json:"replaces"`
		Response      *wantResp    `json:"response"`
		OrderLines    []string     `json:"order_lines"` // line numbers kept in Decision.Order; nil: not checked
	} `json:"want"`
}

type wantHold struct {
	Rule           string            `json:"rule"`
	Approval       string            `json:"approval"`
	ReasonContains []string          `json:"reason_contains"`
	Numbers        map[string]string `json:"numbers"`
	Line           *int              `json:"line"`
	Levels         []string          `json:"levels"`
}

type wantChange struct {
	Line           int    `json:"line"`
	Field          string `json:"field"`
	From           string `json:"from"`
	To             string `json:"to"`
	ReasonContains string `json:"reason_contains"`
}

type wantTask struct {
	SalesRep     string   `json:"sales_rep"`
	Email        string   `json:"email"`
	Wait         bool     `json:"wait"`
	TextContains []string `json:"text_contains"`
}

type wantResp struct {
	Status order.ResponseStatus `json:"status"`
	Lines  []struct {
		LineNo         string               `json:"line_no"`
		Status         order.ResponseStatus `json:"status"`
		Quantity       *string              `json:"quantity"`
		UnitPrice      *string              `json:"unit_price"`
		ReasonContains string               `json:"reason_contains"`
	} `json:"lines"`
}

func TestDecideCases(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("%d case files, want at least 30", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c decideCase
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("reading %s: %v", file, err)
			}
			if c.Order == nil || c.Want.Outcome == "" {
				t.Fatalf("%s: needs order and want.outcome", file)
			}
			e, err := Compile(c.Config)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			before, _ := json.Marshal(c.Order)
			d := e.Decide(c.Order, c.Facts)
			if after, _ := json.Marshal(c.Order); string(after) != string(before) {
				t.Errorf("Decide modified its input order")
			}
			checkDecision(t, &c, d)
		})
	}
}

func checkDecision(t *testing.T, c *decideCase, d Decision) {
	t.Helper()
	w := &c.Want
	if d.Outcome != w.Outcome {
		t.Errorf("outcome %s, want %s; holds %+v; rejections %+v", d.Outcome, w.Outcome, d.Holds, d.Rejections)
	}
	checkHolds(t, "hold", d.Holds, w.Holds)
	checkHolds(t, "rejection", d.Rejections, w.Rejections)

	if len(d.Changes) != len(w.Changes) {
		t.Errorf("%d changes %+v, want %d", len(d.Changes), d.Changes, len(w.Changes))
	}
	for i := range min(len(d.Changes), len(w.Changes)) {
		g, wc := d.Changes[i], w.Changes[i]
		if g.Line != wc.Line || g.Field != wc.Field || g.From != wc.From || g.To != wc.To {
			t.Errorf("change %d: %+v, want line %d %s %q -> %q", i, g, wc.Line, wc.Field, wc.From, wc.To)
		}
		if !strings.Contains(g.Reason, wc.ReasonContains) {
			t.Errorf("change %d reason %q does not contain %q", i, g.Reason, wc.ReasonContains)
		}
		checkChangeApplied(t, c.Order, d, g)
	}

	if len(d.Notes) != len(w.NotesContains) {
		t.Errorf("notes %q, want %d", d.Notes, len(w.NotesContains))
	}
	for i := range min(len(d.Notes), len(w.NotesContains)) {
		if !strings.Contains(d.Notes[i], w.NotesContains[i]) {
			t.Errorf("note %q does not contain %q", d.Notes[i], w.NotesContains[i])
		}
	}

	if len(d.Tasks) != len(w.Tasks) {
		t.Errorf("tasks %+v, want %d", d.Tasks, len(w.Tasks))
	}
	for i := range min(len(d.Tasks), len(w.Tasks)) {
		g, wt := d.Tasks[i], w.Tasks[i]
		if g.SalesRep != wt.SalesRep || g.Email != wt.Email || g.Wait != wt.Wait {
			t.Errorf("task %d: %s <%s> wait %v, want %s <%s> wait %v", i, g.SalesRep, g.Email, g.Wait, wt.SalesRep, wt.Email, wt.Wait)
		}
		for _, s := range wt.TextContains {
			if !strings.Contains(g.Text, s) {
				t.Errorf("task %d text %q does not contain %q", i, g.Text, s)
			}
		}
	}

	if d.Replaces != w.Replaces {
		t.Errorf("replaces %q, want %q", d.Replaces, w.Replaces)
	}

	wantStatus := map[Outcome]order.Status{OutcomeAccept: order.StatusAccepted, OutcomeHold: order.StatusHeld,
		OutcomeReject: order.StatusRejected, OutcomeDrop: order.StatusRejected}[d.Outcome]
	if d.Order == nil || d.Order == c.Order {
		t.Fatalf("Decision.Order is nil or the input itself")
	}
	if d.Order.Status != wantStatus {
		t.Errorf("order status %s, want %s", d.Order.Status, wantStatus)
	}
	if !reflect.DeepEqual(d.Order.Holds, OrderHolds(d.Holds)) {
		t.Errorf("order holds %+v, want %+v", d.Order.Holds, OrderHolds(d.Holds))
	}
	if w.OrderLines != nil {
		var got []string
		for _, l := range d.Order.Lines {
			got = append(got, l.LineNo)
		}
		if !reflect.DeepEqual(got, w.OrderLines) {
			t.Errorf("order lines %q, want %q", got, w.OrderLines)
		}
	}

	if d.Outcome == OutcomeDrop {
		if d.Response != nil {
			t.Errorf("response %+v for a dropped order, want none", d.Response)
		}
		return
	}
	if d.Response == nil {
		t.Fatal("no response")
	}
	if y, m, day := c.Facts.Now.Date(); !c.Facts.Now.IsZero() && d.Response.Date != (order.Date{Year: y, Month: m, Day: day}) {
		t.Errorf("response date %s, want the date of now %s", d.Response.Date, c.Facts.Now)
	}
	if w.Response == nil {
		return
	}
	if d.Response.Status != w.Response.Status {
		t.Errorf("response status %s, want %s", d.Response.Status, w.Response.Status)
	}
	if len(d.Response.Lines) != len(w.Response.Lines) {
		t.Fatalf("response lines %+v, want %d", d.Response.Lines, len(w.Response.Lines))
	}
	for i, wl := range w.Response.Lines {
		g := d.Response.Lines[i]
		if g.LineNo != wl.LineNo || g.Status != wl.Status {
			t.Errorf("response line %d: %s %s, want %s %s", i, g.LineNo, g.Status, wl.LineNo, wl.Status)
		}
		if got, want := decString(g.Quantity), wl.Quantity; !reflect.DeepEqual(got, want) {
			t.Errorf("response line %s quantity %v, want %v", g.LineNo, deref(got), deref(want))
		}
		if got, want := decString(g.UnitPrice), wl.UnitPrice; !reflect.DeepEqual(got, want) {
			t.Errorf("response line %s unit price %v, want %v", g.LineNo, deref(got), deref(want))
		}
		if !strings.Contains(g.Reason, wl.ReasonContains) {
			t.Errorf("response line %s reason %q does not contain %q", g.LineNo, g.Reason, wl.ReasonContains)
		}
	}
}

func checkHolds(t *testing.T, kind string, got []Hold, want []wantHold) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d %ss, want %d:", len(got), kind, len(want))
		for _, h := range got {
			t.Errorf("  %s %s: %s %v", h.Rule, h.Approval, h.Reason, h.Numbers)
		}
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Rule != w.Rule || g.Approval != w.Approval {
			t.Errorf("%s %d: rule %s %s, want %s %s (%s)", kind, i, g.Rule, g.Approval, w.Rule, w.Approval, g.Reason)
		}
		for _, s := range w.ReasonContains {
			if !strings.Contains(g.Reason, s) {
				t.Errorf("%s %d reason %q does not contain %q", kind, i, g.Reason, s)
			}
		}
		for k, v := range w.Numbers {
			if gv, ok := g.Numbers[k]; !ok || gv != v {
				t.Errorf("%s %d number %s = %q (present %v), want %q; numbers %v", kind, i, k, gv, ok, v, g.Numbers)
			}
		}
		if w.Line != nil && g.Line != *w.Line {
			t.Errorf("%s %d line %d, want %d", kind, i, g.Line, *w.Line)
		}
		if w.Levels != nil && !reflect.DeepEqual(g.Levels, w.Levels) {
			t.Errorf("%s %d levels %q, want %q", kind, i, g.Levels, w.Levels)
		}
		if kind == "hold" && len(g.Levels) == 0 {
			t.Errorf("%s %d has no levels", kind, i)
		}
	}
}

// checkChangeApplied checks that a line change is in Decision.Order.
func checkChangeApplied(t *testing.T, in *order.Order, d Decision, ch LineChange) {
	t.Helper()
	if ch.Line < 0 {
		if ch.Field == "purpose" && string(d.Order.Purpose) != ch.To {
			t.Errorf("order purpose %s, want %s", d.Order.Purpose, ch.To)
		}
		return
	}
	lineNo := in.Lines[ch.Line].LineNo
	var l *order.Line
	for i := range d.Order.Lines {
		if d.Order.Lines[i].LineNo == lineNo {
			l = &d.Order.Lines[i]
		}
	}
	switch ch.Field {
	case "line":
		if l != nil && d.Outcome != OutcomeReject {
			t.Errorf("rejected line %s is still in the order", lineNo)
		}
	case "quantity":
		if l == nil || l.Quantity.String() != ch.To {
			t.Errorf("line %s quantity not changed to %s: %+v", lineNo, ch.To, l)
		}
	case "unit_price":
		if l == nil || l.UnitPrice == nil || l.UnitPrice.String() != ch.To {
			t.Errorf("line %s unit price not changed to %s: %+v", lineNo, ch.To, l)
		}
	default:
		t.Errorf("unexpected change field %s", ch.Field)
	}
}

func decString[T interface{ String() string }](v *T) *string {
	if v == nil {
		return nil
	}
	s := (*v).String()
	return &s
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
