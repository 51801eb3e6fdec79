package x12

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/ordergate/ordergate/edi"
)

// Transaction is one transaction set as the Decoder returns it: the
// message (segments ST..SE with their positions, and the envelope it came
// in) and the verdict of the syntax checks.
type Transaction struct {
	edi.Message
	// slabs hold the segments' values (without ReuseSegments), for
	// Decoder.Release.
	slabs []slab
	// Convention is ST03, the 5010 implementation convention reference.
	Convention string
	// Errors are the set's positioned errors (*SyntaxError), empty when
	// the set is accepted. A set of an interchange rejected at its ISA
	// carries ErrInterchangeRejected.
	Errors []error
	// Accepted is true when the set is acknowledged with AK5 A: its
	// envelope and, for sets in the dictionary, its segments and elements
	// are sound.
	Accepted bool
	// Interchange and Group locate the set's reports:
	// Report().Interchanges[Interchange].Groups[Group].
	Interchange int
	Group       int
}

// Decoder reads X12 interchanges and returns their transaction sets one
// by one, checking envelopes, segment structure and data elements as it
// goes. Only the set being read is held in memory.
//
// Problems of a set are in its Transaction. Problems of an interchange
// or group (those answered by a TA1 or in an AK9) are found by the
// decoder at their trailers, after the sets were returned: they are in
// Errors, and with everything else an acknowledgement needs in Report,
// complete once Next has returned io.EOF.
type Decoder struct {
	cfg  config
	rd   *Reader
	rep  Report
	errs []error

	inIC, inGroup, inSet bool
	ic, gi               int // current interchange, group (indexes into rep)

	tx       *Transaction
	set      SetReport
	val      *setValidator
	spare    *setValidator // the validator of an earlier set, for reuse
	setPos   int
	setBytes int
	tooBig   bool
	stCount  int // ST segments in the current group

	cur     *edi.Segment
	pending bool
	fatal   error
	done    bool

	seenISA map[string]bool
	seenGS  map[string]bool
	seenST  map[string]bool

	segHint int
	segBuf  []edi.Segment   // reused for Transaction.Segments (ReuseSegments)
	free    [][]edi.Segment // segment lists handed back by Release
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	cfg := newConfig(opts)
	rd := newReader(r, cfg)
	rd.keep = true
	return &Decoder{cfg: cfg, rd: rd, ic: -1, gi: -1, seenISA: map[string]bool{}, segHint: 32}
}

// Report returns what the decoder found so far; after Next returned
// io.EOF (or a fatal error) it is complete.
func (d *Decoder) Report() *Report { return &d.rep }

// Errors returns the interchange- and group-level errors found so far,
// each a *SyntaxError whose Code is a TA1 or AK9 code.
func (d *Decoder) Errors() []error { return d.errs }

// Next returns the next transaction set, io.EOF after the last. A set
// cut off by a missing trailer is returned too, rejected. Other errors
// (ErrNoInterchange, ErrSeparators, ErrLimit, read errors, the context's
// error) end decoding: Next returns the error from then on, and Report
// still holds what was read, so a TA1 can be written where an ISA was.
func (d *Decoder) Next() (*Transaction, error) {
	if d.cfg.reuse && !d.pending {
		// The previous set's segments are no longer needed (a pending
		// segment still is: the slabs then continue after it).
		d.rd.rewind()
	}
	if !d.cfg.reuse && d.pending {
		// The pending segment lies in the slabs of the set returned
		// last, which the caller may have handed back (Release).
		vals, elem, rep := d.cur.Flat()
		d.cur.SetFlat(slices.Clone(vals), slices.Clone(elem), slices.Clone(rep))
	}
	for {
		if d.fatal != nil {
			return nil, d.fatal
		}
		if d.done {
			return nil, io.EOF
		}
		var seg *edi.Segment
		if d.pending {
			seg, d.pending = d.cur, false
		} else {
			s, err := d.rd.Read()
			if err == io.EOF {
				tx := d.closeAll(TA1PrematureEnd, "the input ends inside the interchange (no IEA)", nil)
				d.done = true
				if tx != nil {
					return tx, nil
				}
				return nil, io.EOF
			}
			if err != nil {
				if s != nil && s.Tag == "ISA" {
					tx := d.closeAll(TA1PrematureEnd, "a new ISA begins before the IEA", s)
					d.openInterchange(s, err)
					d.stop(err)
					if tx != nil {
						return tx, nil
					}
					continue
				}
				tx := d.closeAll(TA1InvalidContent, "the interchange cannot be read to its end: "+err.Error(), nil)
				d.stop(err)
				if tx != nil {
					return tx, nil
				}
				continue
			}
			seg, d.cur = s, s
		}
		if tx := d.process(seg); tx != nil {
			return tx, nil
		}
	}
}

// Release hands tx back to the decoder once the caller is done with its
// Segments, for a decoder that does not reuse them by itself
// (ReuseSegments): later sets reuse the memory of its segment list and
// of its segments' slices. The rest of tx stays valid: the values
// (strings) taken from its segments, the envelope, the errors. Call it
// from the goroutine that calls Next, between calls to Next, once per
// set; tx.Segments is nil afterwards. Under ReuseSegments it does
// nothing.
func (d *Decoder) Release(tx *Transaction) {
	if d.cfg.reuse || tx == nil {
		return
	}
	d.rd.recycle(tx.slabs)
	if c := cap(tx.Segments); c > 0 && c <= 1<<16 && len(d.free) < maxReleased {
		d.free = append(d.free, tx.Segments[:0])
	}
	tx.slabs, tx.Segments = nil, nil
}

// maxReleased is how many released segment lists a Decoder keeps.
const maxReleased = 16

func codeOf(err error) Code {
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Code
	}
	return Code{}
}

func (d *Decoder) stop(err error) {
	d.fatal = err
	d.rep.Err = err
}

func (d *Decoder) curIC() *InterchangeReport {
	if d.ic < 0 {
		return nil
	}
	return &d.rep.Interchanges[d.ic]
}

func (d *Decoder) curGroup() *GroupReport {
	ic := d.curIC()
	if ic == nil || d.gi < 0 || d.gi >= len(ic.Groups) {
		return nil
	}
	return &ic.Groups[d.gi]
}

// process handles one segment and returns a transaction when one is
// complete. A segment that closes an open set is pushed back (pending)
// and handled again after the set is returned.
func (d *Decoder) process(s *edi.Segment) *Transaction {
	switch s.Tag {
	case "ISA":
		if tx := d.closeAll(TA1PrematureEnd, "a new ISA begins before the IEA", s); tx != nil {
			d.pending = true
			return tx
		}
		d.openInterchange(s, nil)
	case "IEA":
		if d.inSet {
			d.pending = true
			return d.closeSetMissing(s)
		}
		if d.inGroup {
			d.closeGroupMissing(s)
		}
		if !d.inIC {
			d.stray(s, TA1InvalidControlStructure, "IEA without an ISA")
			return nil
		}
		d.closeInterchange(s)
	case "GS":
		if d.inSet {
			d.pending = true
			return d.closeSetMissing(s)
		}
		if d.inGroup {
			d.closeGroupMissing(s)
		}
		if !d.inIC {
			d.stray(s, TA1InvalidContent, "GS outside an interchange")
			return nil
		}
		d.openGroup(s)
	case "GE":
		if d.inSet {
			d.pending = true
			return d.closeSetMissing(s)
		}
		if !d.inGroup {
			d.stray(s, TA1InvalidControlStructure, "GE without a GS")
			return nil
		}
		d.closeGroup(s)
	case "ST":
		if d.inSet {
			d.pending = true
			return d.closeSetMissing(s)
		}
		if !d.inGroup {
			d.stray(s, TA1InvalidContent, "ST outside a functional group")
			return nil
		}
		d.openSet(s)
	case "SE":
		if !d.inSet {
			d.stray(s, TA1InvalidControlStructure, "SE without an ST")
			return nil
		}
		return d.closeSet(s)
	default:
		if d.inSet {
			d.addSegment(s)
			return nil
		}
		if d.inIC && !d.inGroup && (s.Tag == "TA1" || s.Tag == "ISB" || s.Tag == "ISE") {
			return nil // interchange-level segments
		}
		where := "outside a transaction set"
		if !d.inIC {
			where = "outside an interchange"
		}
		d.stray(s, TA1InvalidContent, "segment "+quote(s.Tag)+" "+where)
	}
	return nil
}

// closeAll ends whatever is open at the end of the input, at a new ISA or
// at a fatal error: the set (AK5 2), the group (AK9 3) and the
// interchange (the given TA1 code). It returns the cut-off set.
func (d *Decoder) closeAll(code Code, msg string, at *edi.Segment) *Transaction {
	var tx *Transaction
	if d.inSet {
		tx = d.closeSetMissing(at)
	}
	if d.inGroup {
		d.closeGroupMissing(at)
	}
	if d.inIC {
		d.interchangeErr(at, 0, code, false, errorf(ErrEnvelope, "%s", msg))
		d.inIC = false
	}
	return tx
}

func (d *Decoder) errAt(s *edi.Segment, elem int, code Code, err error) *SyntaxError {
	if s == nil {
		return &SyntaxError{Offset: d.rd.Offset(), Segment: d.rd.index, Tag: "", Element: elem, Code: code, Err: err}
	}
	return &SyntaxError{Offset: s.Pos.Offset, Segment: s.Pos.Index, Tag: s.Tag, Element: elem, Code: code, Err: err}
}

// interchangeErr records an interchange-level error; header errors reject
// the interchange.
func (d *Decoder) interchangeErr(s *edi.Segment, elem int, code Code, header bool, err error) {
	ic := d.curIC()
	if ic == nil {
		return
	}
	se, ok := err.(*SyntaxError)
	if !ok {
		se = d.errAt(s, elem, code, err)
	}
	ic.Errors = append(ic.Errors, se)
	d.errs = append(d.errs, se)
	if ic.Note == TA1NoError && code.Level == LevelInterchange {
		ic.Note = code
	}
	if header {
		ic.Rejected = true
	}
}

func (d *Decoder) stray(s *edi.Segment, code Code, msg string) {
	d.interchangeErr(s, 0, code, false, errorf(ErrEnvelope, "%s", msg))
}

var isaQualifiers = func() map[string]bool {
	m := map[string]bool{}
	for i := 1; i <= 38; i++ {
		m[pad2(i)] = true
	}
	for _, q := range []string{"AM", "NR", "SA", "SN", "ZZ"} {
		m[q] = true
	}
	return m
}()

// openInterchange starts an interchange at its ISA and checks the ISA's
// fields; sepErr is the reader's error about its separators, reported
// first.
func (d *Decoder) openInterchange(s *edi.Segment, sepErr error) {
	d.inIC, d.inGroup, d.inSet = true, false, false
	h := ISAHeader{
		AuthQualifier: s.Value(1), AuthInfo: s.Value(2), SecurityQualifier: s.Value(3), SecurityInfo: s.Value(4),
		SenderQualifier: s.Value(5), SenderID: s.Value(6), ReceiverQualifier: s.Value(7), ReceiverID: s.Value(8),
		Date: s.Value(9), Time: s.Value(10), StandardsID: s.Value(11), Version: s.Value(12), Control: s.Value(13),
		AckRequested: s.Value(14) == "1", Usage: s.Value(15),
	}
	d.rep.Interchanges = append(d.rep.Interchanges, InterchangeReport{
		Header: h, Delimiters: d.rd.Delimiters(), Pos: s.Pos, Note: TA1NoError, Declared: -1,
	})
	d.ic = len(d.rep.Interchanges) - 1
	d.gi = -1
	d.seenGS = map[string]bool{}
	ic := d.curIC()
	if sepErr != nil {
		d.interchangeErr(s, 0, codeOf(sepErr), true, sepErr)
	}
	bad := func(elem int, code Code, format string, args ...any) {
		d.interchangeErr(s, elem, code, true, errorf(ErrInterchangeHeader, format, args...))
	}
	width := func(elem int, v string, n int, code Code) bool {
		if l := len([]rune(v)); l != n {
			bad(elem, code, "ISA%02d %s has %d characters where %d are required", elem, quote(v), l, n)
			return false
		}
		return true
	}
	if v := h.AuthQualifier; len(v) != 2 || v < "00" || v > "07" {
		bad(1, TA1InvalidAuthQualifier, "ISA01 %s is not an authorization qualifier (00 to 07)", quote(v))
	}
	width(2, h.AuthInfo, 10, TA1InvalidAuthInfo)
	if v := h.SecurityQualifier; v != "00" && v != "01" {
		bad(3, TA1InvalidSecurityQualifier, "ISA03 %s is not a security qualifier (00, 01)", quote(v))
	}
	width(4, h.SecurityInfo, 10, TA1InvalidSecurityInfo)
	if !isaQualifiers[h.SenderQualifier] {
		bad(5, TA1InvalidSenderQualifier, "ISA05 %s is not an interchange ID qualifier", quote(h.SenderQualifier))
	}
	if width(6, h.SenderID, 15, TA1InvalidSenderID) && strings.TrimSpace(h.SenderID) == "" {
		bad(6, TA1InvalidSenderID, "ISA06 sender ID is blank")
	}
	if !isaQualifiers[h.ReceiverQualifier] {
		bad(7, TA1InvalidReceiverQualifier, "ISA07 %s is not an interchange ID qualifier", quote(h.ReceiverQualifier))
	}
	if width(8, h.ReceiverID, 15, TA1InvalidReceiverID) && strings.TrimSpace(h.ReceiverID) == "" {
		bad(8, TA1InvalidReceiverID, "ISA08 receiver ID is blank")
	}
	if len(h.Date) != 6 || !validDate(h.Date) {
		bad(9, TA1InvalidDate, "ISA09 %s is not a date YYMMDD", quote(h.Date))
	}
	if len(h.Time) != 4 || !validTime(h.Time) {
		bad(10, TA1InvalidTime, "ISA10 %s is not a time HHMM", quote(h.Time))
	}
	// ISA11 is "U" before 00402 and the repetition separator after; "U"
	// is accepted in any version (the interchange then has no repetition
	// separator), as many partners keep sending it.
	versionOK := len(h.Version) == 5 && allDigits(h.Version)
	if h.StandardsID != "U" && (!versionOK || h.Version < "00402" || ic.Delimiters.Repetition == 0) {
		bad(11, TA1InvalidStandardsID, "ISA11 %s is neither the standards identifier U nor a usable repetition separator", quote(h.StandardsID))
	}
	switch {
	case !versionOK:
		bad(12, TA1InvalidVersionID, "ISA12 %s is not a version number", quote(h.Version))
	case h.Version < "00200" || h.Version > "00899":
		bad(12, TA1VersionNotSupported, "ISA12 version %s is not supported", h.Version)
	}
	if len(h.Control) != 9 || !allDigits(h.Control) {
		bad(13, TA1InvalidControlNumber, "ISA13 %s is not a 9-digit control number", quote(h.Control))
	}
	if v := s.Value(14); v != "0" && v != "1" {
		bad(14, TA1InvalidAckRequested, "ISA14 %s is not 0 or 1", quote(v))
	}
	if v := h.Usage; v != "P" && v != "T" {
		bad(15, TA1InvalidTestIndicator, "ISA15 %s is not P or T", quote(v))
	}
	if d.seenISA[h.Control] {
		ic.Duplicate = true
		if d.cfg.rejectDup {
			d.interchangeErr(s, 13, TA1DuplicateControlNumber, true,
				errorf(ErrDuplicate, "ISA13 control number %s was used by an earlier interchange", h.Control))
		}
	}
	d.seenISA[h.Control] = true
	if ic.Rejected {
		d.cfg.log.Debug("x12: interchange header rejected", "control", h.Control, "note", ic.Note.String())
	}
}

func (d *Decoder) closeInterchange(s *edi.Segment) {
	ic := d.curIC()
	n, ctl := s.Value(1), s.Value(2)
	switch {
	case len(ctl) != 9 || !allDigits(ctl):
		d.interchangeErr(s, 2, TA1InvalidControlNumber, false,
			errorf(ErrEnvelope, "IEA02 %s is not a 9-digit control number", quote(ctl)))
	case ctl != ic.Header.Control:
		d.interchangeErr(s, 2, TA1ControlNumberMismatch, false,
			errorf(ErrEnvelope, "IEA02 %s does not match ISA13 %s", ctl, ic.Header.Control))
	}
	if allDigits(n) && len(n) <= 5 {
		ic.Declared = atoi(n)
	}
	if !allDigits(n) || len(n) > 5 || ic.Declared != len(ic.Groups) {
		d.interchangeErr(s, 1, TA1InvalidGroupCount, false,
			errorf(ErrEnvelope, "IEA01 %s does not match the %d functional groups of the interchange", quote(n), len(ic.Groups)))
	}
	if s.Len() > 2 {
		d.interchangeErr(s, 3, TA1InvalidControlStructure, false, errorf(ErrEnvelope, "IEA has more than 2 elements"))
	}
	ic.Complete = true
	d.inIC = false
}

func (d *Decoder) groupErr(s *edi.Segment, elem int, code Code, err error) {
	g := d.curGroup()
	se := d.errAt(s, elem, code, err)
	g.Errors = append(g.Errors, se)
	if code.Level == LevelGroup {
		d.errs = append(d.errs, se)
		if !slices.Contains(g.Codes, code) {
			g.Codes = append(g.Codes, code)
		}
	} else {
		d.interchangeErr(s, elem, code, false, se)
	}
}

func (d *Decoder) openGroup(s *edi.Segment) {
	ic := d.curIC()
	// The report outlives the segment: its strings are copies, so that
	// they do not keep the reader's text blocks alive.
	g := GroupReport{
		FunctionalID: strings.Clone(s.Value(1)), SenderCode: strings.Clone(s.Value(2)), ReceiverCode: strings.Clone(s.Value(3)),
		Date: strings.Clone(s.Value(4)), Time: strings.Clone(s.Value(5)), Control: strings.Clone(s.Value(6)),
		Agency: strings.Clone(s.Value(7)), Version: strings.Clone(s.Value(8)), Pos: s.Pos,
	}
	ic.Groups = append(ic.Groups, g)
	d.gi = len(ic.Groups) - 1
	d.inGroup = true
	d.stCount = 0
	d.seenST = map[string]bool{}
	bad := func(elem int, code Code, format string, args ...any) {
		d.groupErr(s, elem, code, errorf(ErrEnvelope, format, args...))
	}
	if v := g.FunctionalID; len(v) != 2 || !isAlnum(v[0]) || !isAlnum(v[1]) {
		bad(1, AK9GroupNotSupported, "GS01 %s is not a functional identifier", quote(v))
	}
	for i, v := range []string{g.SenderCode, g.ReceiverCode} {
		if n := len([]rune(v)); n < 2 || n > 15 {
			bad(2+i, TA1InvalidContent, "GS%02d %s must have 2 to 15 characters", 2+i, quote(v))
		}
	}
	if !validDate(g.Date) {
		bad(4, TA1InvalidContent, "GS04 %s is not a date CCYYMMDD", quote(g.Date))
	}
	if !validTime(g.Time) {
		bad(5, TA1InvalidContent, "GS05 %s is not a time HHMM[SS[dd]]", quote(g.Time))
	}
	if len(g.Control) < 1 || len(g.Control) > 9 || !allDigits(g.Control) {
		bad(6, AK9InvalidControlNumber, "GS06 %s is not a control number of 1 to 9 digits", quote(g.Control))
	}
	if g.Agency != "X" && g.Agency != "T" {
		bad(7, TA1InvalidContent, "GS07 %s is not a responsible agency code (X, T)", quote(g.Agency))
	}
	if v := g.Version; len(v) < 6 || len(v) > 12 || !allDigits(v[:6]) || v[:6] < "002000" || v[:6] > "008999" {
		bad(8, AK9VersionNotSupported, "GS08 version %s is not supported", quote(v))
	}
	// A GS whose last element ends in the component separator means the
	// ISA had no ISA16: what was read as ISA16 is the real terminator
	// (and the line break after it was taken for the terminator).
	if n := s.Len(); n > 0 {
		if last := s.Components(n); len(last) > 1 && last[len(last)-1] == "" {
			d.interchangeErr(s, 0, TA1InvalidComponentSep, true, errorf(ErrSeparators,
				"GS ends with the component separator %q: ISA16 is probably missing from the ISA", ic.Delimiters.Component))
		}
	}
	if d.seenGS[g.Control] {
		d.curGroup().Duplicate = true
		if d.cfg.rejectDup {
			d.groupErr(s, 6, AK9DuplicateControlNumber,
				errorf(ErrDuplicate, "GS06 control number %s repeats in the interchange", g.Control))
		}
	}
	d.seenGS[g.Control] = true
}

func (d *Decoder) closeGroup(s *edi.Segment) {
	g := d.curGroup()
	n, ctl := s.Value(1), s.Value(2)
	if allDigits(n) && len(n) <= 6 {
		g.Declared = atoi(n)
	}
	if !allDigits(n) || len(n) > 6 || g.Declared != d.stCount {
		d.groupErr(s, 1, AK9SetCountMismatch,
			errorf(ErrEnvelope, "GE01 %s does not match the %d transaction sets of the group", quote(n), d.stCount))
	}
	if ctl != g.Control {
		d.groupErr(s, 2, AK9ControlNumberMismatch,
			errorf(ErrEnvelope, "GE02 %s does not match GS06 %s", quote(ctl), quote(g.Control)))
	}
	g.Complete = true
	d.finishGroup()
}

func (d *Decoder) closeGroupMissing(at *edi.Segment) {
	d.groupErr(at, 0, AK9TrailerMissing, errorf(ErrEnvelope, "functional group %s has no GE trailer", d.curGroup().Control))
	d.finishGroup()
}

func (d *Decoder) finishGroup() {
	g := d.curGroup()
	if n := len(g.Sets); cap(g.Sets)-n > n/8+8 {
		// Give back what append reserved: the report is kept to the end
		// of the input and has one entry per set.
		g.Sets = append(make([]SetReport, 0, n), g.Sets...)
	}
	slices.SortFunc(g.Codes, func(a, b Code) int { return a.N - b.N })
	switch {
	case len(g.Codes) > 0 || d.curIC().Rejected:
		g.Status = StatusRejected
	case g.Accepted == g.Received && g.Received == d.stCount:
		g.Status = StatusAccepted
	case g.Accepted > 0:
		g.Status = StatusPartial
	default:
		g.Status = StatusRejected
	}
	d.inGroup = false
}

func (d *Decoder) openSet(s *edi.Segment) {
	ic, g := d.curIC(), d.curGroup()
	d.inSet = true
	d.stCount++
	d.setPos = 1
	d.setBytes = 0
	d.tooBig = false
	// The report (and seenST) outlive the segment: copies, so that they
	// do not keep the reader's text blocks alive.
	id, ctl := internSetID(s.Value(1)), strings.Clone(s.Value(2))
	d.set = SetReport{ID: id, Control: ctl, Convention: strings.Clone(s.Value(3)), Pos: s.Pos}
	h := &ic.Header
	d.tx = &Transaction{
		Message: edi.Message{
			Standard: edi.X12, Type: id, DecimalMark: '.',
			Envelope: edi.Envelope{
				SenderID: strings.TrimSpace(h.SenderID), SenderQualifier: strings.TrimSpace(h.SenderQualifier),
				ReceiverID: strings.TrimSpace(h.ReceiverID), ReceiverQualifier: strings.TrimSpace(h.ReceiverQualifier),
				GroupSender: g.SenderCode, GroupReceiver: g.ReceiverCode,
				InterchangeDate: h.Date, InterchangeTime: h.Time,
				InterchangeControl: h.Control, GroupControl: g.Control, MessageControl: ctl,
				FunctionalID: g.FunctionalID, Version: g.Version, Syntax: h.Version,
				AckRequested: h.AckRequested, Test: h.Usage == "T",
			},
			Segments: d.newSegments(),
		},
		Convention:  s.Value(3),
		Interchange: d.ic,
		Group:       d.gi,
	}
	d.keep(s)
	d.val = nil
	setErr := func(elem int, code Code, class error, format string, args ...any) {
		d.addSetCode(code)
		d.tx.Errors = append(d.tx.Errors, d.errAt(s, elem, code, errorf(class, format, args...)))
	}
	if len(id) != 3 || !allDigits(id) {
		setErr(1, AK5InvalidSetID, ErrEnvelope, "ST01 %s is not a transaction set identifier", quote(id))
	} else if d.cfg.supported != nil && !d.cfg.supported[id] {
		setErr(1, AK5SetNotSupported, ErrUnsupported, "transaction set %s is not supported", id)
	} else if def := lookupSet(id, g.Version); def != nil {
		if d.spare != nil {
			d.val, d.spare = d.spare, nil
			d.val.reset(def, d.cfg.maxErrors)
		} else {
			d.val = newSetValidator(def, d.cfg.maxErrors)
		}
		// Before 004010 dates are YYMMDD.
		d.val.legacyDates = len(g.Version) >= 6 && g.Version[:6] < "004010"
	}
	if n := len(ctl); n < 4 || n > 9 || !isPrintable(ctl) {
		setErr(2, AK5InvalidControlNumber, ErrEnvelope, "ST02 %s is not a control number of 4 to 9 characters", quote(ctl))
	}
	if d.seenST[ctl] {
		d.set.Duplicate = true
		if d.cfg.rejectDup {
			setErr(2, AK5DuplicateControlNumber, ErrDuplicate, "ST02 control number %s repeats in the group", ctl)
		}
	}
	d.seenST[ctl] = true
}

// newSegments returns the empty segment list of a new set.
func (d *Decoder) newSegments() []edi.Segment {
	if d.cfg.reuse && d.segBuf != nil {
		b := d.segBuf[:0]
		d.segBuf = nil
		return b
	}
	if n := len(d.free); n > 0 {
		b := d.free[n-1]
		d.free[n-1] = nil
		d.free = d.free[:n-1]
		return b
	}
	return make([]edi.Segment, 0, d.segHint)
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7F {
			return false
		}
	}
	return true
}

func (d *Decoder) addSetCode(c Code) {
	if !slices.Contains(d.set.Codes, c) {
		d.set.Codes = append(d.set.Codes, c)
	}
}

func (d *Decoder) addSegment(s *edi.Segment) {
	d.setPos++
	if d.val != nil {
		d.val.segment(s, d.setPos, d.rd.plain) // s is the segment the reader returned last
	}
	if d.tooBig {
		if d.cfg.reuse {
			d.rd.rewind() // nothing of the set is kept: bound the slabs
		} else {
			d.rd.forget()
		}
		return
	}
	d.setBytes += d.rd.segSize // s is the segment the reader returned last
	if d.setBytes > d.cfg.maxSet {
		d.tooBig = true
		d.tx.Segments = nil
		d.tx.Errors = append(d.tx.Errors, d.errAt(s, 0, Code{},
			errorf(ErrLimit, "transaction set is larger than the limit of %d bytes; its segments are dropped", d.cfg.maxSet)))
		return
	}
	d.keep(s)
}

// keep appends s to the set's segments. The decoder's reader makes fresh
// element slices for every segment, so only the Segment value is copied.
func (d *Decoder) keep(s *edi.Segment) {
	seg := *s
	seg.Pos.InMessage = d.setPos
	d.tx.Segments = append(d.tx.Segments, seg)
}

func (d *Decoder) closeSet(s *edi.Segment) *Transaction {
	d.setPos++
	if !d.tooBig {
		d.keep(s)
	}
	n, ctl := s.Value(1), s.Value(2)
	if !allDigits(n) || len(n) > 10 || atoi(n) != d.setPos {
		d.addSetCode(AK5SegmentCountMismatch)
		d.tx.Errors = append(d.tx.Errors, d.errAt(s, 1, AK5SegmentCountMismatch,
			errorf(ErrEnvelope, "SE01 %s does not match the %d segments of the set", quote(n), d.setPos)))
	}
	if ctl != d.set.Control {
		d.addSetCode(AK5ControlNumberMismatch)
		d.tx.Errors = append(d.tx.Errors, d.errAt(s, 2, AK5ControlNumberMismatch,
			errorf(ErrEnvelope, "SE02 %s does not match ST02 %s", quote(ctl), quote(d.set.Control))))
	}
	if d.val != nil {
		d.val.end(s.Pos, s.Tag)
	}
	d.set.Complete = true
	d.curGroup().Received++
	return d.finishSet()
}

func (d *Decoder) closeSetMissing(at *edi.Segment) *Transaction {
	d.addSetCode(AK5TrailerMissing)
	d.tx.Errors = append(d.tx.Errors, d.errAt(at, 0, AK5TrailerMissing,
		errorf(ErrEnvelope, "transaction set %s %s has no SE trailer", d.set.ID, d.set.Control)))
	if d.val != nil {
		d.spare, d.val = d.val, nil
	}
	return d.finishSet()
}

func (d *Decoder) finishSet() *Transaction {
	tx := d.tx
	ic, g := d.curIC(), d.curGroup()
	if d.val != nil {
		for _, e := range d.val.errs {
			d.set.Segments = append(d.set.Segments, e.public())
			if len(e.elems) == 0 {
				tx.Errors = append(tx.Errors, &SyntaxError{Offset: e.at.Offset, Segment: e.at.Index, Tag: e.atTag,
					Code: e.code, Err: errorf(ErrStructure, "%s", e.msg)})
			}
			for _, el := range e.elems {
				comp := el.comp
				tx.Errors = append(tx.Errors, &SyntaxError{Offset: e.at.Offset, Segment: e.at.Index, Tag: e.atTag,
					Element: el.pos, Component: comp, Code: el.code, Err: errorf(ErrElement, "%s", el.msg)})
			}
		}
		d.set.Dropped = d.val.dropped
		if len(d.val.errs) > 0 {
			d.addSetCode(AK5SegmentErrors)
		}
	}
	slices.SortFunc(d.set.Codes, func(a, b Code) int { return a.N - b.N })
	accepted := len(d.set.Codes) == 0 && !d.tooBig
	if ic.Rejected {
		accepted = false
		tx.Errors = append(tx.Errors, &SyntaxError{Offset: d.set.Pos.Offset, Segment: d.set.Pos.Index, Tag: "ST",
			Err: errorf(ErrInterchangeRejected, "interchange %s was rejected at its header (TA1 %s)", ic.Header.Control, ic.Note.Value())})
	}
	if accepted {
		d.set.Status = StatusAccepted
		g.Accepted++
	} else {
		d.set.Status = StatusRejected
	}
	tx.Accepted = accepted
	if !accepted || !d.cfg.compact {
		g.Sets = append(g.Sets, d.set)
	}
	if n := len(tx.Segments); n > d.segHint {
		d.segHint = min(n, 4096)
	}
	if d.cfg.reuse && cap(tx.Segments) <= 1<<16 {
		d.segBuf = tx.Segments
	}
	if !d.cfg.reuse {
		tx.slabs = d.rd.detach()
	}
	d.inSet = false
	if d.val != nil {
		d.spare = d.val
	}
	d.tx, d.val, d.set = nil, nil, SetReport{}
	return tx
}

// public returns the report's form of e; its strings are copies, as the
// report outlives the segments.
func (e *segmentErr) public() SegmentErr {
	p := SegmentErr{Tag: strings.Clone(e.tag), Position: e.pos, Loop: e.loop, Code: e.code,
		Context: [2]string{e.unit[0], strings.Clone(e.unit[1])}}
	for _, el := range e.elems {
		p.Elements = append(p.Elements, ElementErr{Position: el.pos, Component: el.comp, Repetition: el.rep,
			Ref: el.ref, Code: el.code, Value: strings.Clone(el.value)})
	}
	return p
}

// internSetID returns ST01 as a string of its own: a shared constant for
// the common sets, else a copy.
func internSetID(id string) string {
	switch id {
	case "850":
		return "850"
	case "855":
		return "855"
	case "997":
		return "997"
	case "999":
		return "999"
	case "856":
		return "856"
	case "810":
		return "810"
	}
	return strings.Clone(id)
}
