// Package order is the canonical purchase order: the one shape every
// channel's document is normalized into, and the JSON contract that
// `ordergate parse` prints and the API returns (ARCHITECTURE section 3).
//
// Money and quantities are exact decimals (github.com/govalues/decimal),
// written in JSON as strings with '.' as decimal mark and the scale the
// sender used ("12.50" stays "12.50"). Dates are calendar dates without a
// time zone, written as YYYY-MM-DD.
//
// Provenance (a list, cheap to build, written in JSON as an object) maps a
// field path ("po_number", "lines[2].quantity",
// "parties[0].address.city") to where in the source the value was read
// ("segment 14 PO102"). Captured documents add per-field Confidence and
// Boxes.
//
// Validate reports every problem of an order at once, each a *FieldError
// with the field path. The package imports only the standard library and
// the decimal package: no I/O, no knowledge of EDI syntax.
package order
