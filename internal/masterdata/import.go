package masterdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/govalues/decimal"

	"github.com/ordergate/ordergate/internal/store"
	"github.com/ordergate/ordergate/normalize/order"
)

// ErrUnknownKind: the kind is not customers, products, prices, xrefs or
// rates.
var ErrUnknownKind = errors.New("masterdata: unknown kind")

// ImportFile imports the file at path (see Import); the report names the
// file.
func ImportFile(ctx context.Context, st *store.Store, kind Kind, path string) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{File: path, Kind: kind}, fmt.Errorf("importing %s: %w", kind, err)
	}
	defer f.Close()
	return importNamed(ctx, st, kind, f, path)
}

// Import reads a CSV file of the kind from r and upserts its good lines in
// one write transaction, keyed by natural keys (customer number, SKU,
// (customer or price list, SKU, min_qty, valid_from), the xref keys).
// Every bad line is reported in Report.Errors with its line number, column
// and reason, and skipped; a bad header imports nothing. Importing the same
// file again changes nothing (every row counts as unchanged). Nothing is
// deleted: a row missing from the file stays as it was.
//
// The error is for what is not the file's fault: an unknown kind, a read
// error, the database. Problems in the file are in the report.
func Import(ctx context.Context, st *store.Store, kind Kind, r io.Reader) (Report, error) {
	return importNamed(ctx, st, kind, r, "")
}

func importNamed(ctx context.Context, st *store.Store, kind Kind, r io.Reader, name string) (Report, error) {
	rep := Report{File: name, Kind: kind}
	spec, ok := specs[kind]
	if !ok {
		return rep, fmt.Errorf("importing: %w %q", ErrUnknownKind, kind)
	}
	rows, lines, errs, err := readCSV(r, spec)
	rep.Lines = lines
	if err != nil {
		rep.addErrors(errs)
		return rep, fmt.Errorf("importing %s: %w", kind, err)
	}
	parsed, perrs := spec.parse(rows)
	errs = append(errs, perrs...)
	var txErrs []LineError
	var counts Report
	err = st.Write(ctx, func(tx *store.Tx) error {
		// Write may run this more than once: start from nothing each time.
		txErrs, counts = nil, Report{}
		for _, p := range parsed {
			e, err := p.apply(ctx, tx, &counts)
			if err != nil {
				return err
			}
			if e != nil {
				txErrs = append(txErrs, *e)
			}
		}
		return nil
	})
	if err != nil {
		rep.addErrors(errs)
		return rep, fmt.Errorf("importing %s: %w", kind, err)
	}
	rep.Inserted, rep.Updated, rep.Unchanged, rep.Tables = counts.Inserted, counts.Updated, counts.Unchanged, counts.Tables
	rep.addErrors(append(errs, txErrs...))
	return rep, nil
}

// record is one data line of a file: its line number and its fields by
// column name (absent columns read as "").
type record struct {
	line   int
	fields map[string]string
}

func (r record) get(col string) string { return r.fields[col] }

// column describes a column of a file kind.
type column struct {
	name     string
	required bool // the column must be in the header and the value non-empty
}

// fileSpec is what Import knows about a kind.
type fileSpec struct {
	columns []column
	parse   func([]record) ([]pending, []LineError)
}

// pending is a parsed line (or group of lines) waiting for the write
// transaction. apply upserts it and returns a line error when a reference
// it makes does not exist, or an error that aborts the import.
type pending struct {
	apply func(ctx context.Context, tx *store.Tx, rep *Report) (*LineError, error)
}

var specs = map[Kind]fileSpec{
	Customers: {columns: customerColumns, parse: parseCustomers},
	Products:  {columns: productColumns, parse: parseProducts},
	Prices:    {columns: priceColumns, parse: parsePrices},
	Xrefs:     {columns: xrefColumns, parse: parseXrefs},
	Rates:     {columns: rateColumns, parse: parseRates},
}

// readCSV reads the header and the records. Comma is the delimiter unless
// the header has semicolons and no commas (a spreadsheet saved in a
// locale with decimal commas). A UTF-8 byte order mark is dropped. A bad
// header returns no records and the header's errors.
func readCSV(r io.Reader, spec fileSpec) (recs []record, lines int, errs []LineError, err error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3) //nolint:errcheck // peeked
	}
	first, _ := br.Peek(4096)
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	cr := csv.NewReader(br)
	if bytes.IndexByte(first, ';') >= 0 && bytes.IndexByte(first, ',') < 0 {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	var header []string
	for header == nil {
		h, err := cr.Read()
		if err == io.EOF {
			return nil, 0, []LineError{{Line: 1, Reason: "empty file: no header"}}, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, 0, []LineError{{Line: pe.StartLine, Reason: "header: " + pe.Err.Error()}}, nil
		}
		if err != nil {
			return nil, 0, nil, fmt.Errorf("reading the header: %w", err)
		}
		header = h
	}
	headerLine, _ := cr.FieldPos(0)
	index, herrs := checkHeader(header, headerLine, spec)
	if len(herrs) > 0 {
		return nil, 0, herrs, nil
	}
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			lines++
			errs = append(errs, LineError{Line: pe.StartLine, Reason: "CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return recs, lines, errs, fmt.Errorf("reading line %d: %w", headerLine+lines+1, err)
		}
		lines++
		line, _ := cr.FieldPos(0)
		if len(fields) != len(header) {
			errs = append(errs, LineError{Line: line, Reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(header))})
			continue
		}
		rec := record{line: line, fields: make(map[string]string, len(index))}
		bad := false
		for i, f := range fields {
			col := index[i]
			if !utf8.ValidString(f) {
				errs = append(errs, LineError{Line: line, Column: col, Reason: "not UTF-8 (export the file as UTF-8)"})
				bad = true
				continue
			}
			f = strings.TrimSpace(f)
			if strings.ContainsFunc(f, unicode.IsControl) {
				errs = append(errs, LineError{Line: line, Column: col, Reason: "contains a control character"})
				bad = true
				continue
			}
			rec.fields[col] = f
		}
		if bad {
			continue
		}
		recs = append(recs, rec)
	}
	return recs, lines, errs, nil
}

// checkHeader maps field positions to column names and reports unknown,
// repeated and missing required columns.
func checkHeader(header []string, line int, spec fileSpec) ([]string, []LineError) {
	known := map[string]bool{}
	var names []string
	for _, c := range spec.columns {
		known[c.name] = true
		names = append(names, c.name)
	}
	var errs []LineError
	index := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !utf8.ValidString(name):
			errs = append(errs, LineError{Line: line, Reason: fmt.Sprintf("header field %d is not UTF-8", i+1)})
		case !known[name]:
			errs = append(errs, LineError{Line: line, Column: name,
				Reason: "unknown column (known: " + strings.Join(names, ", ") + ")"})
		case seen[name]:
			errs = append(errs, LineError{Line: line, Column: name, Reason: "column appears twice"})
		}
		seen[name] = true
		index[i] = name
	}
	for _, c := range spec.columns {
		if c.required && !seen[c.name] {
			errs = append(errs, LineError{Line: line, Column: c.name, Reason: "required column missing from the header"})
		}
	}
	return index, errs
}

// fieldErrs collects the problems of one record.
type fieldErrs struct {
	rec  record
	errs []LineError
}

func (f *fieldErrs) add(col, format string, args ...any) {
	f.errs = append(f.errs, LineError{Line: f.rec.line, Column: col, Reason: fmt.Sprintf(format, args...)})
}

// text returns a column's value, reporting it when required and empty.
func (f *fieldErrs) text(col string, required bool) string {
	v := f.rec.get(col)
	if required && v == "" {
		f.add(col, "required")
	}
	return v
}

// code is an identifier: no spaces inside, at most 64 characters.
func (f *fieldErrs) code(col string, required bool) string {
	v := f.text(col, required)
	switch {
	case strings.ContainsFunc(v, unicode.IsSpace):
		f.add(col, "%q has spaces", v)
	case utf8.RuneCountInString(v) > 64:
		f.add(col, "longer than 64 characters")
	}
	return v
}

// unit is a unit code: 1 to 8 letters and digits, upper-cased.
func (f *fieldErrs) unit(col string, required bool) string {
	v := strings.ToUpper(f.text(col, required))
	if v != "" && !isUnitCode(v) {
		f.add(col, "unit %q is not 1 to 8 letters and digits", v)
	}
	return v
}

func isUnitCode(s string) bool {
	if len(s) == 0 || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// decimal parses a decimal written with a dot and no grouping ("1260.00").
// A comma is an error, not a decimal mark: "1.260,00" must not become
// 1.26. Negative values are errors unless negative is true.
func (f *fieldErrs) decimal(col string, required, negative bool) *decimal.Decimal {
	v := f.text(col, required)
	if v == "" {
		return nil
	}
	d, reason := parseDecimal(v)
	if reason != "" {
		f.add(col, "%s", reason)
		return nil
	}
	if d.IsNeg() && !negative {
		f.add(col, "%s is negative", v)
		return nil
	}
	return &d
}

// parseDecimal accepts [+-]digits[.digits] and nothing else.
func parseDecimal(v string) (decimal.Decimal, string) {
	s := strings.TrimLeft(v, "+-")
	if len(v)-len(s) > 1 {
		return decimal.Decimal{}, fmt.Sprintf("%q is not a decimal number", v)
	}
	if strings.Contains(s, ",") {
		return decimal.Decimal{}, fmt.Sprintf("%q has a comma: write decimals with a dot and no thousands separator (1260.00)", v)
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return decimal.Decimal{}, fmt.Sprintf("%q is not a decimal number (digits with an optional dot, e.g. 1260.00)", v)
	}
	if len(frac) > 9 {
		return decimal.Decimal{}, fmt.Sprintf("%q has more than 9 decimal places", v)
	}
	d, err := decimal.Parse(v)
	if err != nil {
		return decimal.Decimal{}, fmt.Sprintf("%q: %v", v, err)
	}
	return d, ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (f *fieldErrs) date(col string) order.Date {
	v := f.text(col, false)
	if v == "" {
		return order.Date{}
	}
	d, err := order.ParseDate(v)
	if err != nil {
		f.add(col, "%q is not a date YYYY-MM-DD", v)
	}
	return d
}

func (f *fieldErrs) currency(col string, required bool) string {
	v := f.text(col, required)
	if v != "" && (len(v) != 3 || strings.ToUpper(v) != v || !isLetters(v)) {
		f.add(col, "%q is not an ISO 4217 currency code (EUR, USD)", v)
	}
	return v
}

func isLetters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func (f *fieldErrs) email(col string) string {
	v := f.text(col, false)
	if v == "" {
		return ""
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		f.add(col, "%q is not an e-mail address", v)
	}
	return v
}

func (f *fieldErrs) boolean(col string) bool {
	switch strings.ToLower(f.text(col, false)) {
	case "", "0", "false", "no", "n":
		return false
	case "1", "true", "yes", "y":
		return true
	default:
		f.add(col, "%q is not a yes/no value (1, 0, true, false, yes, no)", f.rec.get(col))
		return false
	}
}

func (f *fieldErrs) gtin(col string) string {
	v := f.text(col, false)
	if v != "" && store.GTIN14(v) == "" {
		f.add(col, "GTIN %q is not 8, 12, 13 or 14 digits", v)
	}
	return v
}

func (f *fieldErrs) country(col string) string {
	v := f.text(col, false)
	if v != "" && (len(v) != 2 || !isLetters(v)) {
		f.add(col, "%q is not an ISO 3166 country code (DE, US)", v)
	}
	return v
}

// firstLines remembers the first line of each key, to report repeats.
type firstLines map[string]int

// dup reports whether key was seen before and records it otherwise.
func (s firstLines) dup(f *fieldErrs, col, key string) bool {
	if prev, ok := s[key]; ok {
		f.add(col, "repeats the key of line %d", prev)
		return true
	}
	s[key] = f.rec.line
	return false
}

// notFound turns a store lookup that found nothing into a line error.
func notFound(err error, line int, col, reason string) (*LineError, error) {
	if errors.Is(err, store.ErrNotFound) {
		return &LineError{Line: line, Column: col, Reason: reason}, nil
	}
	return nil, err
}

func countUpsert(rep *Report, table string, u store.Upsert) {
	rep.count(table, u.String())
}
