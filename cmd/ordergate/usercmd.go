package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/internal/app"
	"github.com/ordergate/ordergate/internal/web"
)

// runUser manages the web UI's users: `ordergate user [--config F] add
// NAME --role R | passwd NAME | role NAME --role R | disable NAME |
// enable NAME | list [--json]`. The password is read from standard input.
func runUser(ctx context.Context, e *env, args []string) int {
	path := defaultConfig
	for len(args) > 0 && (args[0] == "--config" || args[0] == "-config" || strings.HasPrefix(args[0], "--config=")) {
		if v, ok := strings.CutPrefix(args[0], "--config="); ok {
			path, args = v, args[1:]
			continue
		}
		if len(args) < 2 {
			fmt.Fprintln(e.stderr, "ordergate user: --config needs a file")
			return exitUsage
		}
		path, args = args[1], args[2:]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		// UserCommand prints its usage; the store is not needed for it.
		return web.UserCommand(ctx, nil, args, e.stdin, e.stdout, e.stderr)
	}
	t, err := app.OpenTools(ctx, path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate user: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	return web.UserCommand(ctx, t.Store, args, e.stdin, e.stdout, e.stderr)
}
