package main

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/internal/app"
)

// runCapture: `ordergate capture propose --sender S NAME` learns a sender
// profile from the reviewers' corrections of its drafts.
func runCapture(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "propose" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(e.stdout, "Usage: ordergate capture propose [--config F] --sender ADDRESS|DOMAIN NAME")
			return exitOK
		}
		fmt.Fprintln(e.stderr, "ordergate capture: want the subcommand propose")
		return exitUsage
	}
	fs := newFlags(e, "capture propose", "capture propose [--config F] --sender ADDRESS|DOMAIN NAME",
		"Proposes a capture profile NAME for a sender from the corrections reviewers made to its drafts\n"+
			"(date order, number locale, PO number pattern, header regions, column hints: each only where\n"+
			"at least two corrections agree), printed as profiles YAML for capture.profiles, with the\n"+
			"evidence as comments. It changes nothing. Exit 0 proposed, 1 no corrections (nothing printed)\n"+
			"or an error, 2 usage.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	sender := fs.String("sender", "", "the sender: an `address` or a domain")
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	if fs.NArg() != 1 || *sender == "" {
		fmt.Fprintln(e.stderr, "ordergate capture propose: want --sender and one profile NAME")
		return exitUsage
	}
	t, err := app.OpenTools(ctx, *path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate capture propose: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	n, err := t.ProposeProfile(ctx, fs.Arg(0), *sender, e.stdout)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate capture propose: %v\n", err)
		return exitRejected
	}
	if n == 0 {
		fmt.Fprintf(e.stderr, "ordergate capture propose: no reviewer corrections of drafts from %s yet\n", *sender)
		return exitRejected
	}
	return exitOK
}
