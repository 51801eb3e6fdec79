package order

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

// MarshalJSON writes the object {"path": "where", ...} with sorted keys,
// escaped as encoding/json escapes strings.
func (p Provenance) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("null"), nil
	}
	entries := p.sorted()
	n := 2
	for _, e := range entries {
		n += len(e.Path) + len(e.Where) + 6
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e.Path)
		b = append(b, ':')
		b = appendJSONString(b, e.Where)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object form; the entries come back sorted by
// path (the order MarshalJSON writes them in).
func (p *Provenance) UnmarshalJSON(data []byte) error {
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
