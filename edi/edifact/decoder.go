package edifact

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ordergate/ordergate/edi"
)

// Message is one EDIFACT message (UNH..UNT) with its envelope, the
// problems found in it and whether it is accepted. Segments are owned by
// the Message and stay valid.
type Message struct {
	edi.Message
	// Errors are the message's positioned problems, each a *SyntaxError;
	// nil for a clean message.
	Errors []error
	// Accepted is true when the message and the headers around it have no
	// error: the message may be processed, and a CONTRL reports it as
	// acknowledged.
	Accepted bool
	// blocks hold the segments' slices (without WithMessageReuse), for
	// Decoder.Release.
	blocks arenaBlocks
}

// Report is what a CONTRL needs about a file: per interchange, group and
// message, the action and the errors with their positions. It holds about
// 100 bytes per message and no segment data.
type Report struct {
	Interchanges []*InterchangeReport
	// Errors are problems outside any interchange: data before the first
	// UNB, segments between interchanges, an empty file.
	Errors []*SyntaxError
	// Messages and Rejected count the messages of the file.
	Messages, Rejected int
}

// InterchangeReport is one UNB..UNZ.
type InterchangeReport struct {
	Pos                     edi.Position // of the UNB
	Control                 string       // UNB 0020
	SenderID, SenderQual    string       // UNB S002
	RecipientID, RecipQual  string       // UNB S003
	SyntaxID, SyntaxVersion string       // UNB S001, e.g. "UNOC", "3"
	Separators              Separators   // in effect for the interchange
	UNA                     bool         // the interchange had a UNA
	AckRequested, Test      bool         // UNB 0031 = 1, 0035 = 1
	// Rejected is true when the header (UNA, UNB) is in error: the
	// interchange and all its messages are rejected.
	Rejected bool
	// Errors are the interchange-level problems: header, trailer (missing
	// UNZ, 0020 or count mismatch) and segments outside messages.
	Errors   []*SyntaxError
	Groups   []*GroupReport
	Messages []*MessageReport // messages outside groups
	// Omitted counts accepted messages left out of the lists beyond
	// Limits.MaxReportMessages.
	Omitted int
}

// GroupReport is one UNG..UNE.
type GroupReport struct {
	Pos                    edi.Position
	Control                string // UNG 0048
	FunctionalID           string // UNG 0038
	SenderID, SenderQual   string // UNG S006
	RecipientID, RecipQual string // UNG S007
	Rejected               bool
	Errors                 []*SyntaxError
	Messages               []*MessageReport
	Omitted                int
}

// MessageReport is one UNH..UNT.
type MessageReport struct {
	Pos                                         edi.Position // of the UNH
	Reference                                   string       // UNH 0062
	Type, Version, Release, Agency, Association string       // UNH S009
	Accepted                                    bool
	Errors                                      []*SyntaxError
}

// Decoder reads the messages of a file of EDIFACT interchanges, checking
// envelopes and, for the message types with a directory here, the
// message against it.
type Decoder struct {
	rd  *Reader
	cfg config
	rep Report

	queue []result
	fatal error
	done  bool

	ic       *InterchangeReport
	icEnv    edi.Envelope
	icCount  int // messages or groups, for UNZ 0036
	icGroups bool
	refs     map[string]bool
	grp      *GroupReport
	grpCount int
	pendUNA  *Separators
	unaErr   *SyntaxError // an invalid UNA, charged to the next UNB
	listed   int          // messages listed in the report

	msg    *Message
	msgRep *MessageReport
	msgN   int        // segments counted from UNH
	st     *structure // &stMem inside a message with a directory, else nil
	stMem  structure
	def    *MessageDef
	bare   bool // the current message is outside an interchange

	lastIndex  int
	lastOffset int64
	arena      arena

	knownSender  func(id, qualifier string) bool
	prev         *Message // the last message returned, recycled under WithMessageReuse
	resetPending bool
	free         []*Message  // messages handed back by Release
	ra           *readAhead  // WithReadAhead, once Next started it
	seps         Separators  // in effect after the last segment (read-ahead)
	pending      arenaBlocks // block groups handed over, for the next finished message (read-ahead)
}

type result struct {
	msg *Message
	err error
}

// DecoderOption configures a Decoder beyond the Reader options.
type DecoderOption = Option

// WithKnownSender makes the decoder reject interchanges whose sender
// (UNB S002) the function does not know, with code 23.
func WithKnownSender(known func(id, qualifier string) bool) Option {
	return func(c *config) { c.knownSender = known }
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	d := &Decoder{rd: NewReader(r, opts...)}
	d.rd.arena = &d.arena
	d.cfg = d.rd.cfg
	d.arena.own = !d.cfg.reuse
	d.arena.size = hintedBlock(d.cfg.sizeHint)
	d.knownSender = d.cfg.knownSender
	return d
}

// hintedBlock is the arena's block length for an input of about hint
// bytes (SizeHint): what its values are likely to need (a value takes 4
// bytes or more in most messages) plus a margin, from 512 to arenaBlock;
// 0 (arenaBlock) without a hint. A message that needs more takes more
// blocks, so a wrong hint costs allocations, never correctness. A 2.5 KB
// ORDERS takes blocks of 881 values instead of 4,096.
func hintedBlock(hint int64) int {
	if hint <= 0 {
		return 0
	}
	return int(min(max(hint/4+256, 512), arenaBlock))
}

// Next returns the next message of the file in order, io.EOF after the
// last. An error that is a *SyntaxError is an interchange-level problem
// (a header or trailer in error, data outside an interchange): it is
// returned once, in file order, and decoding goes on with the next call;
// it is also in the Report. Any other error is final (the reader failed).
// A message in error is returned too, with Accepted false and its Errors.
func (d *Decoder) Next() (*Message, error) {
	for {
		if len(d.queue) > 0 {
			r := d.queue[0]
			d.queue[0] = result{}
			d.queue = d.queue[1:]
			if r.msg != nil && d.cfg.reuse {
				d.resetPending = true
			}
			return r.msg, r.err
		}
		if d.fatal != nil {
			return nil, d.fatal
		}
		if d.resetPending {
			// The message returned before is no longer valid: recycle.
			if d.ra != nil {
				d.ra.shared.put(d.prev.blocks)
				d.prev.blocks = arenaBlocks{}
			} else {
				d.arena.reset()
			}
			d.resetPending = false
		}
		if d.done {
			return nil, io.EOF
		}
		seg, err := d.read()
		if err == io.EOF {
			d.finish()
			d.done = true
			continue
		}
		se, isSyntax := err.(*SyntaxError) // the Reader returns them unwrapped
		if err != nil && !isSyntax {
			d.fatal = err
			continue
		}
		if seg == nil {
			d.lost(se)
			continue
		}
		d.lastIndex, d.lastOffset = seg.Pos.Index, seg.Pos.Offset
		d.segment(seg, se)
	}
}

// read returns the next segment as ReadSegment does, from the reading
// goroutine under WithReadAhead, or the context's error, final.
func (d *Decoder) read() (*edi.Segment, error) {
	if !d.cfg.readAhead {
		if d.rd.index&4095 == 0 {
			if err := d.cfg.ctx.Err(); err != nil {
				return nil, fmt.Errorf("decoding EDIFACT: %w", err)
			}
		}
		return d.rd.ReadSegment()
	}
	if d.ra == nil {
		d.startReadAhead()
	}
	if d.ra.n&4095 == 0 {
		if err := d.cfg.ctx.Err(); err != nil {
			return nil, fmt.Errorf("decoding EDIFACT: %w", err)
		}
	}
	seg, seps, blocks, err := d.ra.next(d.cfg.ctx)
	d.seps = seps
	d.pending.strs = append(d.pending.strs, blocks.strs...)
	d.pending.ints = append(d.pending.ints, blocks.ints...)
	return seg, err
}

// separators returns the service characters in effect after the segment
// being handled.
func (d *Decoder) separators() Separators {
	if d.ra != nil {
		return d.seps
	}
	return d.rd.Separators()
}

// Release hands m back to the decoder once the caller is done with it,
// for a decoder that does not reuse messages by itself
// (WithMessageReuse): a later message reuses m, the memory of its
// segment list and of its segments' slices. Values taken from m (strings) stay valid; m itself must
// not be used afterwards. Call it from the goroutine that calls Next,
// between calls to Next. Under WithMessageReuse it does nothing.
func (d *Decoder) Release(m *Message) {
	if d.cfg.reuse || m == nil {
		return
	}
	if d.ra != nil {
		d.ra.shared.put(m.blocks)
	} else {
		d.arena.recycle(m.blocks)
	}
	m.blocks = arenaBlocks{}
	if cap(m.Segments) <= 1<<16 && len(d.free) < maxReleased {
		d.free = append(d.free, m)
	}
}

// maxReleased is how many released messages a Decoder keeps.
const maxReleased = 16

// Report returns what the decoder found so far; complete after Next has
// returned io.EOF.
func (d *Decoder) Report() *Report { return &d.rep }

func (d *Decoder) emit(m *Message) { d.queue = append(d.queue, result{msg: m}) }
func (d *Decoder) emitErr(e error) { d.queue = append(d.queue, result{err: e}) }

// fileError records a problem outside any interchange.
func (d *Decoder) fileError(e *SyntaxError) {
	if len(d.rep.Errors) < d.cfg.limits.MaxErrorsPerMessage {
		d.rep.Errors = append(d.rep.Errors, e)
	}
	d.emitErr(e)
}

// icError records an interchange-level problem; header problems reject.
func (d *Decoder) icError(e *SyntaxError, reject bool) {
	if reject {
		d.ic.Rejected = true
	}
	if len(d.ic.Errors) < d.cfg.limits.MaxErrorsPerMessage {
		d.ic.Errors = append(d.ic.Errors, e)
	}
	d.emitErr(e)
}

func (d *Decoder) grpError(e *SyntaxError, reject bool) {
	if reject {
		d.grp.Rejected = true
	}
	if len(d.grp.Errors) < d.cfg.limits.MaxErrorsPerMessage {
		d.grp.Errors = append(d.grp.Errors, e)
	}
	d.emitErr(e)
}

func (d *Decoder) msgError(e *SyntaxError) {
	if len(d.msg.Errors) < d.cfg.limits.MaxErrorsPerMessage {
		d.msg.Errors = append(d.msg.Errors, e)
		d.msgRep.Errors = append(d.msgRep.Errors, e)
	}
}

func envErr(pos edi.Position, tag string, elem, comp int, code ErrorCode, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: pos.Offset, Segment: pos.Index, InMessage: pos.InMessage, Tag: tag, Element: elem, Component: comp,
		Code: code, Err: classErr(ErrEnvelope, format, args...)}
}

// nextPos is where a missing trailer would have been.
func (d *Decoder) nextPos() edi.Position {
	return edi.Position{Offset: d.lastOffset, Index: d.lastIndex + 1}
}

// lost handles a segment the reader could not deliver.
func (d *Decoder) lost(se *SyntaxError) {
	d.lastIndex, d.lastOffset = se.Segment, se.Offset
	switch {
	case d.msg != nil:
		d.msgN++
		se.InMessage = d.msgN
		d.msgError(se)
	case se.Tag == "UNA":
		d.closeInterchange(true)
		d.unaErr = se
		d.emitErr(se)
	case d.ic != nil:
		d.icError(se, se.Tag == "UNB")
	default:
		d.fileError(se)
	}
}

func (d *Decoder) segment(s *edi.Segment, problem *SyntaxError) {
	switch s.Tag {
	case "UNA":
		d.closeInterchange(true)
		seps := d.separators()
		d.pendUNA = &seps
		return
	case "UNB":
		d.closeInterchange(true)
		d.openInterchange(s, problem)
		return
	case "UNZ":
		d.closeInterchangeWith(s, problem)
		return
	case "UNG":
		d.openGroup(s, problem)
		return
	case "UNE":
		d.closeGroupWith(s, problem)
		return
	case "UNH":
		d.openMessage(s, problem)
		return
	}
	if d.msg == nil {
		e := envErr(s.Pos, s.Tag, 0, 0, CodeNotSupported, "segment %s outside a message", s.Tag)
		if d.ic != nil {
			d.icError(e, false)
		} else {
			d.fileError(e)
		}
		return
	}
	d.msgN++
	if problem != nil {
		d.simpleElement(problem, s)
		d.msgError(problem)
	}
	if len(d.msg.Segments) < d.cfg.limits.MaxMessageSegments {
		appendSegment(d.msg, s)
	} else if len(d.msg.Segments) == d.cfg.limits.MaxMessageSegments {
		d.msgError(&SyntaxError{Offset: s.Pos.Offset, Segment: s.Pos.Index, InMessage: s.Pos.InMessage, Tag: s.Tag, Code: CodeUnspecified,
			Err: classErr(ErrLimit, "message longer than %d segments", d.cfg.limits.MaxMessageSegments)})
		d.msg.Segments = append(d.msg.Segments, edi.Segment{}) // marks the overflow once
	}
	if s.Tag == "UNT" {
		d.closeMessageWith(s)
		return
	}
	d.check(s)
}

// simpleElement drops the component number of a reader problem in a
// simple data element, which the reader cannot tell from a composite.
func (d *Decoder) simpleElement(e *SyntaxError, s *edi.Segment) {
	if d.def == nil || e.Component != 1 || e.Element < 1 {
		return
	}
	if sd := d.def.Segments[s.Tag]; sd != nil && e.Element <= len(sd.Elements) && !sd.Elements[e.Element-1].Composite {
		e.Component = 0
	}
}

// check validates a body segment against the message's directory.
func (d *Decoder) check(s *edi.Segment) {
	if d.st == nil {
		return
	}
	errs, node := d.st.step(s)
	for _, e := range errs {
		d.msgError(e)
	}
	sd := (*SegmentDef)(nil)
	if node != nil {
		sd = node.def
	} else {
		sd = d.def.Segments[s.Tag]
	}
	if sd != nil {
		for _, e := range validateSegment(s, sd, d.msg.DecimalMark, d.cfg.limits.MaxErrorsPerMessage) {
			d.msgError(e)
		}
	}
}

func (d *Decoder) openInterchange(s *edi.Segment, problem *SyntaxError) {
	seps := d.separators()
	ic := &InterchangeReport{Pos: s.Pos, Separators: seps, UNA: d.pendUNA != nil,
		SyntaxID: s.Component(1, 1), SyntaxVersion: s.Component(1, 2),
		SenderID: s.Component(2, 1), SenderQual: s.Component(2, 2),
		RecipientID: s.Component(3, 1), RecipQual: s.Component(3, 2),
		Control: s.Value(5), AckRequested: s.Value(9) == "1", Test: s.Value(11) == "1"}
	cloneStrings(&ic.SyntaxID, &ic.SyntaxVersion, &ic.SenderID, &ic.SenderQual, &ic.RecipientID, &ic.RecipQual, &ic.Control)
	d.pendUNA = nil
	d.ic, d.icCount, d.icGroups, d.grp = ic, 0, false, nil
	d.refs = map[string]bool{}
	d.rep.Interchanges = append(d.rep.Interchanges, ic)
	d.icEnv = edi.Envelope{
		SenderID: ic.SenderID, SenderQualifier: ic.SenderQual, ReceiverID: ic.RecipientID, ReceiverQualifier: ic.RecipQual,
		InterchangeDate: strings.Clone(s.Component(4, 1)), InterchangeTime: strings.Clone(s.Component(4, 2)),
		InterchangeControl: ic.Control, Syntax: ic.SyntaxID + ":" + ic.SyntaxVersion, AckRequested: ic.AckRequested, Test: ic.Test,
	}
	if d.unaErr != nil {
		ic.Rejected = true
		ic.UNA = true
		ic.Errors = append(ic.Errors, d.unaErr)
		d.unaErr = nil
	}
	if problem != nil {
		d.icError(problem, true)
	}
	if !SupportedSyntax(ic.SyntaxID) {
		d.icError(envErr(s.Pos, "UNB", 1, 1, CodeSyntaxLevel, "syntax identifier %q not supported", ic.SyntaxID), true)
	} else if v := ic.SyntaxVersion; v < "1" || v > "4" || len(v) != 1 {
		d.icError(envErr(s.Pos, "UNB", 1, 2, CodeSyntaxLevel, "syntax version %q not supported", v), true)
	}
	for _, e := range validateSegment(s, segUNB, '.', d.cfg.limits.MaxErrorsPerMessage) {
		e.Err = classErr(ErrEnvelope, "%v", e.Err)
		d.icError(e, true)
	}
	if date := s.Component(4, 1); date != "" && len(date) != 6 && len(date) != 8 {
		d.icError(envErr(s.Pos, "UNB", 4, 1, CodeInvalidValue, "date %q is neither YYMMDD nor CCYYMMDD", date), true)
	}
	if d.knownSender != nil && !ic.Rejected && !d.knownSender(ic.SenderID, ic.SenderQual) {
		d.icError(envErr(s.Pos, "UNB", 2, 1, CodeUnknownSender, "unknown interchange sender %s:%s", ic.SenderID, ic.SenderQual), true)
	}
	d.cfg.logger.Debug("edifact interchange", "control", ic.Control, "sender", ic.SenderID, "syntax", ic.SyntaxID, "rejected", ic.Rejected)
}

func cloneStrings(ps ...*string) {
	for _, p := range ps {
		*p = strings.Clone(*p)
	}
}

// closeInterchange ends the current interchange at the end of input or
// when a new one starts without a UNZ.
func (d *Decoder) closeInterchange(missing bool) {
	if d.ic == nil {
		return
	}
	d.closeGroup()
	d.closeMessage()
	if missing {
		d.icError(envErr(d.nextPos(), "UNZ", 0, 0, CodeMissing, "interchange %s has no UNZ trailer", d.ic.Control), false)
	}
	d.ic = nil
}

func (d *Decoder) closeInterchangeWith(s *edi.Segment, problem *SyntaxError) {
	if d.ic == nil {
		d.closeMessage()
		d.fileError(envErr(s.Pos, "UNZ", 0, 0, CodeNotSupported, "UNZ without UNB"))
		return
	}
	d.closeGroup()
	d.closeMessage()
	if problem != nil {
		d.icError(problem, false)
	}
	for _, e := range validateSegment(s, segUNZ, '.', d.cfg.limits.MaxErrorsPerMessage) {
		d.icError(e, false)
	}
	if n := s.Value(1); n != "" && n != strconv.Itoa(d.icCount) {
		what := "messages"
		if d.icGroups {
			what = "groups"
		}
		d.icError(envErr(s.Pos, "UNZ", 1, 0, CodeCountMismatch, "UNZ counts %s %s, the interchange has %d", n, what, d.icCount), false)
	}
	if ref := s.Value(2); ref != "" && ref != d.ic.Control {
		d.icError(envErr(s.Pos, "UNZ", 2, 0, CodeReferencesMismatch, "UNZ reference %q does not match UNB reference %q", ref, d.ic.Control), false)
	}
	if d.icCount == 0 {
		d.icError(envErr(s.Pos, "UNZ", 0, 0, CodeLowerLevelEmpty, "interchange %s has no messages", d.ic.Control), false)
	}
	d.ic = nil
}

func (d *Decoder) openGroup(s *edi.Segment, problem *SyntaxError) {
	if d.ic == nil {
		d.fileError(envErr(s.Pos, "UNG", 0, 0, CodeNotSupported, "UNG outside an interchange"))
		return
	}
	d.closeMessage()
	if d.grp != nil {
		d.closeGroup()
	}
	if d.icCount > 0 && !d.icGroups {
		d.icError(envErr(s.Pos, "UNG", 0, 0, CodeNotSupported, "functional group after messages outside groups"), false)
	}
	g := &GroupReport{Pos: s.Pos, FunctionalID: s.Value(1), SenderID: s.Component(2, 1), SenderQual: s.Component(2, 2),
		RecipientID: s.Component(3, 1), RecipQual: s.Component(3, 2), Control: s.Value(5)}
	cloneStrings(&g.FunctionalID, &g.SenderID, &g.SenderQual, &g.RecipientID, &g.RecipQual, &g.Control)
	d.grp, d.grpCount, d.icGroups = g, 0, true
	d.icCount++
	d.ic.Groups = append(d.ic.Groups, g)
	if problem != nil {
		d.grpError(problem, true)
	}
	for _, e := range validateSegment(s, segUNG, '.', d.cfg.limits.MaxErrorsPerMessage) {
		d.grpError(e, true)
	}
}

// closeGroup ends a group that has no UNE.
func (d *Decoder) closeGroup() {
	if d.grp == nil {
		return
	}
	d.closeMessage()
	d.grpError(envErr(d.nextPos(), "UNE", 0, 0, CodeMissing, "group %s has no UNE trailer", d.grp.Control), false)
	d.grp = nil
}

func (d *Decoder) closeGroupWith(s *edi.Segment, problem *SyntaxError) {
	if d.grp == nil {
		e := envErr(s.Pos, "UNE", 0, 0, CodeNotSupported, "UNE without UNG")
		if d.ic != nil {
			d.icError(e, false)
		} else {
			d.fileError(e)
		}
		return
	}
	d.closeMessage()
	if problem != nil {
		d.grpError(problem, false)
	}
	for _, e := range validateSegment(s, segUNE, '.', d.cfg.limits.MaxErrorsPerMessage) {
		d.grpError(e, false)
	}
	if n := s.Value(1); n != "" && n != strconv.Itoa(d.grpCount) {
		d.grpError(envErr(s.Pos, "UNE", 1, 0, CodeCountMismatch, "UNE counts %s messages, the group has %d", n, d.grpCount), false)
	}
	if ref := s.Value(2); ref != "" && ref != d.grp.Control {
		d.grpError(envErr(s.Pos, "UNE", 2, 0, CodeReferencesMismatch, "UNE reference %q does not match UNG reference %q", ref, d.grp.Control), false)
	}
	d.grp = nil
}

func (d *Decoder) openMessage(s *edi.Segment, problem *SyntaxError) {
	closed := d.msg != nil
	if closed {
		// A message without UNT, returned before this one. s lies in
		// its blocks, which the caller may hand back (Release) or which
		// the next Next recycles (WithMessageReuse) while s is alive.
		d.closeMessage()
		vals, elem, rep := s.Flat()
		s.SetFlat(slices.Clone(vals), slices.Clone(elem), slices.Clone(rep))
	}
	env := d.icEnv
	d.bare = d.ic == nil
	if d.bare {
		env = edi.Envelope{}
		d.fileError(envErr(s.Pos, "UNH", 0, 0, CodeMissing, "message outside an interchange (no UNB)"))
	}
	mr := &MessageReport{Pos: s.Pos, Reference: strings.Clone(s.Value(1)), Type: strings.Clone(s.Component(2, 1)),
		Version: strings.Clone(s.Component(2, 2)), Release: strings.Clone(s.Component(2, 3)),
		Agency: strings.Clone(s.Component(2, 4)), Association: strings.Clone(s.Component(2, 5))}
	env.MessageControl = mr.Reference
	env.Version = mr.Version + mr.Release
	env.Association = mr.Association
	if d.grp != nil {
		env.GroupControl, env.FunctionalID = d.grp.Control, d.grp.FunctionalID
		env.GroupSender, env.GroupReceiver = d.grp.SenderID, d.grp.RecipientID
	}
	mark := byte('.')
	if d.ic != nil {
		mark = d.ic.Separators.Decimal
	} else {
		mark = d.separators().Decimal
	}
	if d.cfg.reuse && d.prev != nil && !closed { // (the message just closed is not returned yet)
		segs := d.prev.Segments[:0]
		*d.prev = Message{Message: edi.Message{Standard: edi.EDIFACT, Type: mr.Type, Envelope: env, DecimalMark: mark, Segments: segs}}
		d.msg = d.prev
	} else if n := len(d.free); n > 0 {
		m := d.free[n-1]
		d.free[n-1] = nil
		d.free = d.free[:n-1]
		*m = Message{Message: edi.Message{Standard: edi.EDIFACT, Type: mr.Type, Envelope: env, DecimalMark: mark, Segments: m.Segments[:0]}}
		d.msg = m
	} else {
		d.msg = &Message{Message: edi.Message{Standard: edi.EDIFACT, Type: mr.Type, Envelope: env, DecimalMark: mark,
			Segments: make([]edi.Segment, 0, 32)}}
	}
	d.msgRep = mr
	d.msgN = 1
	appendSegment(d.msg, s)
	if problem != nil {
		d.msgError(problem)
	}
	for _, e := range validateSegment(s, segUNH, '.', d.cfg.limits.MaxErrorsPerMessage) {
		d.msgError(e)
	}
	if d.ic != nil {
		if mr.Reference != "" && d.refs[mr.Reference] {
			d.msgError(envErr(s.Pos, "UNH", 1, 0, CodeDuplicate, "message reference %q used twice in interchange %s", mr.Reference, d.ic.Control))
		}
		if len(d.refs) < d.cfg.limits.MaxReportMessages {
			d.refs[mr.Reference] = true
		}
		d.icCount += btoi(!d.icGroups)
	}
	if d.grp != nil {
		d.grpCount++
	}
	d.st, d.def = nil, nil
	if d.cfg.dictionary {
		if def := Lookup(mr.Type, env.Version); def != nil {
			d.stMem.reset(def)
			d.def, d.st = def, &d.stMem
		}
	}
}

// appendSegment appends a copy of *s to m's segments, into the spare
// capacity without append's copy of the whole list when there is room.
func appendSegment(m *Message, s *edi.Segment) {
	n := len(m.Segments)
	if n == cap(m.Segments) {
		m.Segments = append(m.Segments, *s)
		return
	}
	m.Segments = m.Segments[:n+1]
	dst := &m.Segments[n]
	*dst = *s
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// closeMessage ends a message that has no UNT.
func (d *Decoder) closeMessage() {
	if d.msg == nil {
		return
	}
	d.msgError(envErr(d.nextPos(), "UNT", 0, 0, CodeMissing, "message %s has no UNT trailer", d.msgRep.Reference))
	d.finishMessage()
}

func (d *Decoder) closeMessageWith(s *edi.Segment) {
	for _, e := range validateSegment(s, segUNT, '.', d.cfg.limits.MaxErrorsPerMessage) {
		d.msgError(e)
	}
	if n := s.Value(1); n != "" && n != strconv.Itoa(d.msgN) {
		d.msgError(envErr(s.Pos, "UNT", 1, 0, CodeCountMismatch, "UNT counts %s segments, the message has %d", n, d.msgN))
	}
	if ref := s.Value(2); ref != "" && ref != d.msgRep.Reference {
		d.msgError(envErr(s.Pos, "UNT", 2, 0, CodeReferencesMismatch, "UNT reference %q does not match UNH reference %q", ref, d.msgRep.Reference))
	}
	if d.st != nil {
		errs, _ := d.st.step(s)
		for _, e := range errs {
			d.msgError(e)
		}
	}
	d.finishMessage()
}

func (d *Decoder) finishMessage() {
	m, mr := d.msg, d.msgRep
	d.msg, d.msgRep, d.st, d.def = nil, nil, nil, nil
	if len(m.Segments) > d.cfg.limits.MaxMessageSegments {
		m.Segments = m.Segments[:d.cfg.limits.MaxMessageSegments]
	}
	rejectedEnv := d.bare || (d.ic != nil && d.ic.Rejected) || (d.grp != nil && d.grp.Rejected)
	if rejectedEnv && len(m.Errors) < d.cfg.limits.MaxErrorsPerMessage+1 {
		e := &SyntaxError{Offset: mr.Pos.Offset, Segment: mr.Pos.Index, InMessage: 1, Tag: "UNH", Code: CodeNone,
			Err: fmt.Errorf("%w: %s", ErrInterchangeRejected, d.envelopeReason())}
		m.Errors = append(m.Errors, e)
	}
	m.Accepted = len(m.Errors) == 0
	mr.Accepted = m.Accepted
	d.rep.Messages++
	if !m.Accepted {
		d.rep.Rejected++
	}
	if d.ic != nil {
		switch {
		case mr.Accepted && d.listed >= d.cfg.limits.MaxReportMessages:
			if d.grp != nil {
				d.grp.Omitted++
			} else {
				d.ic.Omitted++
			}
		case d.grp != nil:
			d.grp.Messages = append(d.grp.Messages, mr)
			d.listed++
		default:
			d.ic.Messages = append(d.ic.Messages, mr)
			d.listed++
		}
	}
	switch {
	case d.ra != nil:
		m.blocks, d.pending = d.pending, arenaBlocks{}
		if d.cfg.reuse {
			d.prev = m
		}
	case d.cfg.reuse:
		d.prev = m
	default:
		m.blocks = d.arena.detach()
	}
	d.emit(m)
}

func (d *Decoder) envelopeReason() string {
	var errs []*SyntaxError
	switch {
	case d.bare:
		return "no interchange header"
	case d.ic.Rejected:
		errs = d.ic.Errors
	default:
		errs = d.grp.Errors
	}
	if len(errs) > 0 {
		return errs[0].Error()
	}
	return "header rejected"
}

func (d *Decoder) finish() {
	if d.ic != nil {
		d.closeInterchange(true)
	} else {
		d.closeMessage()
	}
	if len(d.rep.Interchanges) == 0 && len(d.rep.Errors) == 0 && d.rep.Messages == 0 {
		d.fileError(envErr(edi.Position{Index: 1}, "UNB", 0, 0, CodeMissing, "no interchange in the input"))
	}
}

// arena holds the cloned segments of messages in large shared blocks:
// their values and the index lists of their flat form.
type arena struct {
	strs []string
	ints []int32
	// own (without WithMessageReuse) records the blocks made since the
	// last detach, for the message that detach gives them to, and takes
	// blocks from pool, the blocks of messages handed back.
	own   bool
	taken arenaBlocks
	pool  arenaBlocks
	// grouped (the reading goroutine of a Decoder reading ahead): the
	// reader closes a group of blocks before each service segment that
	// can end a message and after each UNT (boundary), and hands the
	// groups closed so far over with each segment (takeClosed); the
	// decoder gives a finished message the groups handed over until
	// then, and the blocks come back through shared once the message is
	// released.
	grouped bool
	closed  arenaBlocks
	shared  *blockPool
	// size is the length of a block (0: arenaBlock).
	size int
}

// blockPool holds blocks handed back from the decoder's goroutine to the
// reading goroutine.
type blockPool struct {
	mu sync.Mutex
	b  arenaBlocks
}

// put adds blocks no message uses any more; at most maxPooled of each
// kind are kept.
func (p *blockPool) put(b arenaBlocks) {
	if len(b.strs) == 0 && len(b.ints) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b.keep(b, maxShared)
}

// groupedBlock is the block length of a reading goroutine's arena: a
// message starts a block of its own, and an ORDERS message of ten lines
// has about 150 values. maxShared is how many of them are kept for
// reuse (2.3 MiB), enough for the messages in flight of a pipeline.
const (
	groupedBlock = 512
	maxShared    = 256
)

// boundary closes the group of blocks taken since the last boundary:
// the next take starts a new block.
func (a *arena) boundary() {
	if len(a.taken.strs) == 0 && len(a.taken.ints) == 0 {
		a.strs, a.ints = nil, nil
		return
	}
	a.closed.strs = append(a.closed.strs, a.taken.strs...)
	a.closed.ints = append(a.closed.ints, a.taken.ints...)
	clear(a.taken.strs)
	clear(a.taken.ints)
	a.taken.strs, a.taken.ints = a.taken.strs[:0], a.taken.ints[:0]
	a.strs, a.ints = nil, nil
}

// takeClosed returns the groups closed since the last call.
func (a *arena) takeClosed() arenaBlocks {
	b := a.closed
	a.closed = arenaBlocks{}
	return b
}

// refill moves the blocks handed back through shared into the pool.
func (a *arena) refill() {
	if a.shared == nil {
		return
	}
	a.shared.mu.Lock()
	defer a.shared.mu.Unlock()
	a.pool.strs = append(a.pool.strs, a.shared.b.strs...)
	a.pool.ints = append(a.pool.ints, a.shared.b.ints...)
	clear(a.shared.b.strs)
	clear(a.shared.b.ints)
	a.shared.b.strs, a.shared.b.ints = a.shared.b.strs[:0], a.shared.b.ints[:0]
}

// arenaBlocks are blocks of an arena: a message's, or the pool.
type arenaBlocks struct {
	strs [][]string
	ints [][]int32
}

// detach returns the blocks made since the last detach and makes the
// next take start new blocks: the returned ones are not written again
// unless given back (recycle).
func (a *arena) detach() arenaBlocks {
	b := a.taken
	a.taken = arenaBlocks{}
	a.strs, a.ints = nil, nil
	return b
}

// recycle gives back blocks returned by detach whose segments are no
// longer used; at most maxPooled of each kind are kept.
func (a *arena) recycle(b arenaBlocks) { a.pool.keep(b, maxPooled) }

// keep adds b's blocks, emptied, to p until p holds most of each kind.
func (p *arenaBlocks) keep(b arenaBlocks, most int) {
	for _, s := range b.strs {
		if len(p.strs) < most {
			p.strs = append(p.strs, s[:0])
		}
	}
	for _, s := range b.ints {
		if len(p.ints) < most {
			p.ints = append(p.ints, s[:0])
		}
	}
}

// maxPooled is how many blocks of each kind an arena keeps for reuse
// (2.5 MiB).
const maxPooled = 32

// reset makes the current blocks reusable (WithMessageReuse: the previous
// message is no longer referenced). The slots are not cleared: the next
// message overwrites them, and clearing costs write barriers while the
// GC marks; until then they keep at most one block of old segment strings
// reachable.
func (a *arena) reset() {
	a.strs, a.ints = a.strs[:0], a.ints[:0]
}

const arenaBlock = 4096

// take returns fresh slices of the given lengths from the blocks.
func (a *arena) take(nStrs, nInts int) ([]string, []int32) {
	bs := a.size
	if bs == 0 {
		bs = arenaBlock
	}
	if cap(a.strs)-len(a.strs) < nStrs {
		if len(a.pool.strs) == 0 {
			a.refill()
		}
		if n := len(a.pool.strs); n > 0 && nStrs <= bs {
			a.strs = a.pool.strs[n-1]
			a.pool.strs[n-1] = nil
			a.pool.strs = a.pool.strs[:n-1]
		} else {
			a.strs = make([]string, 0, max(bs, nStrs))
		}
		if a.own && cap(a.strs) == bs {
			a.taken.strs = append(a.taken.strs, a.strs)
		}
	}
	if cap(a.ints)-len(a.ints) < nInts {
		if len(a.pool.ints) == 0 {
			a.refill()
		}
		if n := len(a.pool.ints); n > 0 && nInts <= bs {
			a.ints = a.pool.ints[n-1]
			a.pool.ints[n-1] = nil
			a.pool.ints = a.pool.ints[:n-1]
		} else {
			a.ints = make([]int32, 0, max(bs, nInts))
		}
		if a.own && cap(a.ints) == bs {
			a.taken.ints = append(a.taken.ints, a.ints)
		}
	}
	s, i := len(a.strs), len(a.ints)
	a.strs, a.ints = a.strs[:s+nStrs], a.ints[:i+nInts]
	return a.strs[s : s+nStrs : s+nStrs], a.ints[i : i+nInts : i+nInts]
}
