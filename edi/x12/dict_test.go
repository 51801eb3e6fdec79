package x12

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/edi"
)

// TestCodeListHas checks the packed lookup against the code map.
func TestCodeListHas(t *testing.T) {
	probes := []string{"", "0", "00", "000", "0000", "00000", "A", "AB", "ABC", "ABCD", "ABCDE", "EUR", "USD", "usd", "US", "USDX", "F", "S", "I5", "I55"}
	for name, c := range codeLists {
		values := append([]string(nil), probes...)
		for code := range c.codes {
			values = append(values, code, code+"X", code[:len(code)-1])
		}
		for _, v := range values {
			_, want := c.codes[v]
			if got := c.has(v); got != want {
				t.Errorf("list %s: has(%q) = %v, want %v", name, v, got, want)
			}
		}
	}
}

// TestTagIDs checks that every tag of every set structure has an ID and
// that the IDs tell tags apart.
func TestTagIDs(t *testing.T) {
	seen := map[uint8]string{}
	for _, def := range []*setDef{set850v4, set850v5, set855v4, set855v5, set997v4, set997v5, set999v5} {
		for tag := range def.tags {
			id := tagID(tag)
			if id == 0 {
				t.Errorf("set %s: tag %s has no ID", def.id, tag)
			}
			if other, ok := seen[id]; ok && other != tag {
				t.Errorf("tags %s and %s share ID %d", tag, other, id)
			}
			seen[id] = tag
			if def.segDef(id) != def.segs[tag] {
				t.Errorf("set %s: segDef(%s) differs from segs", def.id, tag)
			}
		}
	}
	for _, tag := range []string{"", "A", "ABCD", "ZZZ", "N1 ", "n1", "B\xc3"} {
		if id := tagID(tag); id != 0 && !set850v4.tags[tag] {
			t.Errorf("tagID(%q) = %d for a tag outside the dictionary", tag, id)
		}
	}
}

// TestRuleMask checks the syntax notes against a presence mask give what
// the element by element check gives, for every note of the dictionary
// and every presence pattern of its elements.
func TestRuleMask(t *testing.T) {
	for _, segs := range []map[string]*segDef{segments4010, segments5010} {
		for tag, d := range segs {
			for _, r := range d.rules {
				if !r.masked {
					continue
				}
				slow := r
				slow.masked = false
				for pattern := range 1 << len(r.elems) {
					n := 0
					for _, p := range r.elems {
						n = max(n, p)
					}
					els := make([]edi.Element, n+1)
					for i := range els {
						els[i] = edi.Element{{""}}
					}
					for k, p := range r.elems {
						if pattern&(1<<k) != 0 {
							els[p-1] = edi.Element{{"X"}}
						}
					}
					els[n] = edi.Element{{"A", "B"}} // a composite value outside the note
					seg := edi.NewSegment(tag, els...)
					s := &seg
					got := fmt.Sprint(r.check(d, s, presence(s), nil))
					want := fmt.Sprint(slow.check(d, s, 0, nil))
					if got != want {
						t.Errorf("%s note %v, pattern %b: %s, want %s", tag, r.elems, pattern, got, want)
					}
				}
			}
		}
	}
}

// TestPlainASCII compares plainASCII, which reads eight bytes at a time,
// with a byte-by-byte check for every byte value at every position.
func TestPlainASCII(t *testing.T) {
	for n := 1; n <= 17; n++ {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("A", n))
				b[pos] = byte(c)
				want := c >= 0x20 && c < 0x7F
				if got := plainASCII(string(b)); got != want {
					t.Fatalf("plainASCII(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}
