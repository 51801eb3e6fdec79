// Package edi holds what the X12 and UN/EDIFACT engines share: the syntax
// model (Segment, Message, Envelope), positions, and Sniff, which tells the
// two standards apart from the first bytes of a document (also after a
// few lines of junk before the interchange header, which the engines then
// report with its position).
//
// The package knows syntax only. What a BEG03 or a BGM 1004 means is the
// business of package normalize; reading, validating and writing each
// standard is the business of edi/x12 and edi/edifact.
//
// A Segment's element values are ordinary Go strings, already unescaped and
// decoded to UTF-8 by the engine that produced them, so they may be kept.
// The slices that hold a segment's elements may be reused by a streaming
// reader: copy the Segment with Clone to keep it past the reader's next
// call.
//
// edi imports only the standard library.
package edi
