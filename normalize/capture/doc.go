// Package capture turns captured documents into draft canonical orders:
// faxes after OCR, PDFs with a text layer, e-mail bodies and spreadsheet
// rows (CSV, XLSX). It is pure extraction: the input is already words with
// boxes (Document), plain text (FromText) or rows (FromRows); running OCR
// and poppler is internal/ocr's business.
//
// The core is template-free: it finds header fields by their labels in
// German and English (Bestellnummer, Bestell-Nr., PO No., Datum, Date,
// Kunden-Nr., Customer No., ...) with the value to the right of or below the
// label, detects the line table by its header row, assigns the words of
// each row to the columns, and reads numbers and dates in the sender's
// locale (1.260,00 or 1,260.00; 01.02.2025). A per-sender Profile (YAML)
// overrides what the core guesses: locale, date order, anchors for header
// fields, column hints. Reviewer corrections (Correction) are labelled
// data from which ProposeProfile derives a profile.
//
// Free-text remarks go to Order.Notes with their box and provenance
// (notes[i]), never interpreted and without a confidence: a block after a
// remark label (Bemerkung, Hinweis, Anmerkung, Remarks, Note) on any
// document, and on an e-mail body every line that is not a header field,
// an order line, the total, a greeting, the lead-in or the signature.
//
// Every field of the draft gets a confidence in 0..1 and the box it was
// read from. Master data (the MasterData interface, implemented over the
// store in internal/capture) confirms or corrects what was read: the
// customer by customer number, fax or phone number, e-mail address or the
// name on the letterhead; items by our
// SKU, the customer's part number, GTIN or description, with common OCR
// slips (O/0, l/1, S/5, B/8) repaired against the item master; prices
// from the price list. The arithmetic quantity x unit price = line amount
// and the sum of the lines = the document total confirms the numbers.
// A draft whose every field reaches the threshold gets
// order.StatusReceived and goes on touchless; any other draft gets
// order.StatusReview, for a human with the document.
//
// Errors: Extract fails only when the input holds no order at all
// (ErrNoOrder); everything doubtful is a low confidence, never an error.
package capture
