// Package faxgen renders the deterministic capture fixtures: purchase
// orders of six sender layouts (German and English, one filled in by
// hand), as faxes (1-bit page images at 204x98 "standard" or 204x196
// "fine" dpi, skewed, noisy, stamped, with a fax header line, wrapped in a
// PDF), as PDFs with a text layer, as e-mail bodies and as spreadsheet
// rows. Everything follows from a seed: the same seed gives byte-identical
// files (the PDFs' dates are fixed, all randomness is a seeded PCG).
//
// The orders are drawn from the demo master data (testdata/masterdata and
// testdata/capture/masterdata): customers, SKUs, the customers' part
// numbers and GTINs, and the prices the price list gives, so that a
// correct extraction matches master data exactly. Truth is what the
// document says, for measuring extraction accuracy.
//
// Fonts are kept in fonts/ with their licenses: DejaVu (Bitstream Vera
// license) and Humor Sans (SIL OFL 1.1, the handwriting), copied from
// Debian's fonts-dejavu-core and fonts-humor-sans.
package faxgen
