// Package edifact reads, validates and writes UN/EDIFACT interchanges:
// the service string advice (UNA), release characters, syntax levels and
// character sets, the UNB/UNZ, UNG/UNE and UNH/UNT envelopes, the ORDERS
// directory (D96A and D01B, with their EANCOM subsets EAN008/EAN010), the
// CONTRL syntax and service report and the ORDRSP order response.
//
// # Model
//
// Reader turns a byte stream into edi.Segment values with bounded memory:
// it never holds more than one 64 KiB buffer and one segment (Limits). It
// applies each interchange's UNA (any separators, decimal mark, release
// character, syntax 4 repetition separator) or the defaults (":+.? '",
// with '*' as repetition separator in syntax version 4), removes release
// characters wherever they are, also when a release character is the
// last byte of one read of the underlying io.Reader, and decodes values
// to UTF-8 by the UNB syntax identifier: UNOA and UNOB (and IATA's IATA,
// IATB) are checked against levels A and B, UNOC..UNOK are decoded as
// ISO 8859-1, -2, -5, -7, -3, -4, -6, -8 and -9, UNOW and UNOY as UTF-8.
// A character the level does not allow is reported (code 21) and kept,
// decoded as ISO 8859-1 if it is not ASCII, so every value is valid UTF-8.
// WithTolerantUTF8 decodes UNOC..UNOK segments that are valid UTF-8 as
// UTF-8.
//
// Each segment has one string allocation; element values are substrings
// of it. A segment without release characters, line breaks or bytes
// outside printable ASCII (most of them) is scanned where it lies in the
// read buffer and copied once, into that string; the others are unescaped
// byte by byte. The Segment and its slices are reused by the next
// ReadSegment: Clone keeps one. Positions: Offset is the byte offset of
// the tag, Index the ordinal in the file counting across interchanges,
// with a UNA counting as a segment (as edi.Position says: UNA, else UNB,
// is segment 1), and InMessage the position in the message (UNH = 1).
//
// Decisions on what real files do:
//   - Line breaks (CR, LF) are formatting, never data, unless the UNA makes
//     one of them a service character: they are ignored after terminators
//     and also inside a segment, even right after a release character, so
//     files wrapped at a fixed width and the corpus' "DTM+137:200508<LF>19"
//     read as if unwrapped.
//   - A UTF-8 byte order mark at the start of the file is skipped.
//   - Without a UNA the level A defaults are assumed for every syntax
//     identifier (the information separators that ISO 9735 gives level B
//     by default are not honoured; partners send a UNA or use the
//     defaults).
//   - UNB dates are accepted as YYMMDD or CCYYMMDD in every syntax version.
//
// Decoder groups segments into messages (NewDecoder, Next) and checks the
// envelopes: UNB/UNZ and UNG/UNE references (28) and counts (29), UNH/UNT
// references and segment counts, missing trailers (13), duplicate UNH 0062
// in an interchange (26), unsupported syntax identifiers or versions (2),
// unknown senders where WithKnownSender says so (23). A message whose
// directory is known (ORDERS D96A and D01B, ORDRSP D96A, CONTRL) is checked
// against it: segment order, groups and repetitions (15, 35, 36),
// mandatory segments and elements (13), too many elements or components
// (16), types (37), lengths (39, 40) and code lists (12): the closed lists
// 0081, 2379, 5025, 5125, 6063, 6069, and the key lists of the ORDERS
// mapping per directory, 1001 (document name, with the EANCOM codes of
// the subset: 50E in EAN008, 23E, 237, 258, 400-402 in EAN010), 1225
// (message function), 2005 (date/time/period function), 3035 (party
// function) and 3055 (agency): the D96A lists exactly; for D01B, whose
// lists were not available to check against, the D96A and D97A lists and
// the codes D98A to D01B can have added (codelists.go says which). 6411
// (unit) is checked for length only. Other message types (INVOIC, DESADV,
// ...) are checked for their envelope only.
//
// The Decoder builds segments straight into large shared blocks, so a
// Message and its segments stay valid after the next call of Next; with
// WithMessageReuse the memory of a message is recycled for the next one
// (valid until the following call of Next), which saves most allocations
// when each message is mapped and dropped at once. Neither holds more than
// one message, one segment and the Report, which keeps about 100 bytes per
// message (Limits.MaxReportMessages bounds it).
//
// Header errors (UNA, UNB, UNG) reject the interchange or group and every
// message in it. Trailer errors (a missing UNZ or UNE, a UNZ reference or
// count that does not match) do not take back messages that were complete
// and valid: they are reported at interchange level and a CONTRL answers
// them with action 7 and the error code (13 for the missing UNZ of the
// "lenient" files that end after UNT). A message without UNB (a bare
// message) is decoded but not accepted.
//
// # Errors
//
// Every problem is a *SyntaxError with the file position, the segment tag,
// element and component where relevant and the 0085 code a CONTRL
// reports. Its Err wraps a class: ErrEnvelope, ErrCharset, ErrDictionary,
// ErrLimit or ErrInterchangeRejected. Message problems are in
// Message.Errors (at most Limits.MaxErrorsPerMessage); interchange-level
// problems are returned by Next as errors, in file order, between the
// messages, and decoding goes on; all of them are in the Report. Errors
// that are not *SyntaxError (the underlying reader failed, the context
// ended) are final.
//
// # Writing
//
// Writer writes interchanges with a partner's separators and syntax level,
// escaping with the release character and encoding UTF-8 values in the
// level's character set; characters the level cannot carry are refused
// (ErrUnrepresentable). Control references come from ControlNumbers
// (Counter in memory). Acknowledge writes the CONTRL ("CONTRL:D:3:UN")
// for a Report; WriteOrderResponse writes an ORDRSP D96A from the neutral
// OrderResponse.
//
// # What it does not do
//
// It does not map messages to orders (package normalize does), keep
// control references across runs (the store does), check dependency
// notes between elements, validate directories other than those above,
// or read syntax 4 interactive (UIH) messages, ISO 2022 (UNOX) or KECA
// interchanges, which are rejected with code 2.
package edifact
