package edifact

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/edi"
)

// dataType is a data element's representation: alphabetic, numeric or
// alphanumeric.
type dataType uint8

const (
	typeAN dataType = iota
	typeA
	typeN
)

// ComponentDef is one simple data element in a segment position.
type ComponentDef struct {
	ID        string // data element tag, e.g. "1004"
	Mandatory bool
	Type      string // "a", "n" or "an"
	Min, Max  int
	typ       dataType
	codes     codeList
}

// ElementDef is a data element position of a segment: a simple element
// (one component) or a composite.
type ElementDef struct {
	ID         string // "1004" or "C002"
	Mandatory  bool
	Composite  bool
	Components []ComponentDef
	minComps   int // components up to the last mandatory one
}

// SegmentDef is a segment's layout in a directory.
type SegmentDef struct {
	Tag      string
	Elements []ElementDef
	minElems int // elements up to the last mandatory one
}

// Node is a position in a message's structure: a segment (Tag set) or a
// segment group (Group set, its first child the trigger segment).
type Node struct {
	Tag       string
	Group     string // "SG2"
	Mandatory bool
	Max       int
	Children  []Node
	def       *SegmentDef // layout of a segment node, when the directory has one
	trig      uint32      // tagCode of the trigger segment
	lastMand  int         // index of the last mandatory child, -1 when none
	kidTrigs  []uint32    // the children's trig, side by side for the search in step
	// kidBits has the bit trigBit(trig) of each child but the first,
	// firstBit that of the first: step skips a level whose children
	// cannot hold the tag without searching it.
	kidBits, firstBit uint64
}

// trigBit returns a bit chosen by the tag code c, one of 64.
func trigBit(c uint32) uint64 { return 1 << ((c * 0x9E3779B1) >> 26) }

// tagCode packs a three-character tag into a number for the structure
// walk; 0 for anything else, which no node has.
func tagCode(t string) uint32 {
	if len(t) != 3 {
		return 0
	}
	return 1<<24 | uint32(t[0])<<16 | uint32(t[1])<<8 | uint32(t[2])
}

func (n *Node) trigger() string {
	if n.Group != "" {
		return n.Children[0].Tag
	}
	return n.Tag
}

// MessageDef is a message's branching diagram and segment layouts in one
// directory version.
type MessageDef struct {
	Type     string // "ORDERS"
	Version  string // "D96A"
	Root     Node
	Segments map[string]*SegmentDef
	tags     map[string]bool
}

// codeList tells whether a coded value belongs to the list.
type codeList interface{ contains(string) bool }

// codeSet is a short list of codes, searched in order.
type codeSet []string

func (s codeSet) contains(v string) bool {
	for _, c := range s {
		if c == v {
			return true
		}
	}
	return false
}

// codeRange is a numeric code list 1..n ("1225: 1 to 55").
type codeRange struct{ lo, hi int }

func (r codeRange) contains(v string) bool {
	if v == "" || v[0] == '0' {
		return false
	}
	if len(v) <= 9 {
		n := 0
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c < '0' || c > '9' {
				goto general
			}
			n = n*10 + int(c-'0')
		}
		return n >= r.lo && n <= r.hi
	}
general: // signs, long values: as strconv reads them
	n, err := strconv.Atoi(v)
	return err == nil && n >= r.lo && n <= r.hi
}

type codeUnion []codeList

func (u codeUnion) contains(v string) bool {
	for _, l := range u {
		if l.contains(v) {
			return true
		}
	}
	return false
}

func set(codes string) codeSet {
	return codeSet(strings.Fields(codes))
}

// codeLists are the closed code lists this package enforces, by data
// element, in every directory; the ORDERS directories replace 1225 and
// 2005 and add 1001, 3035 and 3055 with their own lists (codelists.go).
// 6411 (unit) is checked for length only; see doc.go.
var codeLists = map[string]codeList{
	"0081": set("D S"),
	"1225": codeRange{1, 56},
	"2005": codeRange{1, 999},
	"2379": codeUnion{codeRange{2, 10}, codeRange{101, 110}, codeRange{201, 210}, codeRange{301, 306},
		codeRange{401, 406}, codeRange{501, 508}, codeRange{601, 616}, codeRange{701, 720}, codeRange{801, 810}},
	"5025": codeRange{1, 999},
	"5125": set("AAA AAB AAC AAD AAE AAF AAG AAH AAI AAJ AAK CAL CT DIS DPR INV"),
	"6063": codeRange{1, 999},
	"6069": codeRange{1, 99},
	"1229": codeRange{1, 99},
	"4347": codeRange{1, 99},
	"0083": set("4 7 8"),
	"0085": codeRange{1, 99},
}

// parseComponent reads "1004 an..35 C".
func parseComponent(spec string) ComponentDef {
	f := strings.Fields(spec)
	if len(f) != 3 {
		panic("edifact: bad component spec " + spec)
	}
	c := ComponentDef{ID: f[0], Mandatory: f[2] == "M", codes: codeLists[f[0]]}
	t := f[1]
	switch {
	case strings.HasPrefix(t, "an"):
		c.Type, c.typ, t = "an", typeAN, t[2:]
	case strings.HasPrefix(t, "a"):
		c.Type, c.typ, t = "a", typeA, t[1:]
	case strings.HasPrefix(t, "n"):
		c.Type, c.typ, t = "n", typeN, t[1:]
	default:
		panic("edifact: bad type in " + spec)
	}
	if rest, ok := strings.CutPrefix(t, ".."); ok {
		c.Min, c.Max = 1, atoiMust(rest)
	} else {
		c.Min = atoiMust(t)
		c.Max = c.Min
	}
	return c
}

func atoiMust(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic("edifact: bad number " + s)
	}
	return n
}

// segDef reads a compact layout: elements separated by ";", a composite
// written "C002 C(1001 an..3 C, 1131 an..3 C)", a simple element
// "1004 an..35 C".
func segDef(tag, spec string) *SegmentDef {
	d := &SegmentDef{Tag: tag}
	for _, e := range strings.Split(spec, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if open := strings.IndexByte(e, '('); open >= 0 {
			head := strings.Fields(e[:open])
			ed := ElementDef{ID: head[0], Mandatory: head[1] == "M", Composite: true}
			for _, c := range strings.Split(strings.TrimSuffix(e[open+1:], ")"), ",") {
				ed.Components = append(ed.Components, parseComponent(strings.TrimSpace(c)))
			}
			d.Elements = append(d.Elements, ed)
			continue
		}
		c := parseComponent(e)
		d.Elements = append(d.Elements, ElementDef{ID: c.ID, Mandatory: c.Mandatory, Components: []ComponentDef{c}})
	}
	for i := range d.Elements {
		ed := &d.Elements[i]
		if ed.Mandatory {
			d.minElems = i + 1
		}
		for j := range ed.Components {
			if ed.Components[j].Mandatory {
				ed.minComps = j + 1
			}
		}
	}
	return d
}

func seg(tag string, mandatory bool, max int) Node {
	return Node{Tag: tag, Mandatory: mandatory, Max: max}
}

func grp(name string, mandatory bool, max int, children ...Node) Node {
	return Node{Group: name, Mandatory: mandatory, Max: max, Children: children}
}

const (
	m = true
	c = false
)

func newMessageDef(typ, version string, segs map[string]*SegmentDef, body ...Node) *MessageDef {
	children := append([]Node{seg("UNH", m, 1)}, body...)
	children = append(children, seg("UNT", m, 1))
	d := &MessageDef{Type: typ, Version: version, Root: Node{Group: typ, Mandatory: true, Max: 1, Children: children},
		Segments: segs, tags: map[string]bool{}}
	var walk func(n *Node)
	walk = func(n *Node) {
		if n.Tag != "" {
			d.tags[n.Tag] = true
			n.def = segs[n.Tag]
		}
		n.trig = tagCode(n.trigger())
		n.lastMand = -1
		n.kidTrigs = make([]uint32, len(n.Children))
		for i := range n.Children {
			if n.Children[i].Mandatory {
				n.lastMand = i
			}
			walk(&n.Children[i])
			n.kidTrigs[i] = n.Children[i].trig
			if i == 0 {
				n.firstBit = trigBit(n.kidTrigs[i])
			} else {
				n.kidBits |= trigBit(n.kidTrigs[i])
			}
		}
	}
	walk(&d.Root)
	return d
}

// Lookup returns the directory definition this package has for a message
// type and version ("ORDERS", "D96A"), or nil: messages without one are
// checked for their envelope only.
func Lookup(typ, version string) *MessageDef {
	return messageDefs[typ+":"+version]
}

// validateSegment checks one segment against its layout and returns its
// problems (at most limit).
func validateSegment(s *edi.Segment, def *SegmentDef, decimal byte, limit int) []*SyntaxError {
	if segmentValid(s, def, decimal) {
		return nil
	}
	return segmentProblems(s, def, decimal, limit)
}

// segmentValid is the happy path of validateSegment: true when the
// segment certainly has no problem. It builds nothing; anything unusual
// (padding, repetitions, a missing or bad value) is left to
// segmentProblems, which finds and describes it.
func segmentValid(s *edi.Segment, def *SegmentDef, decimal byte) bool {
	n := s.Len()
	if n > len(def.Elements) || n < def.minElems {
		return false
	}
	vals, elem, rep := s.Flat()
	if rep != nil {
		return false // a repetition
	}
	defs := def.Elements[:n]
	for i := range defs {
		ed := &defs[i]
		var comps []string
		if elem == nil {
			comps = vals[i : i+1]
		} else {
			comps = vals[elem[i]:elem[i+1]]
		}
		if len(comps) == 0 || len(comps) > len(ed.Components) {
			return false
		}
		empty := true
		for _, v := range comps {
			if v != "" {
				empty = false
				break
			}
		}
		if empty {
			if ed.Mandatory {
				return false
			}
			continue
		}
		if len(comps) < ed.minComps {
			return false
		}
		cds := ed.Components[:len(comps)]
		for j, v := range comps {
			cd := &cds[j]
			if v == "" {
				if cd.Mandatory {
					return false
				}
				continue
			}
			if cd.typ == typeAN && cd.Min <= 1 && len(v) <= cd.Max {
				// at least one and at most len(v) characters: fits
			} else if code, _ := checkValue(v, cd, decimal); code != CodeNone {
				return false
			}
			if cd.codes != nil && !cd.codes.contains(v) {
				return false
			}
		}
	}
	return true
}

// segmentProblems lists the problems of a segment against its layout.
func segmentProblems(s *edi.Segment, def *SegmentDef, decimal byte, limit int) []*SyntaxError {
	var errs []*SyntaxError
	add := func(elem, comp int, code ErrorCode, format string, args ...any) {
		if len(errs) < limit {
			errs = append(errs, &SyntaxError{Offset: s.Pos.Offset, Segment: s.Pos.Index, InMessage: s.Pos.InMessage, Tag: s.Tag,
				Element: elem, Component: comp, Code: code, Err: classErr(ErrDictionary, format, args...)})
		}
	}
	if s.Len() > len(def.Elements) {
		// Trailing empty elements are tolerated as padding.
		for i := len(def.Elements); i < s.Len(); i++ {
			if !s.Empty(i + 1) {
				add(i+1, 0, CodeTooManyConstituents, "%s has %d data elements, at most %d are defined", s.Tag, s.Len(), len(def.Elements))
				break
			}
		}
	}
	for i := range def.Elements {
		ed := &def.Elements[i]
		if s.Empty(i + 1) {
			if ed.Mandatory {
				add(i+1, 0, CodeMissing, "mandatory data element %s missing", ed.ID)
			}
			continue
		}
		if n := s.RepetitionCount(i + 1); n > 1 {
			add(i+1, 0, CodeTooManyRepetitions, "data element %s repeated %d times, it is not repeatable", ed.ID, n)
		}
		comps := s.Components(i + 1)
		if len(comps) > len(ed.Components) {
			for j := len(ed.Components); j < len(comps); j++ {
				if comps[j] != "" {
					add(i+1, j+1, CodeTooManyConstituents, "%s has %d components, at most %d are defined", ed.ID, len(comps), len(ed.Components))
					break
				}
			}
		}
		for j := range ed.Components {
			cd := &ed.Components[j]
			v := ""
			if j < len(comps) {
				v = comps[j]
			}
			comp := j + 1
			if !ed.Composite {
				comp = 0
			}
			if v == "" {
				if cd.Mandatory {
					add(i+1, comp, CodeMissing, "mandatory data element %s missing", cd.ID)
				}
				continue
			}
			if code, msg := checkValue(v, cd, decimal); code != CodeNone {
				add(i+1, comp, code, "%s %q: %s", cd.ID, v, msg)
				continue
			}
			if cd.codes != nil && !cd.codes.contains(v) {
				add(i+1, comp, CodeInvalidValue, "%s %q is not a code of the list", cd.ID, v)
			}
		}
	}
	return errs
}

// checkValue checks a value's characters and length. Numeric values may
// carry a leading minus sign and one decimal mark ('.' or ','), which do
// not count in the length.
func checkValue(v string, cd *ComponentDef, decimal byte) (ErrorCode, string) {
	n := 0
	switch cd.typ {
	case typeN:
		body := strings.TrimPrefix(v, "-")
		marks := 0
		for i := 0; i < len(body); i++ {
			ch := body[i]
			switch {
			case ch >= '0' && ch <= '9':
				n++
			case ch == '.' || ch == ',':
				marks++
				if marks > 1 {
					return CodeInvalidDecimal, "more than one decimal mark"
				}
			default:
				return CodeInvalidCharType, "not numeric"
			}
		}
		if n == 0 {
			return CodeInvalidCharType, "not numeric"
		}
	case typeA:
		for _, r := range v {
			if r >= '0' && r <= '9' {
				return CodeInvalidCharType, "digits in an alphabetic value"
			}
			n++
		}
	default:
		n = utf8Count(v)
	}
	if n > cd.Max {
		return CodeTooLong, fmt.Sprintf("%d characters, at most %d", n, cd.Max)
	}
	if n < cd.Min {
		return CodeTooShort, fmt.Sprintf("%d characters, at least %d", n, cd.Min)
	}
	return CodeNone, ""
}

func utf8Count(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

// structure walks a message's segments through its branching diagram.
type structure struct {
	def   *MessageDef
	stack []frame
}

type frame struct {
	node  *Node
	idx   int // current child
	count int // repetitions of the current child in this instance
}

// reset starts a new message, keeping the stack's memory.
func (st *structure) reset(def *MessageDef) {
	st.def = def
	st.stack = append(st.stack[:0], frame{node: &def.Root, idx: 0, count: 1})
}

// step places the segment in the structure and returns what is wrong:
// mandatory segments skipped, too many repetitions, or a segment that has
// no place here.
func (st *structure) step(s *edi.Segment) ([]*SyntaxError, *Node) {
	var errs []*SyntaxError
	mk := func(code ErrorCode, format string, args ...any) *SyntaxError {
		return &SyntaxError{Offset: s.Pos.Offset, Segment: s.Pos.Index, InMessage: s.Pos.InMessage, Tag: s.Tag, Code: code,
			Err: classErr(ErrDictionary, format, args...)}
	}
	tc := tagCode(s.Tag)
	bit := trigBit(tc)
	for level := len(st.stack) - 1; level >= 0; level-- {
		f := &st.stack[level]
		kids := f.node.Children
		from := f.idx
		if level > 0 && from == 0 {
			from = 1 // a group's trigger starts a new instance: the parent's business
		}
		if f.node.kidBits&bit == 0 && (from > 0 || f.node.firstBit&bit == 0) {
			continue // no child from the first on has the tag
		}
		trigs := f.node.kidTrigs
		for j := from; j < len(trigs); j++ {
			if trigs[j] != tc || tc == 0 {
				continue
			}
			// Found: leave the inner groups, skip to j.
			for k := len(st.stack) - 1; k > level; k-- {
				errs = append(errs, st.missingAfter(&st.stack[k], mk)...)
			}
			st.stack = st.stack[:level+1]
			f = &st.stack[level]
			for k := f.idx + 1; k < j; k++ {
				if kids[k].Mandatory {
					errs = append(errs, mk(CodeMissing, "mandatory %s missing before %s", kids[k].describe(), s.Tag))
				}
			}
			if j == f.idx {
				f.count++
			} else {
				f.idx, f.count = j, 1
			}
			if f.count > kids[j].Max {
				if kids[j].Group != "" {
					errs = append(errs, mk(CodeTooManyGroupRepetitions, "%s repeated more than %d times", kids[j].describe(), kids[j].Max))
				} else {
					errs = append(errs, mk(CodeTooManyRepetitions, "%s repeated more than %d times", s.Tag, kids[j].Max))
				}
			}
			node := &kids[j]
			if node.Group != "" {
				st.stack = append(st.stack, frame{node: node, idx: 0, count: 1})
				node = &node.Children[0]
			}
			return errs, node
		}
	}
	if !st.def.tags[s.Tag] {
		return []*SyntaxError{mk(CodeNotSupported, "segment %s is not part of %s %s", s.Tag, st.def.Type, st.def.Version)}, nil
	}
	return []*SyntaxError{mk(CodeNotSupported, "segment %s is not expected in this position", s.Tag)}, nil
}

func (st *structure) missingAfter(f *frame, mk func(ErrorCode, string, ...any) *SyntaxError) []*SyntaxError {
	if f.idx >= f.node.lastMand {
		return nil
	}
	var errs []*SyntaxError
	for k := f.idx + 1; k < len(f.node.Children); k++ {
		if ch := &f.node.Children[k]; ch.Mandatory {
			errs = append(errs, mk(CodeMissing, "mandatory %s of %s missing", ch.describe(), f.node.describe()))
		}
	}
	return errs
}

func (n *Node) describe() string {
	if n.Group != "" {
		return fmt.Sprintf("segment group %s (%s)", n.Group, n.Children[0].Tag)
	}
	return "segment " + n.Tag
}
