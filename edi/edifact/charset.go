package edifact

import (
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// charsetKind is how a syntax level's bytes become UTF-8.
type charsetKind uint8

const (
	kindASCII charsetKind = iota // levels A and B: a subset of ISO 646
	kindLatin                    // ISO 8859 parts: one byte per character
	kindUTF8                     // UNOW, UNOY: UTF-8
)

// charset is the repertoire and encoding named by a UNB syntax identifier.
type charset struct {
	id      string
	kind    charsetKind
	allowed *[256]bool    // kindASCII: the bytes the level allows
	decode  *[128][]byte  // kindLatin: UTF-8 of bytes 0x80..0xFF; nil entry for an undefined byte
	enc     map[rune]byte // kindLatin: the byte of each rune above 0x7F
}

var (
	levelA, levelB [256]bool
	latin1Decode   = buildDecode(charmap.ISO8859_1)
)

func init() {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>") {
		levelA[c], levelB[c] = true, true
	}
	for c := 'a'; c <= 'z'; c++ {
		levelB[c] = true
	}
}

func buildDecode(cm *charmap.Charmap) *[128][]byte {
	var t [128][]byte
	for i := range t {
		r := cm.DecodeByte(byte(0x80 + i))
		if r == utf8.RuneError {
			continue
		}
		t[i] = utf8.AppendRune(nil, r)
	}
	return &t
}

func latin(id string, cm *charmap.Charmap) *charset {
	d := latin1Decode
	if cm != charmap.ISO8859_1 {
		d = buildDecode(cm)
	}
	enc := make(map[rune]byte, 128)
	for i, u := range d {
		if u != nil {
			r, _ := utf8.DecodeRune(u)
			enc[r] = byte(0x80 + i)
		}
	}
	return &charset{id: id, kind: kindLatin, decode: d, enc: enc}
}

// charsets maps the syntax identifiers (UNB S001 0001) this package reads.
// IATA and IATB are IATA's identifiers for levels A and B.
var charsets = map[string]*charset{
	"UNOA": {id: "UNOA", kind: kindASCII, allowed: &levelA},
	"UNOB": {id: "UNOB", kind: kindASCII, allowed: &levelB},
	"IATA": {id: "IATA", kind: kindASCII, allowed: &levelA},
	"IATB": {id: "IATB", kind: kindASCII, allowed: &levelB},
	"UNOC": latin("UNOC", charmap.ISO8859_1),
	"UNOD": latin("UNOD", charmap.ISO8859_2),
	"UNOE": latin("UNOE", charmap.ISO8859_5),
	"UNOF": latin("UNOF", charmap.ISO8859_7),
	"UNOG": latin("UNOG", charmap.ISO8859_3),
	"UNOH": latin("UNOH", charmap.ISO8859_4),
	"UNOI": latin("UNOI", charmap.ISO8859_6),
	"UNOJ": latin("UNOJ", charmap.ISO8859_8),
	"UNOK": latin("UNOK", charmap.ISO8859_9),
	"UNOW": {id: "UNOW", kind: kindUTF8},
	"UNOY": {id: "UNOY", kind: kindUTF8},
}

// fallbackCharset decodes interchanges whose syntax identifier is not
// supported (they are rejected with code 2), so that their values are
// still valid UTF-8 in error messages.
var fallbackCharset = latin("", charmap.ISO8859_1)

func lookupCharset(id string) (*charset, bool) {
	cs, ok := charsets[id]
	return cs, ok
}

// SupportedSyntax reports whether the syntax identifier (UNB S001 0001,
// such as "UNOC") is one this package reads and writes.
func SupportedSyntax(id string) bool {
	_, ok := charsets[id]
	return ok
}

// badByte reports whether c is not a character of the repertoire, looking
// at one byte: ASCII levels allow their table; the others refuse control
// characters (C0, DEL and, for Latin parts, C1).
func (cs *charset) badByte(c byte) bool {
	switch cs.kind {
	case kindASCII:
		return !cs.allowed[c]
	case kindLatin:
		return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0) || (c >= 0x80 && cs.decode[c-0x80] == nil)
	default:
		return c < 0x20 || c == 0x7F
	}
}

// encodeRune returns the bytes of r in the charset, or false when the
// level cannot carry r.
func (cs *charset) encodeRune(dst []byte, r rune) ([]byte, bool) {
	switch cs.kind {
	case kindASCII:
		if r < 0x80 && cs.allowed[r] {
			return append(dst, byte(r)), true
		}
		return dst, false
	case kindLatin:
		if r < 0x80 {
			if r < 0x20 || r == 0x7F {
				return dst, false
			}
			return append(dst, byte(r)), true
		}
		b, ok := cs.enc[r]
		if !ok || b < 0xA0 {
			return dst, false
		}
		return append(dst, b), true
	default:
		if r < 0x20 || r == 0x7F {
			return dst, false
		}
		return utf8.AppendRune(dst, r), true
	}
}
