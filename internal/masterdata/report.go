package masterdata

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Kind is the kind of a master data file.
type Kind string

// The kinds of master data files.
const (
	Customers Kind = "customers" // customers and their ship-to addresses
	Products  Kind = "products"  // products with units, pack sizes, minimum order quantity
	Prices    Kind = "prices"    // contract, price list and list prices with quantity breaks
	Xrefs     Kind = "xrefs"     // partners' party ids, item ids and unit codes to ours
	Rates     Kind = "rates"     // exchange rates: currency pair, rate, valid_from
)

// Kinds lists the kinds in the order an import of everything runs:
// prices and xrefs refer to customers and products.
var Kinds = []Kind{Customers, Products, Prices, Xrefs, Rates}

// ParseKind returns the kind named s, or ErrUnknownKind.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w %q (one of customers, products, prices, xrefs, rates)", ErrUnknownKind, s)
}

// LineError is a problem with one line of a file: its 1-based line
// number, the column (header name; "" for the whole line) and why. Line 1
// is the header.
type LineError struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// Error renders the error as "FILE:LINE: column X: reason".
func (e LineError) Error() string {
	file := e.File
	if file == "" {
		file = "-"
	}
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %s", file, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d: column %s: %s", file, e.Line, e.Column, e.Reason)
}

// Counts says what an import did with the rows of one table.
type Counts struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// Report is the outcome of importing one file: how many data lines it
// had, what happened to the rows (in total and per table) and every bad
// line. Bad lines are skipped; the good ones are imported.
type Report struct {
	File      string            `json:"file,omitempty"`
	Kind      Kind              `json:"kind"`
	Lines     int               `json:"lines"` // data lines, not counting the header
	Inserted  int               `json:"inserted"`
	Updated   int               `json:"updated"`
	Unchanged int               `json:"unchanged"`
	Tables    map[string]Counts `json:"tables,omitempty"`
	Errors    []LineError       `json:"errors,omitempty"`
	// ErrorsOmitted counts the bad lines beyond MaxErrors, which are
	// skipped like the others but not listed.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
}

// MaxErrors is how many line errors a Report lists; further ones are
// counted in ErrorsOmitted.
const MaxErrors = 1000

// OK reports whether every line was imported.
func (r *Report) OK() bool { return len(r.Errors) == 0 && r.ErrorsOmitted == 0 }

func (r *Report) count(table, what string) {
	if r.Tables == nil {
		r.Tables = map[string]Counts{}
	}
	c := r.Tables[table]
	switch what {
	case "inserted":
		c.Inserted++
		r.Inserted++
	case "updated":
		c.Updated++
		r.Updated++
	default:
		c.Unchanged++
		r.Unchanged++
	}
	r.Tables[table] = c
}

func (r *Report) addErrors(errs []LineError) {
	for _, e := range errs {
		if len(r.Errors) >= MaxErrors {
			r.ErrorsOmitted++
			continue
		}
		e.File = r.File
		r.Errors = append(r.Errors, e)
	}
	sort.SliceStable(r.Errors, func(i, j int) bool { return r.Errors[i].Line < r.Errors[j].Line })
}

// String renders the report as WriteTo writes it.
func (r *Report) String() string {
	var b strings.Builder
	r.WriteTo(&b) //nolint:errcheck // a strings.Builder does not fail
	return b.String()
}

// WriteTo writes a summary line, a line per table, and every error as
// "FILE:LINE: column X: reason".
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	file := r.File
	if file == "" {
		file = "-"
	}
	bad := len(r.Errors) + r.ErrorsOmitted
	fmt.Fprintf(&b, "%s: %s: %d lines: %d inserted, %d updated, %d unchanged, %d errors\n",
		file, r.Kind, r.Lines, r.Inserted, r.Updated, r.Unchanged, bad)
	tables := make([]string, 0, len(r.Tables))
	for t := range r.Tables {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		c := r.Tables[t]
		fmt.Fprintf(&b, "  %s: %d inserted, %d updated, %d unchanged\n", t, c.Inserted, c.Updated, c.Unchanged)
	}
	for _, e := range r.Errors {
		e.File = r.File
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	if r.ErrorsOmitted > 0 {
		fmt.Fprintf(&b, "%s: %d more errors not listed\n", file, r.ErrorsOmitted)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}
