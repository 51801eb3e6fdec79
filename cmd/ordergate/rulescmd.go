package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ordergate/ordergate/internal/app"
	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
	"github.com/ordergate/ordergate/routing/rules"
)

// whatIf is one line of `rules test` and `replay --json`: the order, what
// the rules decide now, and (for replay) what was decided then.
type whatIf struct {
	OrderID   string             `json:"order_id,omitempty"`
	File      string             `json:"file,omitempty"`
	PONumber  string             `json:"po_number"`
	Customer  string             `json:"customer_id,omitempty"`
	Then      order.Status       `json:"status_then,omitempty"`
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

func runRules(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "test" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(e.stdout, "Usage: ordergate rules test [--config F] [--partner ID] [--json] [--facts] ORDER.json...")
			return exitOK
		}
		fmt.Fprintln(e.stderr, "ordergate rules: want the subcommand test: ordergate rules test ORDER.json...")
		return exitUsage
	}
	fs := newFlags(e, "rules test", "rules test [--config F] [--partner ID] [--json] [--facts] ORDER.json...",
		"Prints what the rules of the configuration decide on each order (canonical order JSON, as\n"+
			"`ordergate parse` prints it), with each hold's rule, reason and numbers, the changes, notes,\n"+
			"tasks and the order response, using the master data and orders in the store. It resolves\n"+
			"the order against master data first, as the gateway does, and changes nothing.\n"+
			"Exit 0 when every order was decided, 1 when an order could not be read, 2 on a usage error.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	partner := fs.String("partner", "", "the partner `id` the orders come from (its policies and customer)")
	asJSON := fs.Bool("json", false, "print one JSON object per order")
	withFacts := fs.Bool("facts", false, "include the facts the rules saw (with --json)")
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "ordergate rules test: no order file given")
		return exitUsage
	}
	t, err := app.OpenTools(ctx, *path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate rules test: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	code := exitOK
	for _, file := range fs.Args() {
		w := whatIf{File: file}
		orders, err := readOrders(file)
		if err != nil {
			w.Error = err.Error()
			code = exitRejected
			printWhatIf(e, w, *asJSON)
			continue
		}
		for _, o := range orders {
			w := t.WhatIf(ctx, o, *partner, "")
			if w.Error != "" {
				code = exitRejected
			}
			if !*withFacts {
				w.Facts = nil
			}
			printWhatIf(e, toWhatIf(w, file), *asJSON)
		}
	}
	return code
}

func runReplay(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "replay", "replay --rules-only --since DATE [--until DATE] [--config F] [--json]",
		"Prints what the rules of the configuration would decide now on the orders received since\n"+
			"DATE (YYYY-MM-DD or RFC 3339), re-reading each order from its archived raw document, next\n"+
			"to the status it has. It changes nothing (--rules-only is the only mode). Exit 0 when every\n"+
			"order was decided, 1 when one could not be replayed, 2 on a usage error.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	rulesOnly := fs.Bool("rules-only", false, "decide with the rules only; change nothing (required)")
	since := fs.String("since", "", "the first `date` (YYYY-MM-DD or RFC 3339)")
	until := fs.String("until", "", "the `date` to stop before (default: now)")
	asJSON := fs.Bool("json", false, "print one JSON object per order")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if !*rulesOnly {
		fmt.Fprintln(e.stderr, "ordergate replay: only --rules-only is available: it prints decisions and changes nothing")
		return exitUsage
	}
	from, err := parseWhen(*since)
	if err != nil || *since == "" {
		fmt.Fprintf(e.stderr, "ordergate replay: --since: want YYYY-MM-DD or RFC 3339, got %q\n", *since)
		return exitUsage
	}
	var to time.Time
	if *until != "" {
		if to, err = parseWhen(*until); err != nil {
			fmt.Fprintf(e.stderr, "ordergate replay: --until: %v\n", err)
			return exitUsage
		}
	}
	t, err := app.OpenTools(ctx, *path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate replay: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	code := exitOK
	cursor := ""
	for {
		page, err := t.Store.ListOrders(ctx, store.OrderFilter{From: from, To: to, Ascending: true}, cursor, 500)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate replay: %v\n", err)
			return exitRejected
		}
		for _, rec := range page.Orders {
			w := t.Replay(ctx, rec)
			if w.Error != "" {
				code = exitRejected
			}
			w.Facts = nil
			out := toWhatIf(w, "")
			out.OrderID, out.Then = rec.ID, rec.Status
			printWhatIf(e, out, *asJSON)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	return code
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
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

func toWhatIf(w app.WhatIfResult, file string) whatIf {
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

func printWhatIf(e *env, w whatIf, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(e.stdout).Encode(w)
		return
	}
	name := w.OrderID
	if name == "" {
		name = w.File
	}
	if w.Error != "" {
		fmt.Fprintf(e.stderr, "%s: %s\n", name, w.Error)
		return
	}
	then := ""
	if w.Then != "" {
		then = " (now " + string(w.Then) + ")"
	}
	fmt.Fprintf(e.stdout, "%s: PO %s of %s: %s%s\n", name, w.PONumber, orDash(w.Customer), w.Outcome, then)
	for _, h := range w.Holds {
		fmt.Fprintf(e.stdout, "  hold %s: %s%s (cleared by %s)\n", h.Label(), h.Reason, numbers(h.Numbers), strings.Join(h.Levels, ", then "))
	}
	for _, h := range w.Rejection {
		fmt.Fprintf(e.stdout, "  reject %s: %s%s\n", h.Label(), h.Reason, numbers(h.Numbers))
	}
	for _, c := range w.Changes {
		fmt.Fprintf(e.stdout, "  change line %s %s: %s -> %s: %s\n", c.LineNo, c.Field, c.From, c.To, c.Reason)
	}
	for _, n := range w.Notes {
		fmt.Fprintf(e.stdout, "  note: %s\n", n)
	}
	for _, t := range w.Tasks {
		fmt.Fprintf(e.stdout, "  task for %s (wait %v): %s\n", orDash(t.SalesRep), t.Wait, t.Text)
	}
	for _, u := range w.Unresolve {
		fmt.Fprintf(e.stdout, "  unresolved: %s\n", u)
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
