package edifact

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/edi"
)

// ControlKind says which control reference is asked for.
type ControlKind int

// The kinds of control references.
const (
	ControlInterchange ControlKind = iota // UNB/UNZ 0020
	ControlGroup                          // UNG/UNE 0048
	ControlMessage                        // UNH/UNT 0062
)

// ControlNumbers hands out the next control reference of a kind. The store
// implements it per partner so references survive restarts; Counter is the
// in-memory one for the command line and tests.
type ControlNumbers interface {
	NextControl(ctx context.Context, kind ControlKind) (int64, error)
}

// Counter is an in-memory ControlNumbers: each kind counts up from its
// start. It is safe for concurrent use.
type Counter struct {
	mu   sync.Mutex
	next [3]int64
}

// NewCounter returns a Counter whose first number of every kind is start
// (1 when start < 1).
func NewCounter(start int64) *Counter {
	start = max(start, 1)
	return &Counter{next: [3]int64{start, start, start}}
}

// NextControl returns the next number of kind.
func (c *Counter) NextControl(ctx context.Context, kind ControlKind) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if kind < 0 || int(kind) >= len(c.next) {
		return 0, fmt.Errorf("unknown control reference kind %d", kind)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.next[kind]
	c.next[kind]++
	if c.next[kind] > 99999999999999 {
		c.next[kind] = 1
	}
	return n, nil
}

// ErrWrite is the class of the Writer's errors: an envelope out of order,
// a value the syntax level cannot carry (also ErrUnrepresentable).
var ErrWrite = errors.New("cannot write EDIFACT")

// InterchangeHeader is what the Writer puts in a UNB.
type InterchangeHeader struct {
	SyntaxID      string // S001 0001, e.g. "UNOC"; "" is "UNOC"
	SyntaxVersion string // S001 0002, "1".."4"; "" is "3"
	SenderID      string // S002 0004
	SenderQual    string // S002 0007
	RecipientID   string // S003 0010
	RecipQual     string // S003 0007
	// Time gives S004 (YYMMDD, or CCYYMMDD in syntax 4, and HHMM); the
	// zero Time is an error.
	Time time.Time
	// Control is 0020; "" takes the next interchange reference from the
	// ControlNumbers.
	Control        string
	ApplicationRef string // 0026
	AckRequested   bool   // 0031 = 1
	Test           bool   // 0035 = 1
}

// GroupHeader is what the Writer puts in a UNG.
type GroupHeader struct {
	FunctionalID string // 0038, e.g. "ORDRSP"
	SenderID     string // S006 0040
	SenderQual   string
	RecipientID  string // S007 0044
	RecipQual    string
	Time         time.Time
	Control      string // 0048; "" takes the next group reference
	Agency       string // 0051, "UN"
	Version      string // S008 0052
	Release      string // S008 0054
}

// MessageID is a UNH S009 message identifier.
type MessageID struct {
	Type        string // 0065, e.g. "ORDRSP"
	Version     string // 0052, e.g. "D"
	Release     string // 0054, e.g. "96A"
	Agency      string // 0051, e.g. "UN"
	Association string // 0057, e.g. "EAN008"; optional
}

func (id MessageID) components() []string {
	c := []string{id.Type, id.Version, id.Release, id.Agency}
	if id.Association != "" {
		c = append(c, id.Association)
	}
	return c
}

// Writer writes EDIFACT interchanges with a partner's separators and
// syntax level: it writes the UNA when the separators are not the
// defaults (or always, with WithUNA), escapes values with the release
// character, encodes UTF-8 values in the interchange's character set and
// computes the UNT, UNE and UNZ counts. Control references come from a
// ControlNumbers.
type Writer struct {
	w        *bufio.Writer
	s        Separators
	ctrl     ControlNumbers
	alwaysUN bool
	newline  bool
	cs       *charset
	buf      []byte
	err      error

	inIC, inGroup, inMsg  bool
	icRef, grpRef, msgRef string
	icCount, grpCount     int
	msgSegs               int
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithControlNumbers sets the source of control references (default: a
// Counter starting at 1).
func WithControlNumbers(c ControlNumbers) WriterOption { return func(w *Writer) { w.ctrl = c } }

// WithUNA makes the Writer write a UNA even for default separators.
func WithUNA() WriterOption { return func(w *Writer) { w.alwaysUN = true } }

// WithLineBreaks writes a line break after each segment terminator, a
// formatting every reader ignores.
func WithLineBreaks() WriterOption { return func(w *Writer) { w.newline = true } }

// NewWriter returns a Writer with the separators s.
func NewWriter(w io.Writer, s Separators, opts ...WriterOption) *Writer {
	wr := &Writer{w: bufio.NewWriter(w), s: s, cs: charsets["UNOC"]}
	for _, o := range opts {
		o(wr)
	}
	if wr.ctrl == nil {
		wr.ctrl = NewCounter(1)
	}
	if err := s.Validate(); err != nil {
		wr.err = fmt.Errorf("%w: %v", ErrWrite, err)
	}
	return wr
}

// Separators returns the Writer's separators.
func (w *Writer) Separators() Separators { return w.s }

func (w *Writer) fail(format string, args ...any) error {
	if w.err == nil {
		w.err = fmt.Errorf("%w: %s", ErrWrite, fmt.Sprintf(format, args...))
	}
	return w.err
}

// Segment writes one segment of simple elements; a composite element is
// written with its components joined by the component separator, so use
// WriteSegment for values that may contain it.
func (w *Writer) Segment(tag string, elements ...string) error {
	s := edi.Segment{Tag: tag}
	s.SetFlat(elements, nil, nil)
	return w.WriteSegment(&s)
}

// SegmentElements writes a segment whose elements are given as their
// components.
func (w *Writer) SegmentElements(tag string, elements ...[]string) error {
	els := make([]edi.Element, len(elements))
	for i, e := range elements {
		els[i] = edi.Element{e}
	}
	s := edi.NewSegment(tag, els...)
	return w.WriteSegment(&s)
}

// WriteSegment writes s, trailing empty elements and components dropped.
// Inside a message it counts toward the UNT.
func (w *Writer) WriteSegment(s *edi.Segment) error {
	if w.err != nil {
		return w.err
	}
	if !validTag([]byte(s.Tag)) {
		return w.fail("segment tag %q", s.Tag)
	}
	b := append(w.buf[:0], s.Tag...)
	n := s.Len()
	for n > 0 && s.Empty(n) {
		n--
	}
	for i := range n {
		b = append(b, w.s.Element)
		nr := s.RepetitionCount(i + 1)
		if nr > 1 && w.s.Repetition == 0 {
			return w.fail("%s element %d repeats, the syntax has no repetition separator", s.Tag, i+1)
		}
		for j := range nr {
			if j > 0 {
				b = append(b, w.s.Repetition)
			}
			rep := s.Repetition(i+1, j+1)
			n := len(rep)
			for n > 0 && rep[n-1] == "" {
				n--
			}
			for k, v := range rep[:n] {
				if k > 0 {
					b = append(b, w.s.Component)
				}
				var err error
				if b, err = w.appendValue(b, v); err != nil {
					w.err = fmt.Errorf("%w: %s element %d component %d: %w", ErrWrite, s.Tag, i+1, k+1, err)
					return w.err
				}
			}
		}
	}
	b = append(b, w.s.Terminator)
	if w.newline {
		b = append(b, '\n')
	}
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("writing EDIFACT: %w", err)
		return w.err
	}
	if w.inMsg {
		w.msgSegs++
	}
	return nil
}

func (w *Writer) isService(c byte) bool {
	return c == w.s.Component || c == w.s.Element || c == w.s.Terminator ||
		(w.s.Release != 0 && c == w.s.Release) || (w.s.Repetition != 0 && c == w.s.Repetition)
}

// appendValue escapes and encodes one value.
func (w *Writer) appendValue(b []byte, v string) ([]byte, error) {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			i++
			if w.isService(c) {
				if w.s.Release == 0 {
					return b, fmt.Errorf("value %q holds service character %q and the interchange has no release character", v, c)
				}
				b = append(b, w.s.Release, c)
				continue
			}
			if c == '\r' || c == '\n' {
				return b, fmt.Errorf("value %q holds a line break: %w", v, ErrUnrepresentable)
			}
			var ok bool
			if b, ok = w.cs.encodeRune(b, rune(c)); !ok {
				return b, fmt.Errorf("character %q in %s: %w", c, w.cs.id, ErrUnrepresentable)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			return b, fmt.Errorf("value %q is not valid UTF-8: %w", v, ErrUnrepresentable)
		}
		i += n
		var ok bool
		if b, ok = w.cs.encodeRune(b, r); !ok {
			return b, fmt.Errorf("character %q in %s: %w", r, w.cs.id, ErrUnrepresentable)
		}
	}
	return b, nil
}

func (w *Writer) next(ctx context.Context, kind ControlKind, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	n, err := w.ctrl.NextControl(ctx, kind)
	if err != nil {
		w.err = fmt.Errorf("getting control reference: %w", err)
		return "", w.err
	}
	return strconv.FormatInt(n, 10), nil
}

// BeginInterchange writes the UNA (when needed) and the UNB.
func (w *Writer) BeginInterchange(ctx context.Context, h InterchangeHeader) error {
	if w.err != nil {
		return w.err
	}
	if w.inIC {
		return w.fail("interchange begun inside an interchange")
	}
	if h.SyntaxID == "" {
		h.SyntaxID = "UNOC"
	}
	if h.SyntaxVersion == "" {
		h.SyntaxVersion = "3"
	}
	cs, ok := lookupCharset(h.SyntaxID)
	if !ok {
		return w.fail("syntax identifier %q not supported", h.SyntaxID)
	}
	if h.SyntaxVersion < "1" || h.SyntaxVersion > "4" || len(h.SyntaxVersion) != 1 {
		return w.fail("syntax version %q not supported", h.SyntaxVersion)
	}
	if h.Time.IsZero() {
		return w.fail("interchange without a time")
	}
	if w.s.Repetition != 0 && h.SyntaxVersion != "4" {
		return w.fail("repetition separator %q needs syntax version 4", w.s.Repetition)
	}
	ref, err := w.next(ctx, ControlInterchange, h.Control)
	if err != nil {
		return err
	}
	w.cs = cs
	if w.alwaysUN || w.s != defaultsFor(h.SyntaxVersion) {
		una := w.s.UNA()
		if _, err := w.w.WriteString(una); err != nil {
			w.err = fmt.Errorf("writing EDIFACT: %w", err)
			return w.err
		}
		if w.newline {
			w.w.WriteByte('\n')
		}
	}
	date := h.Time.Format("060102")
	if h.SyntaxVersion == "4" {
		date = h.Time.Format("20060102")
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	w.inIC, w.icRef, w.icCount = true, ref, 0
	return w.SegmentElements("UNB", []string{h.SyntaxID, h.SyntaxVersion}, []string{h.SenderID, h.SenderQual},
		[]string{h.RecipientID, h.RecipQual}, []string{date, h.Time.Format("1504")}, []string{ref}, nil,
		[]string{h.ApplicationRef}, nil, []string{flag(h.AckRequested)}, nil, []string{flag(h.Test)})
}

// EndInterchange writes the UNZ with the count of messages (or groups)
// and flushes.
func (w *Writer) EndInterchange() error {
	if w.err != nil {
		return w.err
	}
	if !w.inIC || w.inGroup || w.inMsg {
		return w.fail("interchange ended out of order")
	}
	w.inIC = false
	if err := w.Segment("UNZ", strconv.Itoa(w.icCount), w.icRef); err != nil {
		return err
	}
	return w.Flush()
}

// BeginGroup writes a UNG.
func (w *Writer) BeginGroup(ctx context.Context, g GroupHeader) error {
	if w.err != nil {
		return w.err
	}
	if !w.inIC || w.inGroup || w.inMsg {
		return w.fail("group begun out of order")
	}
	if g.Time.IsZero() {
		return w.fail("group without a time")
	}
	ref, err := w.next(ctx, ControlGroup, g.Control)
	if err != nil {
		return err
	}
	w.inGroup, w.grpRef, w.grpCount = true, ref, 0
	w.icCount++
	return w.SegmentElements("UNG", []string{g.FunctionalID}, []string{g.SenderID, g.SenderQual}, []string{g.RecipientID, g.RecipQual},
		[]string{g.Time.Format("060102"), g.Time.Format("1504")}, []string{ref}, []string{g.Agency}, []string{g.Version, g.Release})
}

// EndGroup writes the UNE.
func (w *Writer) EndGroup() error {
	if w.err != nil {
		return w.err
	}
	if !w.inGroup || w.inMsg {
		return w.fail("group ended out of order")
	}
	w.inGroup = false
	return w.Segment("UNE", strconv.Itoa(w.grpCount), w.grpRef)
}

// BeginMessage writes a UNH and returns its reference (0062).
func (w *Writer) BeginMessage(ctx context.Context, id MessageID) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if !w.inIC || w.inMsg {
		return "", w.fail("message begun out of order")
	}
	ref, err := w.next(ctx, ControlMessage, "")
	if err != nil {
		return "", err
	}
	w.inMsg, w.msgRef, w.msgSegs = true, ref, 0
	if w.inGroup {
		w.grpCount++
	} else {
		w.icCount++
	}
	return ref, w.SegmentElements("UNH", []string{ref}, id.components())
}

// EndMessage writes the UNT with the message's segment count.
func (w *Writer) EndMessage() error {
	if w.err != nil {
		return w.err
	}
	if !w.inMsg {
		return w.fail("message ended out of order")
	}
	n := w.msgSegs + 1
	if err := w.Segment("UNT", strconv.Itoa(n), w.msgRef); err != nil {
		return err
	}
	w.inMsg = false
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = fmt.Errorf("writing EDIFACT: %w", err)
	}
	return w.err
}
