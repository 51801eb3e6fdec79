package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ordergate/ordergate/internal/app"
	"github.com/ordergate/ordergate/internal/pipeline"
)

func runReprocess(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "reprocess", "reprocess [--config F] [--reroute] [--comment TEXT] [--json] ID...",
		"Retries dead letters or routes orders again after a fix. Each ID is an order id (ord_...: its dead\n"+
			"deliveries are retried) or a delivery id (dlv_...: that delivery is retried). With --reroute the\n"+
			"orders are routed anew under the current configuration (a new revision and new deliveries).\n"+
			"Works while the gateway runs: it sends what is due on its next poll. Exit 0 when every ID was\n"+
			"reprocessed, 1 when any was not (each with the reason), 2 on a usage error.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	reroute := fs.Bool("reroute", false, "route the orders again instead of retrying their dead deliveries")
	comment := fs.String("comment", "", "a note for the orders' timelines")
	asJSON := fs.Bool("json", false, "print one JSON object per ID")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "ordergate reprocess: no ID given")
		return exitUsage
	}
	t, err := app.OpenTools(ctx, *path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate reprocess: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	res := t.Pipeline.Reprocess(ctx, fs.Args(), pipeline.ReprocessOptions{Reroute: *reroute, Actor: "cli", Comment: *comment})
	code := exitOK
	enc := json.NewEncoder(e.stdout)
	for _, r := range res {
		if r.Error != "" {
			code = exitRejected
		}
		if *asJSON {
			_ = enc.Encode(r)
			continue
		}
		if r.Error != "" {
			fmt.Fprintf(e.stderr, "%s: %s\n", r.ID, r.Error)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: %s of order %s, deliveries %v\n", r.ID, r.Action, r.OrderID, r.Deliveries)
	}
	return code
}
