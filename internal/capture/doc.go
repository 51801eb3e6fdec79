// Package capture is the glue that turns a captured document (a fax or
// PDF, an e-mail body, CSV or XLSX rows) into a draft canonical order:
// it runs OCR or reads the text layer (internal/ocr), picks the sender's
// profile, and calls the template-free extraction (normalize/capture)
// with master data from the store (StoreMasterData).
//
// Capture never fails on a doubtful document: doubt is a low confidence
// and the draft's status review; a PDF in which nothing was recognised is
// an empty draft in review. It fails with ocr.ErrUnreadable for a
// document that cannot be read within the limits (a broken PDF, a PDF
// bomb: the caller sends it to review or quarantine), with
// ncapture.ErrNoOrder for a text or CSV without an order, with
// ErrNoTemplate for an unknown --template, and with other errors for
// failures of the tools or the master data.
//
// Compare and Tally measure a draft against the order as it should be
// (the fixture's truth, or the order after review): per-field and
// whole-line accuracy, touchless rate, wrong auto-accepted fields, per
// sender or layout.
//
// Cache is a Recognizer that keeps tesseract's TSV output per PDF (by
// SHA-256) in a directory, so that tests run extraction on cached OCR.
package capture
