package edi

import (
	"fmt"
	"strconv"
	"strings"
)

// Position locates a segment in its file.
type Position struct {
	// Offset is the byte offset of the segment's first byte (its tag) from
	// the start of the file.
	Offset int64
	// Index is the segment's ordinal number in the file, starting at 1 with
	// the first segment (ISA, UNA or UNB) and counting on across the
	// interchanges of the file.
	Index int
	// InMessage is the segment's ordinal number in its transaction set or
	// message, starting at 1 with ST or UNH (the position an AK3, IK3 or
	// UCS reports); 0 outside a message.
	InMessage int
}

// String renders the position as "segment N", the form used in provenance
// and in error messages.
func (p Position) String() string { return fmt.Sprintf("segment %d", p.Index) }

// Element is one data element given as its repetitions, each a list of
// components: the form in which segments are built by hand (NewSegment)
// and listed (Repetitions). A simple element has one repetition with one
// component. Repetitions exist only where the syntax has a repetition
// separator (X12 ISA11 from 00402, EDIFACT syntax version 4).
type Element [][]string

// Segment is one segment of an interchange: its tag and its data elements.
// Element references in the standards are 1-based, as are the accessors:
// Value(1) is the first data element after the tag (X12 BEG01, EDIFACT
// BGM's C002).
//
// The elements are held flat, so that a segment costs the engines no
// allocation per element: every component value of every repetition of
// every element in one list, in order, and two index lists that are nil
// for the common shapes (see SetFlat). Build segments with NewSegment or
// SetFlat and read them with the accessors.
type Segment struct {
	Tag string
	Pos Position
	// vals holds the component values in order.
	vals []string
	// elem is nil when every element is simple (element n is vals[n-1]);
	// otherwise element n has the values vals[elem[n-1]:elem[n]], and
	// len(elem) is the number of elements plus one.
	elem []int32
	// rep lists, in ascending order, the indexes in vals where a second
	// or later repetition of an element starts; nil when nothing repeats.
	rep []int32
}

// NewSegment returns a segment with the given tag and elements. An
// element without repetitions, or whose only repetition has no
// components, is written back as an empty element.
func NewSegment(tag string, elements ...Element) Segment {
	s := Segment{Tag: tag}
	simple := true
	n := 0
	for _, e := range elements {
		if len(e) != 1 || len(e[0]) != 1 {
			simple = false
		}
		for _, r := range e {
			n += len(r)
		}
	}
	s.vals = make([]string, 0, n)
	if simple {
		for _, e := range elements {
			s.vals = append(s.vals, e[0][0])
		}
		return s
	}
	s.elem = make([]int32, 0, len(elements)+1)
	for _, e := range elements {
		s.elem = append(s.elem, int32(len(s.vals)))
		for j, r := range e {
			if j > 0 {
				s.rep = append(s.rep, int32(len(s.vals)))
			}
			s.vals = append(s.vals, r...)
		}
	}
	s.elem = append(s.elem, int32(len(s.vals)))
	return s
}

// SetFlat sets the segment's elements from their flat form, without
// copying: values holds every component value of every repetition of
// every element, in order. elem gives the elements: element n (1-based)
// has the values values[elem[n-1]:elem[n]], so elem has one entry more
// than there are elements, the first 0 and the last len(values); a nil
// elem means that every element is simple (element n is values[n-1]).
// rep lists, ascending, the indexes in values at which a second or later
// repetition of an element starts (each strictly inside its element's
// range); nil when no element repeats. The segment keeps the slices.
func (s *Segment) SetFlat(values []string, elem, rep []int32) {
	s.vals, s.elem, s.rep = values, elem, rep
}

// Flat returns the segment's flat form, as SetFlat takes it. The slices
// are the segment's own: do not modify them.
func (s *Segment) Flat() (values []string, elem, rep []int32) { return s.vals, s.elem, s.rep }

// Len returns the number of data elements present, trailing empty ones
// included as they were sent.
func (s *Segment) Len() int {
	if s.elem == nil {
		return len(s.vals)
	}
	return len(s.elem) - 1
}

// span returns the range of element n (1-based, in range) in vals.
func (s *Segment) span(n int) (lo, hi int) {
	if s.elem == nil {
		return n - 1, n
	}
	return int(s.elem[n-1]), int(s.elem[n])
}

// firstRepEnd returns the end in vals of the first repetition of the
// element whose values are vals[lo:hi].
func (s *Segment) firstRepEnd(lo, hi int) int {
	for _, r := range s.rep {
		if int(r) > lo {
			if int(r) < hi {
				return int(r)
			}
			break
		}
	}
	return hi
}

// Value returns the first component of the first repetition of data element
// n (1-based), or "" when the segment has no such element.
func (s *Segment) Value(n int) string {
	if s.elem == nil {
		if uint(n-1) < uint(len(s.vals)) {
			return s.vals[n-1]
		}
		return ""
	}
	if s.rep != nil || uint(n-1) >= uint(len(s.elem)-1) || s.elem[n] == s.elem[n-1] {
		return s.component(n, 1)
	}
	return s.vals[s.elem[n-1]]
}

// Component returns component c (1-based) of the first repetition of data
// element n (1-based), or "" when absent.
func (s *Segment) Component(n, c int) string {
	if s.rep != nil {
		return s.component(n, c)
	}
	lo, hi := n-1, n
	if s.elem != nil {
		if uint(n-1) >= uint(len(s.elem)-1) {
			return ""
		}
		lo, hi = int(s.elem[n-1]), int(s.elem[n])
	} else if uint(n-1) >= uint(len(s.vals)) {
		return ""
	}
	if uint(c-1) >= uint(hi-lo) {
		return ""
	}
	return s.vals[lo+c-1]
}

// component is Component for any form.
func (s *Segment) component(n, c int) string {
	if n < 1 || n > s.Len() || c < 1 {
		return ""
	}
	lo, hi := s.span(n)
	if s.rep != nil {
		hi = s.firstRepEnd(lo, hi)
	}
	if c > hi-lo {
		return ""
	}
	return s.vals[lo+c-1]
}

// Components returns the components of the first repetition of data
// element n (1-based); nil when absent. The slice is the segment's own.
func (s *Segment) Components(n int) []string {
	if n < 1 || n > s.Len() {
		return nil
	}
	lo, hi := s.span(n)
	if s.rep != nil {
		hi = s.firstRepEnd(lo, hi)
	}
	if lo == hi {
		return nil
	}
	return s.vals[lo:hi:hi]
}

// Simple reports whether data element n (1-based) is present as a single
// value: one repetition of one component (which may be empty).
func (s *Segment) Simple(n int) bool {
	if s.elem == nil {
		return uint(n-1) < uint(len(s.vals))
	}
	return n >= 1 && n < len(s.elem) && s.elem[n]-s.elem[n-1] == 1
}

// Empty reports whether data element n (1-based) has no value other than
// empty strings; an absent element is empty.
func (s *Segment) Empty(n int) bool {
	if n < 1 || n > s.Len() {
		return true
	}
	lo, hi := s.span(n)
	for _, v := range s.vals[lo:hi] {
		if v != "" {
			return false
		}
	}
	return true
}

// RepetitionCount returns the number of repetitions of data element n
// (1-based): 0 when absent or sent without any value, 1 for an element
// that does not repeat.
func (s *Segment) RepetitionCount(n int) int {
	if n < 1 || n > s.Len() {
		return 0
	}
	lo, hi := s.span(n)
	if lo == hi {
		return 0
	}
	k := 1
	for _, r := range s.rep {
		if int(r) > lo && int(r) < hi {
			k++
		}
	}
	return k
}

// Repetition returns the components of repetition r (1-based) of data
// element n (1-based); nil when absent. The slice is the segment's own.
func (s *Segment) Repetition(n, r int) []string {
	if n < 1 || n > s.Len() || r < 1 {
		return nil
	}
	lo, hi := s.span(n)
	if lo == hi {
		return nil
	}
	start, k := lo, 1
	for _, p := range s.rep {
		if int(p) <= lo {
			continue
		}
		if int(p) >= hi {
			break
		}
		if k == r {
			return s.vals[start:p:p]
		}
		start, k = int(p), k+1
	}
	if k == r {
		return s.vals[start:hi:hi]
	}
	return nil
}

// Repetitions returns every repetition of data element n (1-based), each a
// list of components; nil when absent. The component lists are the
// segment's own; the outer list is allocated.
func (s *Segment) Repetitions(n int) [][]string {
	k := s.RepetitionCount(n)
	if k == 0 {
		return nil
	}
	out := make([][]string, k)
	for r := range out {
		out[r] = s.Repetition(n, r+1)
	}
	return out
}

// Ref returns the element reference used in provenance and errors: the tag
// and the two-digit element position, such as "BEG03" for Ref(3) of a BEG
// segment.
func (s *Segment) Ref(n int) string { return fmt.Sprintf("%s%02d", s.Tag, n) }

// Clone returns a deep copy of the segment whose slices share nothing with
// the reader that produced it.
func (s *Segment) Clone() Segment {
	c := Segment{Tag: s.Tag, Pos: s.Pos, vals: append([]string(nil), s.vals...)}
	if s.elem != nil {
		c.elem = append([]int32(nil), s.elem...)
	}
	if s.rep != nil {
		c.rep = append([]int32(nil), s.rep...)
	}
	return c
}

// String renders the segment in a neutral notation for debugging and test
// messages: TAG*a*b:c*d^e (element '*', component ':', repetition '^').
func (s *Segment) String() string {
	var b strings.Builder
	b.WriteString(s.Tag)
	for n := 1; n <= s.Len(); n++ {
		b.WriteByte('*')
		for r := 1; r <= s.RepetitionCount(n); r++ {
			if r > 1 {
				b.WriteByte('^')
			}
			b.WriteString(strings.Join(s.Repetition(n, r), ":"))
		}
	}
	return b.String()
}

// Where renders a problem's position in the form every error of the
// gateway uses (the command line's contract): "segment N (TAG)", then
// " element M" when the problem is an element's and " component C" when
// it is a component's. element and component are 1-based; 0 omits them.
func Where(segment int, tag string, element, component int) string {
	b := make([]byte, 0, 48)
	b = append(b, "segment "...)
	b = strconv.AppendInt(b, int64(segment), 10)
	b = append(b, " ("...)
	b = append(b, tag...)
	b = append(b, ')')
	if element > 0 {
		b = append(b, " element "...)
		b = strconv.AppendInt(b, int64(element), 10)
		if component > 0 {
			b = append(b, " component "...)
			b = strconv.AppendInt(b, int64(component), 10)
		}
	}
	return string(b)
}

// Tags interns segment tags: a reader keeps one, so that the tags of its
// segments (and of the errors about them) are small strings of their own
// rather than substrings of the segment text, which a reader may copy in
// blocks of several segments. The zero value is ready to use.
type Tags struct {
	slots [256]struct {
		key uint32
		tag string
	}
}

// Intern returns b as a string, the same string for the same tag of up
// to three bytes (a hash table of 256 tags, four probes; a tag that
// finds no room replaces one); a longer tag is copied each time.
func (t *Tags) Intern(b []byte) string {
	if len(b) == 0 || len(b) > 3 {
		return string(b)
	}
	k := uint32(len(b)) << 24
	for i, c := range b {
		k |= uint32(c) << (16 - 8*i)
	}
	return t.intern(k)
}

// Intern3 is Intern of the three bytes packed as b[0]<<16 | b[1]<<8 |
// b[2], for a reader that has packed them already (to compare tags as
// numbers): it spares the packing.
func (t *Tags) Intern3(packed uint32) string {
	return t.intern(3<<24 | packed&0xFFFFFF)
}

// intern looks up the tag of key k: its length in the top byte, its
// bytes below it, first byte highest.
func (t *Tags) intern(k uint32) string {
	h := (k * 0x9E3779B1) >> 24
	for p := range uint32(4) {
		sl := &t.slots[(h+p)&255]
		if sl.key == k {
			return sl.tag
		}
		if sl.key == 0 {
			sl.key, sl.tag = k, keyTag(k)
			return sl.tag
		}
	}
	sl := &t.slots[h]
	sl.key, sl.tag = k, keyTag(k)
	return sl.tag
}

// keyTag returns the tag of key k as a new string.
func keyTag(k uint32) string {
	b := [3]byte{byte(k >> 16), byte(k >> 8), byte(k)}
	return string(b[:k>>24])
}
