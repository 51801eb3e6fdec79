// Command ordergate is the B2B order gateway: `ordergate serve` runs it;
// parse, ack and config check try its parts on files. See
// ARCHITECTURE.md section 4 for the contract of each command.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit statuses shared by the commands.
const (
	exitOK       = 0
	exitRejected = 1
	exitUsage    = 2
)

// command is one subcommand: its name, one line of help, and its run
// function, which returns the exit status.
type command struct {
	name  string
	usage string
	help  string
	run   func(ctx context.Context, env *env, args []string) int
}

// env carries the process's streams, so commands are testable in-process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func commands() []command {
	return []command{
		{"serve", "serve [--config F]", "run the gateway until SIGINT/SIGTERM, then drain", runServe},
		{"parse", "parse [flags] FILE...", "print each purchase order in the files as JSON Lines", runParse},
		{"ack", "ack [flags] FILE", "print the acknowledgements the gateway sends for a file", runAck},
		{"config", "config check [--config F]", "validate the configuration, every problem with file:line", runConfig},
		{"migrate", "migrate [--config F]", "bring the database's schema up to date (postgres: before new nodes)", runMigrate},
		{"reprocess", "reprocess [--reroute] ID...", "retry dead letters or route orders again after a fix", runReprocess},
		{"import", "import KIND FILE.csv...", "import master data (customers, products, prices, xrefs, rates)", runImport},
		{"rules", "rules test ORDER.json...", "print what the rules decide on orders, changing nothing", runRules},
		{"replay", "replay --rules-only --since DATE", "print what the rules decide on stored orders now", runReplay},
		{"user", "user add|passwd|role|list ...", "manage the web UI's users (password on stdin)", runUser},
		{"apikey", "apikey create|list|revoke ...", "manage the customers' keys of the order API", runAPIKey},
		{"capture", "capture propose --sender S NAME", "learn a sender's capture profile from reviewers' corrections", runCapture},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(e.stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "ordergate: unknown command %q\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ordergate: B2B order ingestion gateway")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  ordergate %-28s %s\n", c.usage, c.help)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'ordergate COMMAND --help' for a command's flags.")
}

// newFlags returns a FlagSet that prints the command's usage on -h and
// reports errors to stderr; parseFlags maps its outcome to an exit status.
func newFlags(e *env, c, synopsis, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: ordergate %s\n\n%s\n", synopsis, help)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args; ok is false when the command must stop with the
// returned status (0 after --help, 2 on a usage error).
func parseFlags(fs *flag.FlagSet, e *env, args []string) (status int, ok bool) {
	for _, a := range args {
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return exitOK, false
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage, false
	}
	return exitOK, true
}
