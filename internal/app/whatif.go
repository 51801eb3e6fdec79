package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// whatIf is one line of `rules test` and `replay --json`: the order, what
// the rules decide now, and (for replay) the status the order has now.
type whatIf struct {
	OrderID   string             `json:"order_id,omitempty"`
	File      string             `json:"file,omitempty"`
	PONumber  string             `json:"po_number"`
	Customer  string             `json:"customer_id,omitempty"`
	Now       order.Status       `json:"status_now,omitempty"` // replay: the order's status now, for comparison
	Outcome   rules.Outcome      `json:"outcome"`
	Holds     []rules.Hold       `json:"holds,omitempty"`
	Rejection []rules.Hold       `json:"rejections,omitempty"`
	Changes   []rules.LineChange `json:"changes,omitempty"`
	Notes     []string           `json:"notes,omitempty"`
	Tasks     []rules.Task       `json:"tasks,omitempty"`
	Response  *order.Response    `json:"response,omitempty"`
	Unresolve []string           `json:"unresolved,omitempty"`
	Error     string             `json:"error,omitempty"`
	Facts     *rules.Facts       `json:"facts,omitempty"`
}

// RulesTest prints what the rules decide on the orders in the files
// (`ordergate rules test`); it returns false when a file could not be
// read or an order not decided.
func (t *Tools) RulesTest(ctx context.Context, files []string, partner string, asJSON, withFacts bool, stdout, stderr io.Writer) bool {
	ok := true
	for _, file := range files {
		orders, err := readOrders(file)
		if err != nil {
			ok = false
			printWhatIf(stdout, stderr, whatIf{File: file, Error: err.Error()}, asJSON)
			continue
		}
		for _, o := range orders {
			w := t.WhatIf(ctx, o, partner, "")
			if w.Error != "" {
				ok = false
			}
			if !withFacts {
				w.Facts = nil
			}
			printWhatIf(stdout, stderr, toWhatIf(w, file), asJSON)
		}
	}
	return ok
}

// ReplayRules prints what the rules would decide now on the orders
// received in [from, to) (`ordergate replay --rules-only`), re-read from
// their raw documents, next to their status; to zero is now.
func (t *Tools) ReplayRules(ctx context.Context, from, to time.Time, asJSON bool, stdout, stderr io.Writer) (bool, error) {
	ok := true
	cursor := ""
	for {
		page, err := t.Store.ListOrders(ctx, store.OrderFilter{From: from, To: to, Ascending: true}, cursor, 500)
		if err != nil {
			return false, err
		}
		for _, rec := range page.Orders {
			w := t.Replay(ctx, rec)
			if w.Error != "" {
				ok = false
			}
			w.Facts = nil
			out := toWhatIf(w, "")
			out.OrderID, out.Now = rec.ID, rec.Status
			printWhatIf(stdout, stderr, out, asJSON)
		}
		if page.Next == "" {
			return ok, nil
		}
		cursor = page.Next
	}
}

// readOrders reads canonical orders from a file: one JSON object, a JSON
// array, or JSON Lines (what `ordergate parse` prints).
func readOrders(file string) ([]*order.Order, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	var out []*order.Order
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: not canonical order JSON: %w", file, err)
		}
		if strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
			var list []*order.Order
			if err := json.Unmarshal(raw, &list); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			out = append(out, list...)
			continue
		}
		var o order.Order
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, &o)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no order", file)
	}
	return out, nil
}

func toWhatIf(w WhatIfResult, file string) whatIf {
	out := whatIf{File: file, Error: w.Error, Unresolve: w.Unresolved}
	if w.Order != nil {
		out.PONumber, out.Customer = w.Order.PONumber, w.Order.CustomerID
	}
	if w.Error == "" {
		d := w.Decision
		out.Outcome, out.Holds, out.Rejection, out.Changes, out.Notes, out.Tasks, out.Response =
			d.Outcome, d.Holds, d.Rejections, d.Changes, d.Notes, d.Tasks, d.Response
		out.Facts = w.Facts
	}
	return out
}

func printWhatIf(stdout, stderr io.Writer, w whatIf, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(stdout).Encode(w)
		return
	}
	name := w.OrderID
	if name == "" {
		name = w.File
	}
	if w.Error != "" {
		fmt.Fprintf(stderr, "%s: %s\n", name, w.Error)
		return
	}
	then := ""
	if w.Now != "" {
		then = " (now " + string(w.Now) + ")"
	}
	fmt.Fprintf(stdout, "%s: PO %s of %s: %s%s\n", name, w.PONumber, orDash(w.Customer), w.Outcome, then)
	for _, h := range w.Holds {
		fmt.Fprintf(stdout, "  hold %s: %s%s (cleared by %s)\n", h.Label(), h.Reason, numbers(h.Numbers), strings.Join(h.Levels, ", then "))
	}
	for _, h := range w.Rejection {
		fmt.Fprintf(stdout, "  reject %s: %s%s\n", h.Label(), h.Reason, numbers(h.Numbers))
	}
	for _, c := range w.Changes {
		fmt.Fprintf(stdout, "  change line %s %s: %s -> %s: %s\n", c.LineNo, c.Field, c.From, c.To, c.Reason)
	}
	for _, n := range w.Notes {
		fmt.Fprintf(stdout, "  note: %s\n", n)
	}
	for _, t := range w.Tasks {
		fmt.Fprintf(stdout, "  task for %s (wait %v): %s\n", orDash(t.SalesRep), t.Wait, t.Text)
	}
	for _, u := range w.Unresolve {
		fmt.Fprintf(stdout, "  unresolved: %s\n", u)
	}
}

func numbers(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(" [")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + m[k])
	}
	b.WriteString("]")
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
