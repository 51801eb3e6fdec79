package x12

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/edi"
)

// ControlKind says which control number is asked for.
type ControlKind int

// The kinds of control numbers.
const (
	ControlInterchange ControlKind = iota // ISA13/IEA02, 9 digits
	ControlGroup                          // GS06/GE02, 1 to 9 digits
	ControlSet                            // ST02/SE02, 4 to 9 characters
)

// ControlNumbers hands out the next control number of a kind. The store
// implements it per partner so control numbers survive restarts; Counter
// is the in-memory one for the command line and tests.
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
		return 0, fmt.Errorf("unknown control number kind %d", kind)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next[kind] < 1 {
		c.next[kind] = 1
	}
	n := c.next[kind]
	c.next[kind]++
	if c.next[kind] > 999999999 {
		c.next[kind] = 1
	}
	return n, nil
}

// ErrWrite is the class of the Writer's errors: a value that contains a
// separator, a field too long for the ISA, an envelope out of order.
var ErrWrite = errors.New("cannot write X12")

// InterchangeHeader is what the Writer puts in an ISA.
type InterchangeHeader struct {
	SenderQualifier   string // ISA05
	SenderID          string // ISA06, padded to 15
	ReceiverQualifier string // ISA07
	ReceiverID        string // ISA08, padded to 15
	// Time gives ISA09/ISA10; the zero Time is an error.
	Time time.Time
	// Version is ISA12; "" means "00401".
	Version string
	// Control is ISA13; 0 means the next ControlInterchange number.
	Control      int64
	AckRequested bool // ISA14
	Test         bool // ISA15 T
	// Authorization and security (ISA01..04); empty means "00" and
	// blanks.
	AuthQualifier, AuthInfo, SecurityQualifier, SecurityInfo string
}

// GroupHeader is what the Writer puts in a GS.
type GroupHeader struct {
	FunctionalID string // GS01, e.g. "FA", "PR"
	SenderCode   string // GS02
	ReceiverCode string // GS03
	Time         time.Time
	// Control is GS06; 0 means the next ControlGroup number.
	Control int64
	Version string // GS08, e.g. "004010"
}

// Writer writes X12 interchanges with the given delimiters: envelopes
// with control numbers and the counts of SE01, GE01 and IEA01 computed,
// ISA fields padded, and any value refused that contains a separator or a
// line break (which readers drop).
type Writer struct {
	w        *bufio.Writer
	d        Delimiters
	controls ControlNumbers
	err      error

	inIC, inGroup, inSet bool
	icControl            string
	grpControl           string
	setControl           string
	groups, sets, segs   int
	buf                  []byte
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithControlNumbers sets where the Writer takes control numbers from
// (default: a Counter starting at 1).
func WithControlNumbers(c ControlNumbers) WriterOption {
	return func(w *Writer) {
		if c != nil {
			w.controls = c
		}
	}
}

// NewWriter returns a Writer to w using the delimiters d. Invalid
// delimiters make every write fail.
func NewWriter(w io.Writer, d Delimiters, opts ...WriterOption) *Writer {
	wr := &Writer{w: bufio.NewWriter(w), d: d, controls: NewCounter(1)}
	for _, o := range opts {
		o(wr)
	}
	if err := d.Validate(); err != nil {
		wr.err = fmt.Errorf("%w: %v", ErrWrite, err)
	}
	return wr
}

// Delimiters returns the writer's delimiters.
func (w *Writer) Delimiters() Delimiters { return w.d }

func (w *Writer) fail(format string, args ...any) error {
	w.err = fmt.Errorf("%w: %s", ErrWrite, fmt.Sprintf(format, args...))
	return w.err
}

// checkValue refuses a value a reader would not give back.
func (w *Writer) checkValue(tag string, pos int, v string) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == w.d.Element || c == w.d.Component || w.d.Repetition != 0 && c == w.d.Repetition || c == '\r' || c == '\n' {
			return w.fail("%s%02d %s contains the separator or line break %q", tag, pos, quote(v), c)
		}
	}
	if strings.Contains(v, w.d.Segment) {
		return w.fail("%s%02d %s contains the segment terminator %q", tag, pos, quote(v), w.d.Segment)
	}
	return nil
}

// WriteSegment writes one segment as it is, counting it when inside a
// transaction set. An ISA written this way must carry the writer's
// component separator in ISA16 (and its repetition separator or "U" in
// ISA11); the envelope methods are the usual way to write envelopes.
func (w *Writer) WriteSegment(s *edi.Segment) error {
	if w.err != nil {
		return w.err
	}
	if !validTag(s.Tag) {
		return w.fail("segment tag %s is not 2 or 3 letters and digits", quote(s.Tag))
	}
	w.buf = append(w.buf[:0], s.Tag...)
	for i := range s.Len() {
		w.buf = append(w.buf, w.d.Element)
		if s.Tag == "ISA" && (i == 10 || i == 15) {
			v := s.Value(i + 1)
			if i == 15 && v != string([]byte{w.d.Component}) {
				return w.fail("ISA16 %s is not the writer's component separator %q", quote(v), w.d.Component)
			}
			if i == 10 && v != "U" && (w.d.Repetition == 0 || v != string([]byte{w.d.Repetition})) {
				return w.fail("ISA11 %s is neither U nor the writer's repetition separator", quote(v))
			}
			w.buf = append(w.buf, v...)
			continue
		}
		nr := s.RepetitionCount(i + 1)
		if nr > 1 && w.d.Repetition == 0 {
			return w.fail("%s%02d repeats but the writer has no repetition separator", s.Tag, i+1)
		}
		for j := range nr {
			if j > 0 {
				w.buf = append(w.buf, w.d.Repetition)
			}
			for k, c := range s.Repetition(i+1, j+1) {
				if k > 0 {
					w.buf = append(w.buf, w.d.Component)
				}
				if err := w.checkValue(s.Tag, i+1, c); err != nil {
					return err
				}
				w.buf = append(w.buf, c...)
			}
		}
	}
	w.buf = append(w.buf, w.d.Segment...)
	w.buf = append(w.buf, w.d.Suffix...)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("writing X12: %w", err)
		return w.err
	}
	if w.inSet {
		w.segs++
	}
	return nil
}

// Segment writes a segment of simple elements; trailing empty elements
// are dropped.
func (w *Writer) Segment(tag string, elements ...string) error {
	for len(elements) > 0 && elements[len(elements)-1] == "" {
		elements = elements[:len(elements)-1]
	}
	s := edi.Segment{Tag: tag}
	s.SetFlat(elements, nil, nil)
	return w.WriteSegment(&s)
}

// SegmentElements writes a segment whose elements may be composites:
// each element is a list of components; trailing empty elements are
// dropped.
func (w *Writer) SegmentElements(tag string, elements ...[]string) error {
	for len(elements) > 0 && strings.Join(elements[len(elements)-1], "") == "" {
		elements = elements[:len(elements)-1]
	}
	els := make([]edi.Element, len(elements))
	for i, comps := range elements {
		for len(comps) > 1 && comps[len(comps)-1] == "" {
			comps = comps[:len(comps)-1]
		}
		els[i] = edi.Element{comps}
	}
	s := edi.NewSegment(tag, els...)
	return w.WriteSegment(&s)
}

func padRight(v string, n int) (string, bool) {
	l := utf8.RuneCountInString(v)
	if l > n {
		return v, false
	}
	return v + strings.Repeat(" ", n-l), true
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// BeginInterchange writes an ISA.
func (w *Writer) BeginInterchange(ctx context.Context, h InterchangeHeader) error {
	if w.err != nil {
		return w.err
	}
	if w.inIC {
		return w.fail("an interchange is already open")
	}
	if h.Time.IsZero() {
		return w.fail("the interchange has no time")
	}
	ctl := h.Control
	if ctl == 0 {
		n, err := w.controls.NextControl(ctx, ControlInterchange)
		if err != nil {
			w.err = fmt.Errorf("getting the interchange control number: %w", err)
			return w.err
		}
		ctl = n
	}
	if ctl < 1 || ctl > 999999999 {
		return w.fail("interchange control number %d is not 1 to 999999999", ctl)
	}
	version := or(h.Version, "00401")
	if len(version) != 5 || !allDigits(version) {
		return w.fail("ISA12 %s is not a version like 00401", quote(version))
	}
	isa11 := "U"
	if version >= "00402" && w.d.Repetition != 0 {
		isa11 = string([]byte{w.d.Repetition})
	}
	fields := []struct {
		v    string
		n    int
		name string
	}{
		{or(h.AuthQualifier, "00"), 2, "ISA01"}, {h.AuthInfo, 10, "ISA02"},
		{or(h.SecurityQualifier, "00"), 2, "ISA03"}, {h.SecurityInfo, 10, "ISA04"},
		{h.SenderQualifier, 2, "ISA05"}, {h.SenderID, 15, "ISA06"},
		{h.ReceiverQualifier, 2, "ISA07"}, {h.ReceiverID, 15, "ISA08"},
	}
	vals := make([]string, 0, 16)
	for _, f := range fields {
		v, ok := padRight(f.v, f.n)
		if !ok {
			return w.fail("%s %s is longer than %d characters", f.name, quote(f.v), f.n)
		}
		vals = append(vals, v)
	}
	if strings.TrimSpace(h.SenderID) == "" || strings.TrimSpace(h.ReceiverID) == "" {
		return w.fail("the interchange needs a sender and a receiver ID")
	}
	ack, usage := "0", "P"
	if h.AckRequested {
		ack = "1"
	}
	if h.Test {
		usage = "T"
	}
	w.icControl = fmt.Sprintf("%09d", ctl)
	vals = append(vals, h.Time.Format("060102"), h.Time.Format("1504"), isa11, version, w.icControl, ack, usage, string([]byte{w.d.Component}))
	if err := w.Segment("ISA", vals...); err != nil {
		return err
	}
	w.inIC, w.groups = true, 0
	return nil
}

// EndInterchange writes the IEA with the number of groups written.
func (w *Writer) EndInterchange() error {
	if w.err != nil {
		return w.err
	}
	if !w.inIC || w.inGroup {
		return w.fail("no interchange to end, or a group is still open")
	}
	if err := w.Segment("IEA", fmt.Sprint(w.groups), w.icControl); err != nil {
		return err
	}
	w.inIC = false
	return nil
}

// BeginGroup writes a GS.
func (w *Writer) BeginGroup(ctx context.Context, g GroupHeader) error {
	if w.err != nil {
		return w.err
	}
	if !w.inIC || w.inGroup {
		return w.fail("a group needs an open interchange and no open group")
	}
	if g.Time.IsZero() {
		return w.fail("the group has no time")
	}
	ctl := g.Control
	if ctl == 0 {
		n, err := w.controls.NextControl(ctx, ControlGroup)
		if err != nil {
			w.err = fmt.Errorf("getting the group control number: %w", err)
			return w.err
		}
		ctl = n
	}
	if ctl < 1 || ctl > 999999999 {
		return w.fail("group control number %d is not 1 to 999999999", ctl)
	}
	w.grpControl = fmt.Sprint(ctl)
	if err := w.Segment("GS", g.FunctionalID, g.SenderCode, g.ReceiverCode, g.Time.Format("20060102"), g.Time.Format("1504"),
		w.grpControl, "X", g.Version); err != nil {
		return err
	}
	w.inGroup, w.sets = true, 0
	w.groups++
	return nil
}

// EndGroup writes the GE with the number of sets written.
func (w *Writer) EndGroup() error {
	if w.err != nil {
		return w.err
	}
	if !w.inGroup || w.inSet {
		return w.fail("no group to end, or a set is still open")
	}
	if err := w.Segment("GE", fmt.Sprint(w.sets), w.grpControl); err != nil {
		return err
	}
	w.inGroup = false
	return nil
}

// BeginSet writes an ST for transaction set id (with ST03 convention when
// not empty) and returns the control number used.
func (w *Writer) BeginSet(ctx context.Context, id, convention string) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if !w.inGroup || w.inSet {
		return "", w.fail("a transaction set needs an open group and no open set")
	}
	n, err := w.controls.NextControl(ctx, ControlSet)
	if err != nil {
		w.err = fmt.Errorf("getting the transaction set control number: %w", err)
		return "", w.err
	}
	w.setControl = fmt.Sprintf("%04d", n)
	w.inSet, w.segs = true, 0
	if err := w.Segment("ST", id, w.setControl, convention); err != nil {
		return "", err
	}
	w.sets++
	return w.setControl, nil
}

// EndSet writes the SE with the number of segments from ST to SE.
func (w *Writer) EndSet() error {
	if w.err != nil {
		return w.err
	}
	if !w.inSet {
		return w.fail("no transaction set to end")
	}
	if err := w.Segment("SE", fmt.Sprint(w.segs+1), w.setControl); err != nil {
		return err
	}
	w.inSet = false
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.w.Flush(); err != nil && w.err == nil {
		w.err = fmt.Errorf("writing X12: %w", err)
	}
	return w.err
}
