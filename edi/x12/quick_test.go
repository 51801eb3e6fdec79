package x12

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/edi"
)

// checkPasses fails when segDef.passes accepts s (for some definition
// of its tag, dates mode and plain flag) while the full check finds a
// problem: passes may only answer true where validateAll agrees. It
// returns how many checks passed.
func checkPasses(t *testing.T, s *edi.Segment) int {
	t.Helper()
	vals, _, _ := s.Flat()
	plain := true
	for _, v := range vals {
		plain = plain && plainASCII(v)
	}
	n := 0
	for _, segs := range []map[string]*segDef{segments4010, segments5010} {
		d := segs[s.Tag]
		if d == nil || !d.quickOK {
			continue
		}
		for _, legacy := range []bool{false, true} {
			for _, p := range []bool{false, plain} {
				if !d.passes(s, legacy, p) {
					continue
				}
				n++
				if errs := d.validateAll(s, nil, legacy, p); len(errs) > 0 {
					t.Fatalf("%s %q (legacy dates %v, plain %v): passes, but the full check finds %+v", s.Tag, vals, legacy, p, errs)
				}
			}
		}
	}
	return n
}

// tricky are values put in place of each element in turn.
var tricky = []string{"", "-", ".", "-.", "1.2.3", "1..2", "-1", "--1", "1-", "0", "00", "12", "1.5", "-0.25", "123456789012345678901",
	"A", "AB", "ABC", "ABCD", "ABCDE", "00", "SA", "USD", "usd", "BY", "BP", "F", "X", "TT", "20261008", "20261332", "261008",
	"20260229", "20280229", "1230", "2460", "123059", "12305", "é", "a\x01b", "\x7f", " ", "  A  ", strings.Repeat("X", 81),
	strings.Repeat("9", 16), strings.Repeat("9", 18), "1,5"}

// TestPassesAgreesWithValidateAll puts tricky values in each element of
// the segments of the test files and checks passes against the full
// check.
func TestPassesAgreesWithValidateAll(t *testing.T) {
	inputs := []string{base850}
	files, _ := filepath.Glob("testdata/*.x12")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	tried, passed := 0, 0
	for _, in := range inputs {
		segs, err := readSegments([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range segs {
			s := rs.seg
			orig, elem, _ := s.Flat()
			if elem != nil {
				checkPasses(t, &s)
				continue
			}
			for i := range len(orig) + 2 {
				for _, v := range tricky {
					vals := append([]string(nil), orig...)
					for len(vals) <= i {
						vals = append(vals, "")
					}
					vals[i] = v
					m := edi.Segment{Tag: s.Tag}
					m.SetFlat(vals, nil, nil)
					tried++
					passed += checkPasses(t, &m)
					// Every element but i emptied, and only i kept.
					only := make([]string, len(vals))
					only[i] = v
					m.SetFlat(only, nil, nil)
					passed += checkPasses(t, &m)
				}
			}
		}
	}
	if passed == 0 || passed == 4*tried {
		t.Fatalf("%d of %d variants passed: the test does not reach both answers", passed, tried)
	}
}
