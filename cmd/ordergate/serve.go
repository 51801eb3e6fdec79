package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/ordergate/ordergate/internal/app"
)

func runServe(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "serve", "serve [--config F]",
		"Runs the gateway (channels, pipeline, API) until SIGINT or SIGTERM, then drains in-flight work.")
	path := fs.String("config", defaultConfig, "configuration `file`")
	if code, ok := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "ordergate serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	setGCDefaults(e.getenv)
	opts := app.Options{ConfigPath: *path, LogOutput: e.stderr}
	// ORDERGATE_FAULT=after-intake-commit makes the process exit right
	// after an intake commit and before the source ack: the crash tests'
	// way to hit that window exactly.
	if point := e.getenv("ORDERGATE_FAULT"); point != "" {
		opts.Fault = func(at string) {
			if at == point {
				fmt.Fprintf(e.stderr, "ordergate: fault injected at %s\n", at)
				os.Exit(86)
			}
		}
	}
	// ORDERGATE_CPUPROFILE=FILE writes a CPU profile of the run (until a
	// clean stop), for `go tool pprof`.
	if file := e.getenv("ORDERGATE_CPUPROFILE"); file != "" {
		f, err := os.Create(file)
		if err != nil {
			fmt.Fprintf(e.stderr, "ordergate serve: %v\n", err)
			return exitRejected
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(e.stderr, "ordergate serve: %v\n", err)
			return exitRejected
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if err := app.Serve(ctx, opts); err != nil {
		fmt.Fprintf(e.stderr, "ordergate serve: %v\n", err)
		return exitRejected
	}
	return exitOK
}

// The collector's defaults for serve, unless the environment sets GOGC or
// GOMEMLIMIT (the Go runtime's own variables, which win): collect when
// the heap has grown by 200 % instead of 100 % (the gateway's live heap
// is small and short-lived garbage dominates: see docs/benchmarks.md for
// what it saves), with a soft limit of 150 MiB on the runtime's memory,
// at which it collects more often whatever GOGC says.
const (
	serveGCPercent   = 200
	serveMemoryLimit = 150 << 20
)

func setGCDefaults(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
