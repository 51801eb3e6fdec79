// Command ediload generates EDI purchase order files for load tests and
// benchmarks: n orders of a given number of lines, reproducible from a
// seed.
//
//	go run ./internal/tools/ediload -standard x12 -n 100000 -lines 10 -seed 1 -o /tmp/po.x12
//
// The X12 output is one or more interchanges of 850 purchase orders
// (4010) that pass the edi/x12 checks: a new group every 10,000 sets and
// a new interchange every 100 groups, so counts stay within the
// envelope's element sizes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"github.com/ordergate/ordergate/internal/fixtures/bulk"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ediload:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ediload", flag.ContinueOnError)
	standard := fs.String("standard", "x12", "x12 or edifact")
	n := fs.Int("n", 1000, "number of orders")
	lines := fs.Int("lines", 10, "lines per order")
	seed := fs.Int64("seed", 1, "random seed")
	out := fs.String("o", "", "output file (default standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *lines < 1 {
		return fmt.Errorf("-n and -lines must be at least 1")
	}
	var w io.Writer = stdout
	var f *os.File
	if *out != "" {
		var err error
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var err error
	switch *standard {
	case "x12":
		err = bulk.X12(bw, *n, *lines, *seed)
	case "edifact":
		err = bulk.EDIFACT(bw, *n, *lines, *seed)
	default:
		return fmt.Errorf("-standard %q is not x12 or edifact", *standard)
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	if f != nil {
		return f.Close()
	}
	return nil
}
