package x12

import (
	"github.com/ordergate/ordergate/edi"
)

// entry is one position of a set's structure: a segment or a loop.
type entry struct {
	seg  string
	loop *loopDef
	req  req
	max  int   // 0 = unbounded
	id   uint8 // tagID of tag()
}

func (e *entry) tag() string {
	if e.loop != nil {
		return e.loop.entries[0].seg
	}
	return e.seg
}

// loopDef is a loop (or the whole set): entries[0] of a loop is its
// trigger segment.
type loopDef struct {
	id      string
	entries []entry
	// index lists, per tag ID, the entries the tag matches (a segment
	// entry or a loop whose trigger it is), in order.
	index [][]int
	// nextMandatory[i] is the first mandatory entry at i or after it,
	// len(entries) when there is none.
	nextMandatory []int
}

func (l *loopDef) buildIndex() {
	for i := range l.entries {
		e := &l.entries[i]
		e.id = registerTag(e.tag())
		if e.loop != nil {
			e.loop.buildIndex()
		}
	}
	l.nextMandatory = make([]int, len(l.entries)+1)
	l.nextMandatory[len(l.entries)] = len(l.entries)
	for i := len(l.entries) - 1; i >= 0; i-- {
		if l.entries[i].req == mandatory {
			l.nextMandatory[i] = i
		} else {
			l.nextMandatory[i] = l.nextMandatory[i+1]
		}
	}
	l.index = make([][]int, maxTagID()+1)
	for i := range l.entries {
		id := l.entries[i].id
		l.index[id] = append(l.index[id], i)
	}
}

// Tag IDs number the tags of the dictionary's set structures (1 to 255;
// 0 is any other tag), so that the validator finds a segment's entries
// and definition by indexing instead of hashing its tag. The table is
// filled while the package initializes and only read afterwards.
var (
	tagIDs  [37 * 37 * 37]uint8
	nextTag uint8 = 1
)

// tagCode maps a tag character to 1..36; 0 for anything else.
var tagCode = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c-'0') + 1
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = uint8(c-'A') + 11
	}
	return t
}()

// tagSlot returns the tagIDs index of a 2- or 3-character tag, -1 for
// anything else.
func tagSlot(tag string) int {
	if len(tag) < 2 || len(tag) > 3 {
		return -1
	}
	a, b := tagCode[tag[0]], tagCode[tag[1]]
	var c uint8
	if len(tag) == 3 {
		if c = tagCode[tag[2]]; c == 0 {
			return -1
		}
	}
	if a == 0 || b == 0 {
		return -1
	}
	return (int(a)*37+int(b))*37 + int(c)
}

// tagID returns the tag's ID, 0 when no structure of the dictionary
// uses it.
func tagID(tag string) uint8 {
	if i := tagSlot(tag); i >= 0 {
		return tagIDs[i]
	}
	return 0
}

func registerTag(tag string) uint8 {
	i := tagSlot(tag)
	if i < 0 {
		panic("x12 dictionary: bad tag " + tag)
	}
	if tagIDs[i] == 0 {
		if nextTag == 0 {
			panic("x12 dictionary: more than 255 tags")
		}
		tagIDs[i] = nextTag
		nextTag++
	}
	return tagIDs[i]
}

func maxTagID() uint8 { return nextTag - 1 }

type frame struct {
	loop   *loopDef
	pos    int
	counts []int
	unit   [2]string // business unit context (999 CTX), e.g. PO101 and its value
}

// segmentErr is one AK3/IK3 finding with its AK4/IK4 details.
type segmentErr struct {
	tag   string // the segment the AK3 names
	pos   int    // its position in the set (AK302)
	loop  string // loop identifier (AK303)
	code  Code
	elems []elementErr
	unit  [2]string
	// where the problem was found, for the positioned error
	at    edi.Position
	atTag string
	msg   string
}

// setValidator checks the segments of one transaction set against its
// dictionary definition: order, loops, use counts, mandatory segments and
// the data elements.
type setValidator struct {
	def     *setDef
	stack   []frame
	errs    []segmentErr
	maxErrs int
	dropped int
	lastPos int
	lastAt  edi.Position
	lastTag string
	scratch []elementErr
	// legacyDates accepts YYMMDD where a DT element is CCYYMMDD (versions
	// before 004010).
	legacyDates bool
}

func newSetValidator(def *setDef, maxErrs int) *setValidator {
	v := &setValidator{}
	v.reset(def, maxErrs)
	return v
}

// reset makes v a fresh validator for def, keeping its memory: the
// Decoder reuses one validator for all its sets.
func (v *setValidator) reset(def *setDef, maxErrs int) {
	v.def, v.maxErrs = def, maxErrs
	v.stack = v.stack[:0]
	v.errs, v.dropped = nil, 0
	v.lastPos, v.lastAt, v.lastTag = 1, edi.Position{}, ""
	v.legacyDates = false
	v.push(def.structure)
	v.stack[0].counts[0] = 0
}

// push enters loop l at its trigger, reusing the counts of a frame
// popped earlier at that depth.
func (v *setValidator) push(l *loopDef) {
	n := len(v.stack)
	if n < cap(v.stack) {
		v.stack = v.stack[:n+1]
	} else {
		v.stack = append(v.stack, frame{})
	}
	f := &v.stack[n]
	counts := f.counts
	if cap(counts) < len(l.entries) {
		counts = make([]int, len(l.entries), max(len(l.entries), 16))
	} else {
		counts = counts[:len(l.entries)]
		clear(counts)
	}
	counts[0] = 1
	*f = frame{loop: l, counts: counts}
}

func (v *setValidator) add(e segmentErr) {
	if len(v.errs) >= v.maxErrs {
		v.dropped++
		return
	}
	v.errs = append(v.errs, e)
}

func (v *setValidator) unit() [2]string {
	for i := len(v.stack) - 1; i >= 0; i-- {
		if v.stack[i].unit[0] != "" {
			return v.stack[i].unit
		}
	}
	return [2]string{}
}

// missing reports mandatory entries of f in [from, to) that never occurred.
func (v *setValidator) missing(f *frame, from, to int, at edi.Position, atTag string) {
	to = min(to, len(f.loop.entries))
	for i := from; i < to; i++ {
		// Only mandatory entries can be missing: skip to the next one.
		if i = f.loop.nextMandatory[i]; i >= to {
			break
		}
		e := &f.loop.entries[i]
		if f.counts[i] == 0 {
			what := "segment"
			if e.loop != nil {
				what = "loop " + e.loop.id + " (segment"
			}
			msg := "mandatory " + what + " " + e.tag() + " is missing"
			if e.loop != nil {
				msg += ")"
			}
			v.add(segmentErr{tag: e.tag(), pos: v.lastPos, loop: f.loop.id, code: AK3MandatoryMissing,
				at: at, atTag: atTag, msg: msg, unit: v.unit()})
		}
	}
}

type match struct {
	depth   int
	idx     int
	enter   bool // idx is a loop entry whose trigger matched
	newIter bool // a new iteration of the loop at depth
}

func (v *setValidator) find(id uint8) (match, bool) {
	if id == 0 {
		return match{}, false
	}
	for d := len(v.stack) - 1; d >= 0; d-- {
		f := &v.stack[d]
		entries := f.loop.entries
		from := f.pos
		if d > 0 && from == 0 {
			from = 1
		}
		if int(id) < len(f.loop.index) {
			for _, i := range f.loop.index[id] {
				if i >= from {
					return match{depth: d, idx: i, enter: entries[i].loop != nil}, true
				}
			}
		}
		if d > 0 && entries[0].id == id {
			return match{depth: d, newIter: true}, true
		}
	}
	return match{}, false
}

// passed reports whether tag occurs at a position already passed.
func (v *setValidator) passed(tag string) bool {
	for d := range v.stack {
		f := &v.stack[d]
		for i := 0; i < f.pos && i < len(f.loop.entries); i++ {
			if f.loop.entries[i].tag() == tag {
				return true
			}
		}
	}
	return false
}

func validTag(t string) bool {
	if len(t) < 2 || len(t) > 3 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// segment checks one segment of the set body; setPos is its position in
// the set (ST = 1).
// plain says that every value of s is printable ASCII (false: unknown).
func (v *setValidator) segment(s *edi.Segment, setPos int, plain bool) {
	tag := s.Tag
	id := tagID(tag)
	m, ok := v.find(id)
	if !ok {
		code, why := AK3Unrecognized, "segment "+quote(tag)+" is not an X12 segment"
		switch {
		case !validTag(tag):
		case v.def.tags[tag] && v.passed(tag):
			code, why = AK3OutOfSequence, "segment "+tag+" is out of sequence"
		case v.def.tags[tag]:
			code, why = AK3Unexpected, "segment "+tag+" is unexpected here"
		case knownTags[tag]:
			code, why = AK3NotInSet, "segment "+tag+" is not defined in transaction set "+v.def.id
		}
		v.add(segmentErr{tag: tag, pos: setPos, loop: v.stack[len(v.stack)-1].loop.id, code: code,
			at: s.Pos, atTag: tag, msg: why, unit: v.unit()})
		return
	}
	// Leave the loops deeper than the match, reporting what they missed.
	for len(v.stack)-1 > m.depth {
		f := &v.stack[len(v.stack)-1]
		v.missing(f, f.pos, len(f.loop.entries), s.Pos, tag)
		v.stack = v.stack[:len(v.stack)-1]
	}
	f := &v.stack[m.depth]
	switch {
	case m.newIter:
		v.missing(f, f.pos, len(f.loop.entries), s.Pos, tag)
		parent := &v.stack[m.depth-1]
		parent.counts[parent.pos]++
		if pe := &parent.loop.entries[parent.pos]; pe.max > 0 && parent.counts[parent.pos] > pe.max {
			v.add(segmentErr{tag: tag, pos: setPos, loop: f.loop.id, code: AK3LoopOverMax, at: s.Pos, atTag: tag,
				msg: "loop " + f.loop.id + " occurs more than " + itoa(pe.max) + " times"})
		}
		clear(f.counts)
		f.pos = 0
		f.counts[0] = 1
		f.unit = unitOf(f.loop, s)
	case m.enter:
		v.missing(f, f.pos, m.idx, s.Pos, tag)
		f.pos = m.idx
		f.counts[m.idx]++
		e := &f.loop.entries[m.idx]
		if e.max > 0 && f.counts[m.idx] > e.max {
			v.add(segmentErr{tag: tag, pos: setPos, loop: e.loop.id, code: AK3LoopOverMax, at: s.Pos, atTag: tag,
				msg: "loop " + e.loop.id + " occurs more than " + itoa(e.max) + " times"})
		}
		v.push(e.loop)
		v.stack[len(v.stack)-1].unit = unitOf(e.loop, s)
	default:
		v.missing(f, f.pos, m.idx, s.Pos, tag)
		f.pos = m.idx
		f.counts[m.idx]++
		if e := &f.loop.entries[m.idx]; e.max > 0 && f.counts[m.idx] > e.max {
			v.add(segmentErr{tag: tag, pos: setPos, loop: f.loop.id, code: AK3ExceedsMaxUse, at: s.Pos, atTag: tag,
				msg: "segment " + tag + " occurs more than " + itoa(e.max) + " times", unit: v.unit()})
		}
	}
	v.lastPos, v.lastAt, v.lastTag = setPos, s.Pos, tag
	if sd := v.def.segDef(id); sd != nil {
		v.scratch = sd.validate(s, v.scratch[:0], v.legacyDates, plain)
		if len(v.scratch) > 0 {
			elems := append([]elementErr(nil), v.scratch...)
			if len(elems) > 99 {
				elems = elems[:99]
			}
			v.add(segmentErr{tag: tag, pos: setPos, loop: v.stack[len(v.stack)-1].loop.id, code: AK3HasElementErrors,
				elems: elems, at: s.Pos, atTag: tag, msg: elems[0].msg, unit: v.unit()})
		}
	}
}

// unitOf gives the business unit context of a loop iteration for a 999
// CTX: the line number of a PO1 loop.
func unitOf(l *loopDef, s *edi.Segment) [2]string {
	if l.id == "PO1" && s.Value(1) != "" {
		return [2]string{"PO101", s.Value(1)}
	}
	return [2]string{}
}

// end closes the set at its trailer: every mandatory entry still open is
// missing.
func (v *setValidator) end(at edi.Position, atTag string) {
	for len(v.stack) > 0 {
		f := &v.stack[len(v.stack)-1]
		v.missing(f, f.pos, len(f.loop.entries), at, atTag)
		v.stack = v.stack[:len(v.stack)-1]
	}
}
