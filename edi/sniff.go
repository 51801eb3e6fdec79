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
const SniffLen = 512

// Sniff tells X12 from EDIFACT by the first bytes of a document: an X12
// interchange starts with "ISA" followed by its element separator, an
// EDIFACT one with "UNA" (service string advice) or "UNB". A UTF-8 byte
// order mark and leading white space are skipped. Anything else is Unknown.
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
	case "UNA":
		return EDIFACT
	case "UNB":
		if c := p[3]; !isAlnum(c) {
			return EDIFACT
		}
	}
	return Unknown
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
