package edi

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestSegmentFlat checks the accessors on both flat forms (all simple,
// and with components and repetitions) against the nested elements the
// segments were built from.
func TestSegmentFlat(t *testing.T) {
	tests := [][]Element{
		nil,
		{{{"1"}}, {{"24"}}, {{""}}, {{"EA"}}},
		{{{"A", "B"}, {"C"}, {"D", ""}}, {{""}}, {{"x"}}, {{"1", "2", "3"}}},
		{{{"a"}, {"b"}}, {{"c"}}},
	}
	for _, els := range tests {
		s := NewSegment("TST", els...)
		if s.Len() != len(els) {
			t.Fatalf("%v: Len %d", els, s.Len())
		}
		for n := 0; n <= len(els)+1; n++ {
			var want [][]string
			if n >= 1 && n <= len(els) {
				want = els[n-1]
			}
			if got := s.Repetitions(n); !reflect.DeepEqual(got, want) {
				t.Errorf("%v: Repetitions(%d) = %q, want %q", els, n, got, want)
			}
			if got := s.RepetitionCount(n); got != len(want) {
				t.Errorf("%v: RepetitionCount(%d) = %d, want %d", els, n, got, len(want))
			}
			var first []string
			if len(want) > 0 {
				first = want[0]
			}
			if got := s.Components(n); !reflect.DeepEqual(got, first) {
				t.Errorf("%v: Components(%d) = %q, want %q", els, n, got, first)
			}
			for c := 0; c <= 4; c++ {
				w := ""
				if c >= 1 && c <= len(first) {
					w = first[c-1]
				}
				if got := s.Component(n, c); got != w {
					t.Errorf("%v: Component(%d, %d) = %q, want %q", els, n, c, got, w)
				}
			}
			empty := true
			for _, r := range want {
				for _, v := range r {
					empty = empty && v == ""
				}
			}
			if got := s.Empty(n); got != empty {
				t.Errorf("%v: Empty(%d) = %v, want %v", els, n, got, empty)
			}
			if got := s.Simple(n); got != (len(want) == 1 && len(want[0]) == 1) {
				t.Errorf("%v: Simple(%d) = %v", els, n, got)
			}
		}
		c := s.Clone()
		if c.String() != s.String() || !reflect.DeepEqual(c.Repetitions(1), s.Repetitions(1)) {
			t.Errorf("%v: Clone %q differs from %q", els, c.String(), s.String())
		}
	}
}

func TestTagsIntern(t *testing.T) {
	var tags Tags
	a := tags.Intern([]byte("PO1"))
	b := tags.Intern([]byte("PO1"))
	if a != "PO1" || b != "PO1" || unsafeData(a) != unsafeData(b) {
		t.Errorf("Intern: %q %q not shared", a, b)
	}
	for _, tag := range []string{"ST", "N1", "UNH", "X", "LONGTAG", ""} {
		if got := tags.Intern([]byte(tag)); got != tag {
			t.Errorf("Intern(%q) = %q", tag, got)
		}
	}
	if c := tags.Intern3('P'<<16 | 'O'<<8 | '1'); c != "PO1" || unsafeData(c) != unsafeData(a) {
		t.Errorf("Intern3: %q, shared %v", c, unsafeData(c) == unsafeData(a))
	}
	if c := tags.Intern3('Q'<<16 | 'T'<<8 | 'Y'); c != "QTY" || tags.Intern([]byte("QTY")) != "QTY" {
		t.Errorf("Intern3 = %q", c)
	}
	// Tags that collide beyond the four probes replace each other and
	// still come back right.
	for range 2 {
		for c := range 2000 {
			want := string([]byte{byte('A' + c%26), byte('A' + c/26%26), byte('0' + c/676)})
			if got := tags.Intern3(uint32(want[0])<<16 | uint32(want[1])<<8 | uint32(want[2])); got != want {
				t.Fatalf("Intern3(%q) = %q", want, got)
			}
		}
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }
