package main

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/internal/app"
	"github.com/ordergate/ordergate/internal/config"
)

func runMigrate(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "migrate", "migrate [--config F]",
		"Brings the database's schema up to date (the store's migrations, the queue's and the\n"+
			"leases' tables) and prints each migration it applied. serve does the same at start;\n"+
			"with postgres, run it once before starting the nodes of a new version.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ordergate migrate: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate migrate:", err)
		return exitRejected
	}
	applied, err := app.Migrate(ctx, cfg, cfg.Log.NewLogger(e.stderr))
	for _, m := range applied {
		fmt.Fprintln(e.stdout, "applied", m)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "ordergate migrate:", err)
		return exitRejected
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "schema up to date")
	}
	return exitOK
}
