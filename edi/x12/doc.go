// Package x12 reads, checks, writes and acknowledges ASC X12
// interchanges.
//
// # Reading
//
// Reader is the streaming segment reader: it takes the separators from
// each ISA (byte 3 element separator, ISA16 component separator, the
// character after ISA16 as segment terminator, ISA11 as repetition
// separator from version 00402), so one input may hold several
// interchanges with different separators. Memory is bounded whatever the
// input size: the reader holds one segment plus a 64 KiB read chunk, and
// a segment or element over its limit (MaxSegmentSize, MaxElementSize)
// stops reading with an ErrLimit error. Each segment costs one string
// allocation; element values are substrings of it; the Segment and its
// element slices are reused and valid until the next Read (Clone keeps
// one).
//
// Layout the reader tolerates, and how far it goes:
//   - white space and line breaks between segments, a UTF-8 byte order
//     mark, empty segments;
//   - CR, LF, CRLF and control characters such as NAK (0x15) as
//     terminator; a multi-byte UTF-8 terminator (U+2026 "…") is read as
//     one character;
//   - files hard-wrapped at 80 columns, even inside the ISA: when the
//     terminator is not a line break, CR and LF inside segments are
//     dropped (they are not X12 data characters), and an ISA that is not
//     106 bytes is read by counting its 16 element separators;
//   - an ISA that is not fixed-width (unpadded, or padded with multi-byte
//     characters) is read the same way, and its fields are then checked:
//     wrong widths are TA1 errors, not garbage;
//   - a last segment without terminator.
//
// An ISA missing ISA16 (the terminator read as component separator) is
// recognized when the GS ends in the component separator: TA1 027.
//
// # Checking
//
// Decoder reads interchanges and returns one Transaction per transaction
// set, holding only that set in memory (MaxSetSize). A Transaction stays
// valid after the next Next; with ReuseSegments the decoder instead
// reuses the memory of the set's segments for the next set (their
// element slices are then valid until the next Next; values, envelope
// and errors stay valid), for callers that map each set as it comes. It checks envelopes
// (ISA field formats; control numbers ISA13/IEA02, GS06/GE02, ST02/SE02;
// the counts IEA01, GE01, SE01; missing trailers and premature end of
// input; segments outside their envelope; repeated control numbers) and,
// for the sets in its dictionary, segment order, loops, use counts,
// mandatory segments, data element types, lengths, closed code lists and
// syntax notes (paired, required, exclusion, conditional). The
// dictionary covers the 850 purchase order (4010 and 5010) and the sets
// the gateway writes: 855, 997 and 999. Other sets are checked for their
// envelope only and accepted when it is sound (SupportedSets turns them
// into AK5 1).
//
// Every finding is a *SyntaxError with its position (byte offset, segment
// ordinal in the file, tag, element, component) and the acknowledgement
// code it is reported with (TA1 note, AK9, AK5, AK3 or AK4 code); it wraps
// one sentinel (ErrEnvelope, ErrStructure, ErrElement, ErrInterchangeHeader,
// ErrSeparators, ErrLimit, ErrUnsupported, ErrDuplicate, ErrNoInterchange).
// Set-level findings are in Transaction.Errors; interchange- and
// group-level ones in Decoder.Errors and, with all an acknowledgement
// needs, in Decoder.Report once Next has returned io.EOF.
//
// Policies chosen here: an interchange whose ISA fields are invalid is
// rejected as a whole (TA1 R, its sets not accepted, no 997); trailer
// problems (IEA counts and control numbers, premature end) give a TA1 R
// while the sets are acknowledged on their own merits; a group with a
// group-level error is AK9 R. AK9 counts as received the sets read to
// their SE. Repeated control numbers are flagged, and rejected only with
// RejectDuplicates (TA1 025, AK9 19, AK5 23). ISA11 "U" is accepted in any
// version. DTM05/DTM06 are not checked as a pair, since 4010 partners
// still send the old century in DTM05; dates in sets before 004010 may be
// YYMMDD.
//
// # Writing and acknowledging
//
// Writer writes envelopes with per-partner delimiters, control numbers
// from a ControlNumbers source (Counter in memory; the store persists
// them), counts computed and ISA fields padded; it refuses any value that
// contains a separator or a line break. WritePOAck writes an 855 from a
// neutral POAck. Acknowledge writes, from a Report, a 997 (or 999) per
// group with AK1..AK9 (IK3/IK4/IK5 and CTX for 999) and a TA1 where the
// interchange has errors or asks for one, sender and receiver swapped.
//
// # What it does not do
//
// It does not know what a BEG03 means (package normalize maps sets to
// orders), does not validate code lists that are open-ended in the
// standard (units, product ID qualifiers, entity codes: they are listed
// for reference only), has no dictionary for sets other than 850, 855,
// 997 and 999, and does not read security segments (ISB/ISE are
// skipped, S3S..S4E unknown).
package x12
