package order

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Provenance says where each field of an order was read: field paths
// ("po_number", "lines[2].quantity") with the source position ("segment 14
// PO102"). It is kept as a list in the order the mapper recorded it, which
// is cheap to build; when a path appears more than once the last entry
// wins. In JSON it is an object with the paths as keys, sorted, as the
// canonical contract has it.
type Provenance []ProvenanceEntry

// ProvenanceEntry is one field's source position.
type ProvenanceEntry struct {
	Path  string
	Where string
}

// Set records where the value at path was read; it replaces an earlier
// entry for the same path.
func (p *Provenance) Set(path, where string) {
	*p = append(*p, ProvenanceEntry{path, where})
}

// Get returns where the value at path was read.
func (p Provenance) Get(path string) (string, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i].Path == path {
			return p[i].Where, true
		}
	}
	return "", false
}

// Map returns the provenance as a map, the last entry of a path winning.
func (p Provenance) Map() map[string]string {
	m := make(map[string]string, len(p))
	for _, e := range p {
		m[e.Path] = e.Where
	}
	return m
}

// Len returns the number of distinct paths.
func (p Provenance) Len() int { return len(p.Map()) }

// sorted returns the entries by path, one per path (the last recorded).
func (p Provenance) sorted() []ProvenanceEntry {
	if p.sortedUnique() {
		return slices.Clone(p)
	}
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(p[a].Path, p[b].Path) })
	out := make([]ProvenanceEntry, 0, len(p))
	for k, i := range idx {
		if k+1 < len(idx) && p[idx[k+1]].Path == p[i].Path {
			continue // a later entry for the same path follows
		}
		out = append(out, p[i])
	}
	return out
}

// Sorted returns the provenance as its JSON brings it back: the entries
// by path, one per path (the last recorded). It returns p itself when it
// is so already. An order whose provenance is sorted once is copied
// (Decoded) and written (Marshal) without sorting it again.
func (p Provenance) Sorted() Provenance {
	if p.sortedUnique() {
		return p
	}
	return p.sorted()
}

// sortedUnique reports whether the entries are sorted by path, one per
// path (as decoding brings them back).
func (p Provenance) sortedUnique() bool {
	for i := 1; i < len(p); i++ {
		if p[i-1].Path >= p[i].Path {
			return false
		}
	}
	return true
}

// MarshalJSON writes the object {"path": "where", ...} with sorted keys,
// escaped as encoding/json escapes strings.
func (p Provenance) MarshalJSON() ([]byte, error) {
	n := 2
	for _, e := range p {
		n += len(e.Path) + len(e.Where) + 6
	}
	return p.appendJSON(make([]byte, 0, n)), nil
}

// UnmarshalJSON reads the object form; the entries come back sorted by
// path (the order MarshalJSON writes them in), one per path: the last one
// in data, as encoding/json decoding into a map keeps. The usual form, an
// object of strings, is scanned here without a map; anything else (null
// values, values of other types, invalid JSON) goes to encoding/json, and
// its answer is the answer.
func (p *Provenance) UnmarshalJSON(data []byte) error {
	out, ok := scanProvenance(data)
	if !ok {
		return p.unmarshalMap(data)
	}
	*p = out
	return nil
}

// unmarshalMap is UnmarshalJSON by way of a map.
func (p *Provenance) unmarshalMap(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	if m == nil {
		*p = nil
		return nil
	}
	out := make(Provenance, 0, len(m))
	for k, v := range m {
		out = append(out, ProvenanceEntry{k, v})
	}
	slices.SortFunc(out, func(a, b ProvenanceEntry) int { return strings.Compare(a.Path, b.Path) })
	*p = out
	return nil
}

// scanProvenance reads null or an object whose values are all strings,
// with the entries sorted by path, one per path (the last); false when
// data is anything else, valid or not. The strings are unescaped as
// encoding/json unescapes them: invalid UTF-8 bytes and unpaired
// surrogates become U+FFFD.
func scanProvenance(data []byte) (Provenance, bool) {
	s := string(data) // one copy: unescaped keys and values are substrings of it
	i := skipSpace(s, 0)
	if strings.HasPrefix(s[i:], "null") {
		return nil, skipSpace(s, i+4) == len(s)
	}
	if i == len(s) || s[i] != '{' {
		return nil, false
	}
	out := Provenance{}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return out, skipSpace(s, i+1) == len(s)
	}
	sorted := true
	for {
		var e ProvenanceEntry
		var ok bool
		if e.Path, i, ok = scanString(s, i); !ok {
			return nil, false
		}
		if i = skipSpace(s, i); i == len(s) || s[i] != ':' {
			return nil, false
		}
		if e.Where, i, ok = scanString(s, skipSpace(s, i+1)); !ok {
			return nil, false
		}
		if n := len(out); n > 0 && out[n-1].Path >= e.Path {
			sorted = false
		}
		out = append(out, e)
		if i = skipSpace(s, i); i == len(s) {
			return nil, false
		}
		if s[i] == '}' {
			break
		}
		if s[i] != ',' {
			return nil, false
		}
		i = skipSpace(s, i+1)
	}
	if skipSpace(s, i+1) != len(s) {
		return nil, false
	}
	if !sorted {
		out = out.sorted()
	}
	return out, true
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string at s[i:], unescaped, and the index
// after it; false when there is no valid string there.
func scanString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	start := i + 1
	for j := start; j < len(s); {
		c := s[j]
		switch {
		case c == '"':
			return s[start:j], j + 1, true
		case c == '\\' || c < 0x20:
			return unescapeString(s, start, j)
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRuneInString(s[j:])
			if r == utf8.RuneError && size == 1 {
				return unescapeString(s, start, j)
			}
			j += size
		}
	}
	return "", i, false
}

// unescapeString reads the rest of the JSON string begun at s[start:],
// whose bytes up to s[j] need no unescaping.
func unescapeString(s string, start, j int) (string, int, bool) {
	b := make([]byte, 0, j-start+16)
	b = append(b, s[start:j]...)
	for j < len(s) {
		c := s[j]
		switch {
		case c == '"':
			return string(b), j + 1, true
		case c < 0x20:
			return "", j, false
		case c == '\\':
			if j+1 == len(s) {
				return "", j, false
			}
			switch e := s[j+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s, j)
				if r < 0 {
					return "", j, false
				}
				j += 6
				if utf16.IsSurrogate(r) {
					if dec := utf16.DecodeRune(r, hex4(s, j)); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						j += 6
						continue
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", j, false
			}
			j += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			j++
		default:
			r, size := utf8.DecodeRuneInString(s[j:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, unicode.ReplacementChar)
			} else {
				b = append(b, s[j:j+size]...)
			}
			j += size
		}
	}
	return "", j, false
}

// hex4 is the code unit of the escape \uXXXX at s[j:], or -1.
func hex4(s string, j int) rune {
	if j+6 > len(s) || s[j] != '\\' || s[j+1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range []byte(s[j+2 : j+6]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json writes
// it (HTML-safe: <, > and & escaped; U+2028 and U+2029 escaped; invalid
// UTF-8 replaced by U+FFFD), so orders serialize byte for byte as before.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
