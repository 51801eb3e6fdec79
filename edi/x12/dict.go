package x12

import (
	"math"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ordergate/ordergate/edi"
)

// dataType is an X12 data element type.
type dataType uint8

const (
	tAN dataType = iota // string
	tID                 // identifier (code)
	tN                  // numeric with implied decimals (N0..N9; places in elemDef)
	tR                  // decimal number
	tDT                 // date CCYYMMDD (or YYMMDD where max is 6)
	tTM                 // time HHMM[SS[d..]]
	tComposite
)

type req uint8

const (
	optional req = iota
	mandatory
	conditional // X: required or not by a syntax note
)

// codeList is a list of code values for an ID element. A closed list is
// complete for the element's use in the dictionary's sets, and a value
// outside it is an error (AK4 7); an open list names the codes the
// gateway knows (for mapping) while the standard allows many more, so it
// is not enforced.
type codeList struct {
	closed bool
	codes  map[string]string // code -> meaning
	// packed holds the codes of up to 4 bytes as packCode values, sorted,
	// for has; long holds whether any code is longer.
	packed []uint64
	long   bool
}

// packCode packs a value of up to 4 bytes, with its length, into an
// integer.
func packCode(v string) uint64 {
	k := uint64(len(v)) << 32
	for i := 0; i < len(v); i++ {
		k |= uint64(v[i]) << (8 * (3 - i))
	}
	return k
}

// index builds packed from codes.
func (c *codeList) index() {
	c.packed = c.packed[:0]
	for code := range c.codes {
		if len(code) > 4 {
			c.long = true
			continue
		}
		c.packed = append(c.packed, packCode(code))
	}
	slices.Sort(c.packed)
}

func (c *codeList) has(v string) bool {
	if len(v) > 4 {
		if !c.long {
			return false
		}
		_, ok := c.codes[v]
		return ok
	}
	_, ok := slices.BinarySearch(c.packed, packCode(v))
	return ok
}

// elemDef defines one data element (or component) of a segment.
type elemDef struct {
	ref    int // X12 data element reference number (AK402); 0 for composites
	typ    dataType
	places int // implied decimals for tN
	min    int
	max    int
	req    req
	codes  *codeList
	comps  []elemDef // for composites
}

// ruleKind is an X12 syntax note kind.
type ruleKind uint8

const (
	ruleP ruleKind = iota // paired: if any is present, all are required
	ruleR                 // required: at least one is present
	ruleE                 // exclusion: not more than one is present
	ruleC                 // conditional: if the first is present, all others are required
	ruleL                 // list conditional: if the first is present, at least one other is
)

type rule struct {
	kind  ruleKind
	elems []int // 1-based element positions
	// bits has bit p-1 set for each position p, first the bit of
	// elems[0]; masked is true when every position is within 64, so
	// that the rule can be checked against a segment's presence mask.
	bits, first uint64
	masked      bool
}

// index computes bits, first and masked.
func (r *rule) index() {
	r.masked = len(r.elems) > 0
	for _, p := range r.elems {
		if p < 1 || p > 64 {
			r.masked = false
			return
		}
		r.bits |= 1 << (p - 1)
	}
	r.first = 1 << (r.elems[0] - 1)
}

// presence returns the mask of the elements of s that have a value, bit
// i-1 for element i, for the first 64 elements.
func presence(s *edi.Segment) uint64 {
	var m uint64
	vals, elem, _ := s.Flat()
	if elem == nil {
		for i, v := range vals[:min(len(vals), 64)] {
			if v != "" {
				m |= 1 << i
			}
		}
		return m
	}
	for i := range min(s.Len(), 64) {
		if !s.Empty(i + 1) {
			m |= 1 << i
		}
	}
	return m
}

// segDef defines a segment: its elements and syntax notes.
type segDef struct {
	tag   string
	elems []elemDef
	rules []rule
	// checked is the number of leading elements validate must look at
	// when they are absent: up to the last mandatory one.
	checked int
	// quick is the compiled form of elems for validate's happy path
	// (see passes); quickOK is false when a syntax note cannot be
	// checked against the presence mask, so that every segment takes
	// the full check.
	quick   []quickElem
	quickOK bool
}

// quickKind says how passes checks a value.
type quickKind uint8

const (
	qText      quickKind = iota // AN: length only (printable ASCII checked apart)
	qCode                       // ID: length, and membership when the list is closed
	qNumber                     // N: digits, optionally after a minus sign
	qDecimal                    // R: digits and at most one '.', optionally after a minus sign
	qCheck                      // DT, TM: elemDef.check
	qComposite                  // a composite: the full check
)

// quickElem is one element of a segDef in the form passes reads.
type quickElem struct {
	kind      quickKind
	mandatory bool
	min, max  int       // max is math.MaxInt where the definition has none
	codes     *codeList // closed lists only
	def       *elemDef
}

// index computes checked and the compiled check.
func (d *segDef) index() {
	d.checked = 0
	for i := range d.elems {
		if d.elems[i].req == mandatory {
			d.checked = i + 1
		}
	}
	d.quick = make([]quickElem, len(d.elems))
	for i := range d.elems {
		ed := &d.elems[i]
		q := quickElem{mandatory: ed.req == mandatory, min: ed.min, max: ed.max, def: ed}
		if q.max <= 0 {
			q.max = math.MaxInt
		}
		switch ed.typ {
		case tAN:
			q.kind = qText
		case tID:
			q.kind = qCode
			if ed.codes != nil && ed.codes.closed {
				q.codes = ed.codes
			}
		case tN:
			q.kind = qNumber
		case tR:
			q.kind = qDecimal
		case tDT, tTM:
			q.kind = qCheck
		default:
			q.kind = qComposite
		}
		d.quick[i] = q
	}
	d.quickOK = true
	for i := range d.rules {
		r := &d.rules[i]
		if !r.masked || bits.OnesCount64(r.bits) != len(r.elems) {
			d.quickOK = false
		}
	}
}

// passes reports whether validate would find nothing in s: a segment of
// simple elements, no more than defined and none of the mandatory ones
// missing, each value within its definition and every syntax note
// holding. It only answers true when the full check agrees; false means
// "not known", and validate then takes the full check, which describes
// the problems (so what is reported does not depend on passes). plain
// says that every value is printable ASCII; false means unknown.
func (d *segDef) passes(s *edi.Segment, legacyDates, plain bool) bool {
	vals, elem, _ := s.Flat()
	if elem != nil || len(vals) > len(d.quick) || len(vals) < d.checked {
		return false
	}
	quick := d.quick[:len(vals)]
	var mask uint64
	for i, v := range vals {
		q := &quick[i]
		if v == "" {
			if q.mandatory {
				return false
			}
			continue
		}
		mask |= 1 << (i & 63)
		switch q.kind {
		case qText:
			if len(v) < q.min || len(v) > q.max || !plain && !plainASCII(v) {
				return false
			}
		case qCode:
			if len(v) < q.min || len(v) > q.max || !plain && !plainASCII(v) || q.codes != nil && !q.codes.has(v) {
				return false
			}
		case qNumber, qDecimal:
			j := 0
			if v[0] == '-' {
				j = 1
			}
			digits, dots := 0, 0
			for ; j < len(v); j++ {
				c := v[j]
				if c >= '0' && c <= '9' {
					digits++
				} else if c == '.' && q.kind == qDecimal && dots == 0 {
					dots++
				} else {
					return false
				}
			}
			if digits == 0 || digits < q.min || digits > q.max {
				return false
			}
		case qCheck:
			if code, _ := q.def.check(v, legacyDates); code != (Code{}) {
				return false
			}
		default:
			return false
		}
	}
	if len(vals) > 64 {
		// The mask above wrapped; let the full check count.
		return len(d.rules) == 0
	}
	for i := range d.rules {
		r := &d.rules[i]
		in := mask & r.bits
		switch r.kind {
		case ruleP:
			if in != 0 && in != r.bits {
				return false
			}
		case ruleR:
			if in == 0 {
				return false
			}
		case ruleE:
			if in&(in-1) != 0 {
				return false
			}
		case ruleC:
			if mask&r.first != 0 && in != r.bits {
				return false
			}
		case ruleL:
			if mask&r.first != 0 && in != r.bits && in&(in-1) == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// elementErr is one AK4/IK4 finding.
type elementErr struct {
	pos        int // element position in the segment (1-based)
	comp       int // component position (1-based), 0 for simple elements
	rep        int // repetition (1-based), 0 when not repeated
	ref        int // data element reference number
	code       Code
	value      string
	msg        string
	outOfRange bool // element beyond the defined ones (too many elements)
}

// present reports whether element n of s has a value.
func present(s *edi.Segment, n int) bool {
	return !s.Empty(n)
}

// validate checks the elements of s against d and appends what it finds.
// plain says that every value of s is printable ASCII (the reader found
// it so); false means unknown.
func (d *segDef) validate(s *edi.Segment, out []elementErr, legacyDates, plain bool) []elementErr {
	if d.quickOK && d.passes(s, legacyDates, plain) {
		return out
	}
	return d.validateAll(s, out, legacyDates, plain)
}

// validateAll is validate without passes: every element and note checked.
func (d *segDef) validateAll(s *edi.Segment, out []elementErr, legacyDates, plain bool) []elementErr {
	n := s.Len()
	vals, elem, _ := s.Flat()
	if n > len(d.elems) {
		// Trailing empty elements beyond the definition are tolerated as
		// padding only if they are empty; data there is an error.
		for i := len(d.elems); i < n; i++ {
			if present(s, i+1) {
				out = append(out, elementErr{pos: i + 1, code: AK4TooManyElements, value: s.Value(i + 1),
					msg: "too many data elements: " + d.tag + " has " + itoa(len(d.elems)), outOfRange: true})
				break
			}
		}
		n = len(d.elems)
	}
	// Elements past the ones sent matter only up to the last mandatory.
	for i := range min(len(d.elems), max(n, d.checked)) {
		ed := &d.elems[i]
		if i < n && ed.typ != tComposite {
			// Fast path: a simple element sent as one value.
			if elem == nil || elem[i+1]-elem[i] == 1 {
				var v string
				if elem == nil {
					v = vals[i]
				} else {
					v = vals[elem[i]]
				}
				if v == "" {
					if ed.req == mandatory {
						out = append(out, elementErr{pos: i + 1, ref: ed.ref, code: AK4MandatoryMissing,
							msg: "mandatory data element " + s.Tag + pad2(i+1) + " is missing"})
					}
					continue
				}
				// Strings and codes of printable ASCII within their
				// lengths pass without the call (check says the same).
				if (ed.typ == tAN || ed.typ == tID) && len(v) >= ed.min && (ed.max <= 0 || len(v) <= ed.max) &&
					(plain || plainASCII(v)) && (ed.typ == tAN || ed.codes == nil || !ed.codes.closed || ed.codes.has(v)) {
					continue
				}
				if code, _ := ed.check(v, legacyDates); code == (Code{}) {
					continue
				}
				// Found a problem: the general path below reports it.
			}
		}
		if i >= n || !present(s, i+1) {
			if ed.req == mandatory {
				out = append(out, elementErr{pos: i + 1, ref: ed.ref, code: AK4MandatoryMissing,
					msg: "mandatory data element " + s.Tag + pad2(i+1) + " is missing"})
			}
			continue
		}
		if s.RepetitionCount(i+1) > 1 {
			out = append(out, elementErr{pos: i + 1, rep: 2, ref: ed.ref, code: AK4TooManyRepetitions, value: strings.Join(s.Repetition(i+1, 2), ""),
				msg: "data element " + s.Tag + pad2(i+1) + " does not repeat"})
		}
		rep := s.Components(i + 1)
		if ed.typ == tComposite {
			if len(rep) > len(ed.comps) {
				out = append(out, elementErr{pos: i + 1, comp: len(ed.comps) + 1, ref: ed.ref, code: AK4TooManyComponents,
					value: rep[len(ed.comps)], msg: "composite " + s.Tag + pad2(i+1) + " has too many components"})
			}
			for c := range ed.comps {
				cd := &ed.comps[c]
				v := ""
				if c < len(rep) {
					v = rep[c]
				}
				if v == "" {
					if cd.req == mandatory {
						out = append(out, elementErr{pos: i + 1, comp: c + 1, ref: cd.ref, code: AK4MandatoryMissing,
							msg: "mandatory component " + itoa(c+1) + " of " + s.Tag + pad2(i+1) + " is missing"})
					}
					continue
				}
				if code, msg := cd.check(v, legacyDates); code != (Code{}) {
					out = append(out, elementErr{pos: i + 1, comp: c + 1, ref: cd.ref, code: code, value: v, msg: msg})
				}
			}
			continue
		}
		if len(rep) > 1 {
			out = append(out, elementErr{pos: i + 1, comp: 2, ref: ed.ref, code: AK4TooManyComponents, value: rep[1],
				msg: "data element " + s.Tag + pad2(i+1) + " is not a composite"})
		}
		if code, msg := ed.check(rep[0], legacyDates); code != (Code{}) {
			out = append(out, elementErr{pos: i + 1, ref: ed.ref, code: code, value: rep[0], msg: s.Tag + pad2(i+1) + " " + msg})
			// A number with letters in it may be too long as well.
			if code == AK4InvalidCharacter && (ed.typ == tN || ed.typ == tR) && ed.max > 0 && len(rep[0]) > ed.max {
				out = append(out, elementErr{pos: i + 1, ref: ed.ref, code: AK4TooLong, value: rep[0],
					msg: s.Tag + pad2(i+1) + " is longer than " + itoa(ed.max) + ": " + quote(rep[0])})
			}
		}
	}
	if len(d.rules) > 0 {
		mask := presence(s)
		for i := range d.rules {
			r := &d.rules[i]
			if r.kind == ruleP && r.masked && (mask&r.bits == 0 || mask&r.bits == r.bits) {
				continue // a paired note that holds, the most common kind
			}
			out = r.check(d, s, mask, out)
		}
	}
	return out
}

// check checks the rule; mask is presence(s).
func (r *rule) check(d *segDef, s *edi.Segment, mask uint64, out []elementErr) []elementErr {
	// Fast path: most segments satisfy their notes.
	cnt := 0
	if r.masked {
		cnt = bits.OnesCount64(mask & r.bits)
	} else {
		for _, p := range r.elems {
			if present(s, p) {
				cnt++
			}
		}
	}
	firstPresent := r.masked && mask&r.first != 0 || !r.masked && present(s, r.elems[0])
	switch r.kind {
	case ruleP:
		if cnt == 0 || cnt == len(r.elems) {
			return out
		}
	case ruleR:
		if cnt > 0 {
			return out
		}
	case ruleE:
		if cnt <= 1 {
			return out
		}
	case ruleC, ruleL:
		if !firstPresent || cnt == len(r.elems) || r.kind == ruleL && cnt > 1 {
			return out
		}
	}
	return r.report(d, s, out)
}

func (r *rule) report(d *segDef, s *edi.Segment, out []elementErr) []elementErr {
	count := 0
	firstMissing, firstPresent, secondPresent := 0, 0, 0
	for _, p := range r.elems {
		if present(s, p) {
			count++
			if firstPresent == 0 {
				firstPresent = p
			} else if secondPresent == 0 {
				secondPresent = p
			}
		} else if firstMissing == 0 {
			firstMissing = p
		}
	}
	ref := func(p int) int {
		if p <= len(d.elems) {
			return d.elems[p-1].ref
		}
		return 0
	}
	names := func() string {
		var b strings.Builder
		for i, p := range r.elems {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.Tag + pad2(p))
		}
		return b.String()
	}
	missing := func(p int, why string) []elementErr {
		return append(out, elementErr{pos: p, ref: ref(p), code: AK4ConditionalMissing, msg: s.Tag + pad2(p) + " is required: " + why})
	}
	switch r.kind {
	case ruleP:
		if count > 0 && count < len(r.elems) {
			return missing(firstMissing, names()+" are paired")
		}
	case ruleR:
		if count == 0 {
			return missing(r.elems[0], "at least one of "+names()+" is required")
		}
	case ruleE:
		if count > 1 {
			return append(out, elementErr{pos: secondPresent, ref: ref(secondPresent), code: AK4Exclusion, value: s.Value(secondPresent),
				msg: "only one of " + names() + " may be present"})
		}
	case ruleC:
		if present(s, r.elems[0]) {
			for _, p := range r.elems[1:] {
				if !present(s, p) {
					return missing(p, "required when "+s.Tag+pad2(r.elems[0])+" is present")
				}
			}
		}
	case ruleL:
		if present(s, r.elems[0]) && count == 1 {
			return missing(r.elems[1], "one more of "+names()+" is required when "+s.Tag+pad2(r.elems[0])+" is present")
		}
	}
	return out
}

// check validates a non-empty simple value against its definition.
func (ed *elemDef) check(v string, legacyDates bool) (Code, string) {
	n := len(v)
	switch ed.typ {
	case tN, tR:
		body := v
		if body != "" && body[0] == '-' {
			body = body[1:]
		}
		dots := 0
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c == '.' && ed.typ == tR {
				dots++
				continue
			}
			if c < '0' || c > '9' {
				return AK4InvalidCharacter, "is not a number: " + quote(v)
			}
		}
		n = len(body) - dots
		if n == 0 || dots > 1 {
			return AK4InvalidCharacter, "is not a number: " + quote(v)
		}
	case tDT:
		if !validDate(v) {
			return AK4InvalidDate, "is not a valid date: " + quote(v)
		}
		if legacyDates && len(v) == 6 {
			return Code{}, ""
		}
	case tTM:
		if !validTime(v) {
			return AK4InvalidTime, "is not a valid time: " + quote(v)
		}
	default:
		if plainASCII(v) {
			break // n is the length in characters
		}
		ascii := true
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c < 0x20 || c == 0x7F {
				return AK4InvalidCharacter, "contains the control character " + quote(string([]byte{c}))
			}
			if c >= utf8.RuneSelf {
				ascii = false
			}
		}
		if !ascii {
			n = utf8.RuneCountInString(v)
		}
	}
	if n < ed.min {
		return AK4TooShort, "is shorter than " + itoa(ed.min) + ": " + quote(v)
	}
	if ed.max > 0 && n > ed.max {
		return AK4TooLong, "is longer than " + itoa(ed.max) + ": " + quote(v)
	}
	if ed.typ == tID && ed.codes != nil && ed.codes.closed && !ed.codes.has(v) {
		return AK4InvalidCode, quote(v) + " is not a valid code"
	}
	return Code{}, ""
}

// plainASCII reports whether v has only printable ASCII characters and
// spaces (0x20 to 0x7E), eight bytes at a time.
func plainASCII(v string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := uint64(v[i]) | uint64(v[i+1])<<8 | uint64(v[i+2])<<16 | uint64(v[i+3])<<24 |
			uint64(v[i+4])<<32 | uint64(v[i+5])<<40 | uint64(v[i+6])<<48 | uint64(v[i+7])<<56
		// With every byte in 0x20..0x7E nothing borrows or carries and
		// no high bit is set; otherwise the lowest byte outside sets one.
		if ((x-0x20*ones)|(x+ones)|x)&highs != 0 {
			return false
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7F {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// validDate checks CCYYMMDD or YYMMDD.
func validDate(s string) bool {
	if !allDigits(s) || len(s) != 8 && len(s) != 6 {
		return false
	}
	y := 0
	if len(s) == 8 {
		y = atoi(s[:4])
		s = s[4:]
	} else {
		y = 2000 + atoi(s[:2])
		s = s[2:]
	}
	m, d := atoi(s[:2]), atoi(s[2:4])
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if m == 2 && (y%4 == 0 && y%100 != 0 || y%400 == 0) {
		return d <= 29
	}
	return d <= days[m]
}

// validTime checks HHMM, HHMMSS, HHMMSSd, HHMMSSdd.
func validTime(s string) bool {
	if !allDigits(s) || len(s) < 4 || len(s) > 8 || len(s) == 5 {
		return false
	}
	if atoi(s[:2]) > 23 || atoi(s[2:4]) > 59 {
		return false
	}
	return len(s) < 6 || atoi(s[4:6]) <= 59
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func pad2(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return "\"" + s + "\""
}
