package edi

import "bytes"

// Standard names an EDI syntax.
type Standard int

// The standards the gateway reads.
const (
	Unknown Standard = iota
	X12
	EDIFACT
)

// String returns the name used in the canonical order's source.standard.
func (s Standard) String() string {
	switch s {
	case X12:
		return "X12"
	case EDIFACT:
		return "EDIFACT"
	default:
		return "unknown"
	}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// SniffLen is how many leading bytes Sniff needs at most to decide.
const SniffLen = 4096

// Sniff tells X12 from EDIFACT by the first bytes of a document: an X12
// interchange starts with "ISA" followed by its element separator, an
// EDIFACT one with "UNA" (service string advice), "UNB" or, for a bare
// message without an interchange envelope, "UNH". A UTF-8 byte order mark
// and leading white space are skipped. Where the document does not start
// so, the first SniffLen bytes are searched for an interchange header
// after leading junk (banner lines some partners' systems prepend): a
// complete ISA segment (its separators in their fixed places), a UNB with
// a syntax identifier, a UNA followed by a UNB, or a UNH with a message
// type, each at the start of a line or after a non-alphanumeric byte; the
// decoders then report the junk with its position. JSON and XML documents
// (starting with '{', '[' or '<') are not searched. Anything else is
// Unknown.
func Sniff(prefix []byte) Standard {
	p := bytes.TrimPrefix(prefix, utf8BOM)
	p = bytes.TrimLeft(p, " \t\r\n\f\v\x00")
	if len(p) < 4 {
		return Unknown
	}
	switch string(p[:3]) {
	case "ISA":
		// The byte after the tag is the element separator: never a letter
		// or digit.
		if c := p[3]; !isAlnum(c) {
			return X12
		}
	case "UNA", "UNB":
		if string(p[:3]) == "UNA" || !isAlnum(p[3]) {
			return EDIFACT
		}
	case "UNH":
		if isUNH(p) {
			return EDIFACT
		}
	}
	if p[0] == '{' || p[0] == '[' || p[0] == '<' {
		return Unknown // JSON or XML that quotes EDI is not EDI
	}
	if len(p) > SniffLen {
		p = p[:SniffLen]
	}
	for i := 1; i+3 < len(p); i++ {
		if p[i] != 'I' && p[i] != 'U' || isAlnum(p[i-1]) {
			continue
		}
		switch q := p[i:]; string(q[:3]) {
		case "ISA":
			if isISA(q) {
				return X12
			}
		case "UNB":
			if isUNB(q) {
				return EDIFACT
			}
		case "UNA":
			if len(q) >= 9 && isUNB(bytes.TrimLeft(q[9:], "\r\n")) {
				return EDIFACT
			}
		case "UNH":
			if isUNH(q) {
				return EDIFACT
			}
		}
	}
	return Unknown
}

// isISA tells whether p starts with a whole ISA segment: the element
// separator after the tag and at the 15 other places the fixed lengths
// of ISA01..ISA15 put it.
func isISA(p []byte) bool {
	if len(p) < 106 || isAlnum(p[3]) {
		return false
	}
	for _, at := range [...]int{6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103} {
		if p[at] != p[3] {
			return false
		}
	}
	return true
}

// isUNB tells whether p starts with a UNB and its syntax identifier: four
// letters (UNOA, IATB, ...) after the element separator, then a
// component separator and a version digit.
func isUNB(p []byte) bool {
	if len(p) < 10 || string(p[:3]) != "UNB" || isAlnum(p[3]) {
		return false
	}
	for _, c := range p[4:8] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return !isAlnum(p[8]) && p[9] >= '0' && p[9] <= '9'
}

// isUNH tells whether p starts with a UNH: a message reference, then a
// message type of six capital letters (ORDERS, INVOIC, ...) followed by
// a component separator.
func isUNH(p []byte) bool {
	if len(p) < 12 || isAlnum(p[3]) {
		return false
	}
	sep := p[3]
	ref := bytes.IndexByte(p[4:min(len(p), 4+15)], sep)
	if ref < 1 {
		return false
	}
	t := p[4+ref+1:]
	if len(t) < 7 {
		return false
	}
	for _, c := range t[:6] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return !isAlnum(t[6]) && t[6] != sep
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
