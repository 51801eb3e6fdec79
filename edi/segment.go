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

// Element is one data element: its repetitions, each a list of components.
// A simple element has one repetition with one component. Repetitions exist
// only where the syntax has a repetition separator (X12 ISA11 from 00402,
// EDIFACT syntax version 4).
type Element [][]string

// Segment is one segment of an interchange: its tag and its data elements.
// Elements[0] is the first data element after the tag (X12 BEG01, EDIFACT
// BGM's C002); element references in the standards are 1-based, as are the
// accessors below.
type Segment struct {
	Tag      string
	Elements []Element
	Pos      Position
}

// Value returns the first component of the first repetition of data element
// n (1-based), or "" when the segment has no such element.
func (s *Segment) Value(n int) string { return s.Component(n, 1) }

// Component returns component c (1-based) of the first repetition of data
// element n (1-based), or "" when absent.
func (s *Segment) Component(n, c int) string {
	if n < 1 || n > len(s.Elements) {
		return ""
	}
	e := s.Elements[n-1]
	if len(e) == 0 || c < 1 || c > len(e[0]) {
		return ""
	}
	return e[0][c-1]
}

// Repetitions returns every repetition of data element n (1-based), each a
// list of components; nil when absent.
func (s *Segment) Repetitions(n int) [][]string {
	if n < 1 || n > len(s.Elements) {
		return nil
	}
	return s.Elements[n-1]
}

// Len returns the number of data elements present, trailing empty ones
// included as they were sent.
func (s *Segment) Len() int { return len(s.Elements) }

// Ref returns the element reference used in provenance and errors: the tag
// and the two-digit element position, such as "BEG03" for Ref(3) of a BEG
// segment.
func (s *Segment) Ref(n int) string { return fmt.Sprintf("%s%02d", s.Tag, n) }

// Clone returns a deep copy of the segment whose slices share nothing with
// the reader that produced it.
func (s *Segment) Clone() Segment {
	c := Segment{Tag: s.Tag, Pos: s.Pos, Elements: make([]Element, len(s.Elements))}
	for i, e := range s.Elements {
		ce := make(Element, len(e))
		for j, rep := range e {
			ce[j] = append([]string(nil), rep...)
		}
		c.Elements[i] = ce
	}
	return c
}

// String renders the segment in a neutral notation for debugging and test
// messages: TAG*a*b:c*d^e (element '*', component ':', repetition '^').
func (s *Segment) String() string {
	var b strings.Builder
	b.WriteString(s.Tag)
	for _, e := range s.Elements {
		b.WriteByte('*')
		for j, rep := range e {
			if j > 0 {
				b.WriteByte('^')
			}
			b.WriteString(strings.Join(rep, ":"))
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
