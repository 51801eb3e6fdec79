// Package masterdata imports the ERP's master data (customers with their
// ship-to addresses, products, prices, cross-references) from CSV files
// into the store, and resolves orders against it.
//
// # Import
//
// Import and ImportFile read one file of a Kind (customers, products,
// prices, xrefs): a header row of named columns (any order, case
// ignored), then one record per line. The formats are documented in
// testdata/masterdata/README.md. Every bad line is reported in the Report
// with its line number, column and reason and skipped; the good lines are
// upserted in one write transaction, keyed by natural keys, so the same
// file imported again changes nothing (Report counts inserted, updated
// and unchanged rows). Nothing is deleted. Decimals are written with a dot
// and no grouping: "1.260,00" is an error, never 1.26. Report.String
// prints the counts and every error as "FILE:LINE: column X: reason".
//
// # Resolve
//
// Resolver.Resolve (over committed data) and ResolveWith (over a
// transaction's Lookup) map an order's customer, ship-to, item ids and
// unit codes to ours, set the order's CustomerID and each line's SKU and
// unit, and append what could not be resolved to Order.Unresolved as
// "path: reason". Unit codes are mapped by the partner's unit xrefs, then
// by the UN/ECE Rec 20 or X12 table (StandardUnit). Resolving only reads;
// it makes no business decisions (blocked customers, credit, prices are
// the rules' business).
//
// # Errors
//
// ErrUnknownKind for a kind that is not one of the four. Problems in a
// file are LineErrors in the Report, not errors. Store errors are wrapped.
//
// # What it does not do
//
// No deletes and no "full sync" mode: a customer missing from tonight's
// file keeps its row (block it instead). No quantity conversion between
// units (Product.Factor gives the factor). No open-orders exposure and no
// first-order detection: those come from the orders.
package masterdata
