package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/internal/app"
)

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
	if !t.RulesTest(ctx, fs.Args(), *partner, *asJSON, *withFacts, e.stdout, e.stderr) {
		return exitRejected
	}
	return exitOK
}

func runReplay(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "replay", "replay --rules-only --since DATE [--until DATE] [--config F] [--json]",
		"Prints what the rules of the configuration would decide now on the orders received since\n"+
			"DATE (YYYY-MM-DD or RFC 3339), re-reading each EDI or JSON order from its archived raw\n"+
			"document (a captured e-mail or fax order as stored, with the reviewers' corrections), next\n"+
			"to the status it has now (status_now). It changes nothing (--rules-only is the only mode). Exit 0 when every\n"+
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
	ok, err := t.ReplayRules(ctx, from, to, *asJSON, e.stdout, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate replay: %v\n", err)
		return exitRejected
	}
	if !ok {
		return exitRejected
	}
	return exitOK
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}
