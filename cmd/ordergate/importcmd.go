package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ordergate/ordergate/internal/app"
	"github.com/ordergate/ordergate/internal/masterdata"
)

func runImport(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "import", "import [--config F] [--json] customers|products|prices|xrefs|rates FILE.csv...",
		"Imports master data from CSV exports (an upsert keyed by customer number, SKU, price key and\n"+
			"cross-reference key: safe to run nightly from an ERP export). Every bad line is reported as\n"+
			"FILE:LINE: column X: reason and skipped; the good lines are imported in one transaction.\n"+
			"The file formats are in testdata/masterdata/README.md. Exit 0 when every line was imported,\n"+
			"1 when any line was bad or a file could not be read, 2 on a usage error.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	asJSON := fs.Bool("json", false, "print one JSON report per file")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(e.stderr, "ordergate import: want a kind (customers, products, prices, xrefs, rates) and at least one file")
		return exitUsage
	}
	kind, err := masterdata.ParseKind(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate import: %v\n", err)
		return exitUsage
	}
	t, err := app.OpenTools(ctx, *path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate import: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	code := exitOK
	for _, file := range fs.Args()[1:] {
		rep, err := masterdata.ImportFile(ctx, t.Store, kind, file)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate import: %v\n", err)
			code = exitRejected
			continue
		}
		if !rep.OK() {
			code = exitRejected
		}
		if *asJSON {
			_ = json.NewEncoder(e.stdout).Encode(rep)
			continue
		}
		fmt.Fprint(e.stdout, rep.String())
	}
	return code
}
