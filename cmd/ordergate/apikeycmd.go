package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ordergate/ordergate/internal/app"
)

// runAPIKey manages the web API's customer keys: create (the key is
// printed once; only its hash is kept), list and revoke.
func runAPIKey(ctx context.Context, e *env, args []string) int {
	const synopsis = "apikey [--config F] create CUSTOMER [--scopes orders:write,orders:read] | list [CUSTOMER] [--json] | revoke KEY_ID"
	fs := newFlags(e, "apikey", synopsis,
		"Manages the API keys shops and platforms post orders with (POST /api/v1/orders). A key acts for one\n"+
			"customer: orders:write posts its orders, orders:read reads them. create prints the key once; the\n"+
			"store keeps only its SHA-256. Exit 0 done, 1 failed, 2 usage.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	scopes := fs.String("scopes", "orders:write,orders:read", "comma-separated `scopes` of a new key")
	asJSON := fs.Bool("json", false, "print JSON")
	// Flags may follow the subcommand and its argument.
	var pos []string
	rest := args
	for {
		if code, ok := parseFlags(fs, e, rest); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) == 0 {
		fmt.Fprintln(e.stderr, "ordergate apikey: want create, list or revoke")
		return exitUsage
	}
	t, err := app.OpenTools(ctx, *path, e.stderr)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate apikey: %v\n", err)
		return exitRejected
	}
	defer t.Close(context.WithoutCancel(ctx))
	switch pos[0] {
	case "create":
		if len(pos) != 2 {
			fmt.Fprintln(e.stderr, "ordergate apikey create: want one CUSTOMER")
			return exitUsage
		}
		k, token, err := t.Store.CreateAPIKey(ctx, pos[1], strings.Split(*scopes, ","))
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate apikey create: %v\n", err)
			return exitRejected
		}
		if *asJSON {
			_ = json.NewEncoder(e.stdout).Encode(map[string]any{"id": k.ID, "customer_id": k.CustomerID, "scopes": k.Scopes, "key": token})
		} else {
			fmt.Fprintf(e.stdout, "%s\n", token)
			fmt.Fprintf(e.stderr, "key %s for customer %s (%s): shown once, store it now\n", k.ID, k.CustomerID, strings.Join(k.Scopes, ", "))
		}
	case "list":
		customer := ""
		if len(pos) > 1 {
			customer = pos[1]
		}
		keys, err := t.Store.ListAPIKeys(ctx, customer)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate apikey list: %v\n", err)
			return exitRejected
		}
		for _, k := range keys {
			if *asJSON {
				_ = json.NewEncoder(e.stdout).Encode(k)
				continue
			}
			state := "valid"
			if !k.RevokedAt.IsZero() {
				state = "revoked " + k.RevokedAt.Format("2006-01-02")
			}
			fmt.Fprintf(e.stdout, "%s  %s  %s…  %s  %s\n", k.ID, k.CustomerID, k.Prefix, strings.Join(k.Scopes, ","), state)
		}
	case "revoke":
		if len(pos) != 2 {
			fmt.Fprintln(e.stderr, "ordergate apikey revoke: want one KEY_ID")
			return exitUsage
		}
		if _, err := t.Store.RevokeAPIKey(ctx, pos[1]); err != nil {
			fmt.Fprintf(e.stderr, "ordergate apikey revoke: %v\n", err)
			return exitRejected
		}
	default:
		fmt.Fprintf(e.stderr, "ordergate apikey: unknown subcommand %q\n", pos[0])
		return exitUsage
	}
	return exitOK
}
