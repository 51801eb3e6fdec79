package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/ordergate/ordergate/internal/app"
	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/ediproc"
	"github.com/ordergate/ordergate/internal/pipeline"
	"github.com/ordergate/ordergate/internal/store"
)

func runParse(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "parse", "parse [--config F] [--template NAME] FILE...",
		"Prints each purchase order found in the files as one canonical JSON object per line on stdout:\n"+
			"X12 850 and EDIFACT ORDERS, and faxes and order files read by capture (.pdf, .eml, .csv, .xlsx,\n"+
			".txt): their drafts carry confidence, boxes and status (review when a field is unsure). With\n"+
			"--config, capture matches against the store's master data and the configured sender profiles.\n"+
			"Problems go to stderr as FILE: segment N (TAG) element M: message.\n"+
			"Exit status: 0 all valid, 1 any document or message rejected (valid orders are still printed), 2 usage.")
	cfgPath := fs.String("config", "", "configuration `file` whose partners decide which senders are known (default: every sender is)")
	template := fs.String("template", "", "capture: the sender profile `NAME` to read faxes and order files with")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "ordergate parse: no FILE given")
		fs.Usage()
		return exitUsage
	}
	// parse streams: it holds one message at a time. A soft memory limit
	// makes the collector keep the heap near that instead of letting it
	// double between collections (the peak RSS bar on 100 MB files);
	// GOMEMLIMIT set by the user wins.
	if e.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(parseMemoryLimit)
	}
	opts, code := processOptions(e, "parse", *cfgPath)
	if code != exitOK {
		return code
	}
	opts.NoAcks = true
	// Decode on one goroutine, map on another and write JSON on this one:
	// the messages come out in file order as before (the memory bound
	// grows by a few messages in flight).
	opts.Workers = parseWorkers
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	lines := &ediproc.OrderLines{W: out}
	status := exitOK
	var tools *app.Tools
	defer func() {
		if tools != nil {
			tools.Close(context.WithoutCancel(ctx))
		}
	}()
	for _, name := range fs.Args() {
		if app.IsCaptureFile(name) {
			cfg := &config.Config{}
			var st *store.Store
			if *cfgPath != "" {
				if tools == nil {
					var err error
					if tools, err = app.OpenTools(ctx, *cfgPath, e.stderr); err != nil {
						fmt.Fprintf(e.stderr, "ordergate parse: %v\n", err)
						return exitRejected
					}
				}
				cfg, st = tools.Config, tools.Store
			}
			orders, err := app.CaptureFile(ctx, cfg, st, name, *template, slog.New(slog.DiscardHandler))
			if err != nil {
				fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
				status = exitRejected
				continue
			}
			for _, o := range orders {
				if err := lines.Write(o); err != nil {
					return exitRejected
				}
			}
			continue
		}
		sum, err := processFile(ctx, name, opts, func(m *ediproc.Message) error {
			if !m.Accepted {
				status = exitRejected
				for _, err := range m.Errors {
					fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
				}
				return nil
			}
			if m.Order == nil {
				return nil
			}
			return lines.Write(m.Order)
		})
		if err != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
			status = exitRejected
			continue
		}
		for _, err := range sum.Errors {
			fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
			status = exitRejected
		}
		for _, ic := range sum.Interchanges {
			for _, err := range ic.Errors {
				fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
			}
			if ic.Rejected || len(ic.Errors) > 0 {
				status = exitRejected
			}
		}
	}
	return status
}

func runAck(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "ack", "ack [--config F] [--contrl=true|false] FILE",
		"Prints the acknowledgement interchange(s) the gateway sends for FILE: a 997 (or 999 where the\n"+
			"partner is configured so) per functional group and a TA1 for interchange errors for X12, a\n"+
			"CONTRL for EDIFACT. Without --config every EDIFACT interchange gets a CONTRL; with it, each\n"+
			"partner's acks.contrl decides (requested, always, never). --contrl given explicitly wins over\n"+
			"both: true answers every interchange, false only those that ask (UNB 0031 = 1).\n"+
			"Exit status: 0 ack written, 1 none possible (or none asked for), 2 usage.")
	cfgPath := fs.String("config", "", "configuration `file` with the partners' ack settings (default: every sender is a partner with 997, TA1 on errors and a CONTRL for every EDIFACT interchange)")
	contrl := fs.Bool("contrl", true, "EDIFACT: true writes a CONTRL for every interchange, false only where UNB 0031 = 1 asks for one; given explicitly, it wins over the partners' acks.contrl of --config")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "ordergate ack: exactly one FILE is needed")
		fs.Usage()
		return exitUsage
	}
	opts, code := processOptions(e, "ack", *cfgPath)
	if code != exitOK {
		return code
	}
	contrlGiven := false
	fs.Visit(func(f *flag.Flag) { contrlGiven = contrlGiven || f.Name == "contrl" })
	when := "requested"
	if *contrl {
		when = "always"
	}
	switch {
	case opts.Partner == nil:
		opts.Default.CONTRL = when
	case contrlGiven:
		opts.Partner = ediproc.WithCONTRL(opts.Partner, when)
	}
	name := fs.Arg(0)
	sum, err := processFile(ctx, name, opts, func(*ediproc.Message) error { return nil })
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
		return exitRejected
	}
	if len(sum.Acks) == 0 {
		for _, err := range sum.Errors {
			fmt.Fprintf(e.stderr, "%s: %v\n", name, err)
		}
		if sum.Unasked() {
			fmt.Fprintf(e.stderr, "%s: no acknowledgement written: no interchange asks for a CONTRL (UNB 0031 = 1) and the CONTRL setting is \"requested\" or \"never\" (--contrl=true writes one)\n", name)
			return exitRejected
		}
		if header := sum.MissingHeader(); header != "" {
			fmt.Fprintf(e.stderr, "%s: no acknowledgement is possible: no readable interchange header (%s), so there is no sender to answer\n", name, header)
			return exitRejected
		}
		fmt.Fprintf(e.stderr, "%s: no acknowledgement is possible\n", name)
		return exitRejected
	}
	for _, a := range sum.Acks {
		if _, err := e.stdout.Write(a.Body); err != nil {
			return exitRejected
		}
	}
	return exitOK
}

// processOptions builds the processing options: with a config, its
// partners decide who is known and how they are answered.
func processOptions(e *env, cmd, cfgPath string) (ediproc.Options, int) {
	var opts ediproc.Options
	if cfgPath == "" {
		return opts, exitOK
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintf(e.stderr, "ordergate %s: %v\n", cmd, err)
		return opts, exitUsage
	}
	opts.Partner = pipeline.Resolver(cfg, "", "")
	return opts, exitOK
}

func processFile(ctx context.Context, name string, opts ediproc.Options, emit func(*ediproc.Message) error) (*ediproc.Summary, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ediproc.Processor{}.Process(ctx, f, name, opts, emit)
}

// parseWorkers is the number of goroutines mapping orders in `ordergate
// parse` besides the decoding one (ediproc.Options.Workers).
const parseWorkers = 1

// parseMemoryLimit is the soft memory limit of `ordergate parse`.
const parseMemoryLimit = 32 << 20
