package main

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/internal/config"
)

const defaultConfig = "config.example.yaml"

func runConfig(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(e.stdout, "Usage: ordergate config check [--config F]")
			return exitOK
		}
		fmt.Fprintln(e.stderr, "Usage: ordergate config check [--config F]")
		return exitUsage
	}
	fs := newFlags(e, "config check", "config check [--config F] [--json]",
		"Validates the configuration file and prints every problem as file:line: path: message.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	asJSON := fs.Bool("json", false, "print the problems as JSON Lines")
	if code, ok := parseFlags(fs, e, args[1:]); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ordergate config check: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	problems := config.Check(*path)
	for _, p := range problems {
		if *asJSON {
			writeJSONLine(e.stdout, map[string]any{"file": p.File, "line": p.Line, "path": p.Path, "message": p.Msg})
		} else {
			fmt.Fprintln(e.stderr, p.String())
		}
	}
	if len(problems) > 0 {
		if !*asJSON {
			fmt.Fprintf(e.stderr, "%s: %d problem(s)\n", *path, len(problems))
		}
		return exitRejected
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "%s: ok\n", *path)
	}
	return exitOK
}
