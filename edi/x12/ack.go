package x12

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
)

// AckKind selects the functional acknowledgement written per group.
type AckKind int

// The functional acknowledgements.
const (
	Ack997 AckKind = iota // 997 functional acknowledgement (AK3/AK4/AK5)
	Ack999                // 999 implementation acknowledgement (IK3/IK4/IK5, CTX)
)

// AckOptions configures Acknowledge.
type AckOptions struct {
	Kind AckKind
	// Delimiters of the acknowledgement; nil uses each inbound
	// interchange's own, with a line break after each segment.
	Delimiters *Delimiters
	// Controls hands out the acknowledgement's control numbers; nil uses
	// a Counter starting at 1.
	Controls ControlNumbers
	// Now is the time written in ISA09/10 and GS04/05; nil uses time.Now.
	Now func() time.Time
	// Version is GS08 of the acknowledgement group; "" uses "004010" for
	// a 997 answering 4010 (and older) groups, "005010" for a 997
	// answering 5010 groups, and "005010X231A1" for a 999.
	Version string
	// Context bounds the calls to Controls; nil is context.Background.
	Context context.Context
}

// Acknowledge writes the acknowledgement interchanges for what rep says:
// per inbound interchange one outbound interchange, sender and receiver
// swapped, holding a TA1 when the interchange has errors or its ISA14
// asks for one, and one 997 (or 999) per functional group, grouped in one
// GS*FA per application sender/receiver pair. An interchange rejected at
// its ISA is answered by its TA1 alone. When no interchange header could
// be read, it returns ErrNothingToAcknowledge.
func Acknowledge(rep *Report, opts AckOptions) ([]byte, error) {
	if len(rep.Interchanges) == 0 {
		if rep.Err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNothingToAcknowledge, rep.Err)
		}
		return nil, fmt.Errorf("%w: the input has no interchange", ErrNothingToAcknowledge)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Controls == nil {
		opts.Controls = NewCounter(1)
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	var out bytes.Buffer
	for i := range rep.Interchanges {
		if err := ackInterchange(&out, &rep.Interchanges[i], opts); err != nil {
			return nil, fmt.Errorf("acknowledging interchange %s: %w", rep.Interchanges[i].Header.Control, err)
		}
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("%w: no interchange needs an answer", ErrNothingToAcknowledge)
	}
	return out.Bytes(), nil
}

// AcknowledgeReader decodes r to its end and acknowledges it.
func AcknowledgeReader(r io.Reader, opts AckOptions, decOpts ...Option) ([]byte, error) {
	d := NewDecoder(r, decOpts...)
	for {
		_, err := d.Next()
		if err != nil {
			break // io.EOF, or a fatal error kept in the report
		}
	}
	return Acknowledge(d.Report(), opts)
}

type ackBucket struct {
	sender, receiver, version string
	groups                    []*GroupReport
}

func ackInterchange(out *bytes.Buffer, ic *InterchangeReport, opts AckOptions) error {
	var buckets []*ackBucket
	if !ic.Rejected {
		for gi := range ic.Groups {
			g := &ic.Groups[gi]
			version := opts.Version
			if version == "" {
				switch {
				case opts.Kind == Ack999:
					version = "005010X231A1"
				case len(g.Version) >= 6 && g.Version[:6] >= "005010":
					version = "005010"
				default:
					version = "004010"
				}
			}
			var b *ackBucket
			for _, x := range buckets {
				if x.sender == g.ReceiverCode && x.receiver == g.SenderCode && x.version == version {
					b = x
				}
			}
			if b == nil {
				b = &ackBucket{sender: g.ReceiverCode, receiver: g.SenderCode, version: version}
				buckets = append(buckets, b)
			}
			b.groups = append(b.groups, g)
		}
	}
	if !ic.NeedsTA1() && len(buckets) == 0 {
		return nil
	}
	d := ic.Delimiters
	if n := ic.Note; d.Validate() != nil || n == TA1InvalidSegmentTerminator || n == TA1InvalidElementSeparator || n == TA1InvalidComponentSep {
		d = DefaultDelimiters // the partner's own separators are the problem
	}
	if opts.Delimiters != nil {
		d = *opts.Delimiters
	} else if d.Suffix == "" && !(len(d.Segment) == 1 && isLineBreak(d.Segment[0])) {
		d.Suffix = "\n"
	}
	now := opts.Now()
	w := NewWriter(out, d, WithControlNumbers(opts.Controls))
	ctx := opts.Context
	version := "00401"
	if opts.Kind == Ack999 {
		version = "00501"
	}
	h := ic.Header
	if err := w.BeginInterchange(ctx, InterchangeHeader{
		SenderQualifier: strings.TrimSpace(h.ReceiverQualifier), SenderID: strings.TrimSpace(h.ReceiverID),
		ReceiverQualifier: strings.TrimSpace(h.SenderQualifier), ReceiverID: strings.TrimSpace(h.SenderID),
		Time: now, Version: version, Test: h.Usage == "T",
	}); err != nil {
		return err
	}
	if ic.NeedsTA1() {
		if err := w.Segment("TA1", h.Control, h.Date, h.Time, ic.TA1Status().String(), ic.Note.Value()); err != nil {
			return err
		}
	}
	for _, b := range buckets {
		if err := w.BeginGroup(ctx, GroupHeader{FunctionalID: "FA", SenderCode: b.sender, ReceiverCode: b.receiver,
			Time: now, Version: b.version}); err != nil {
			return err
		}
		for _, g := range b.groups {
			if err := ackGroup(ctx, w, g, opts.Kind, b.version); err != nil {
				return err
			}
		}
		if err := w.EndGroup(); err != nil {
			return err
		}
	}
	if err := w.EndInterchange(); err != nil {
		return err
	}
	return w.Flush()
}

func codeValues(codes []Code, max int, kind AckKind) []string {
	var out []string
	for _, c := range codes {
		if len(out) == max {
			break
		}
		out = append(out, ackCodeValue(c, kind))
	}
	return out
}

// ackCodeValue maps a code to the value written: the 5010 element codes
// 12 and 13 (too many repetitions, components) become 6 (invalid
// character) in a 997, whose code list ends at 10.
func ackCodeValue(c Code, kind AckKind) string {
	if kind == Ack997 && c.Level == LevelElement && c.N > 10 {
		return "6"
	}
	return c.Value()
}

func ackGroup(ctx context.Context, w *Writer, g *GroupReport, kind AckKind, version string) error {
	id, k3, k4, k5 := "997", "AK3", "AK4", "AK5"
	convention := ""
	if kind == Ack999 {
		id, k3, k4, k5 = "999", "IK3", "IK4", "IK5"
		convention = version
	}
	v5 := version >= "005010"
	if _, err := w.BeginSet(ctx, id, convention); err != nil {
		return err
	}
	ak1 := []string{g.FunctionalID, g.Control}
	if v5 {
		ak1 = append(ak1, g.Version)
	}
	if err := w.Segment("AK1", ak1...); err != nil {
		return err
	}
	for si := range g.Sets {
		s := &g.Sets[si]
		ak2 := []string{s.ID, s.Control}
		if v5 {
			ak2 = append(ak2, s.Convention)
		}
		if err := w.Segment("AK2", ak2...); err != nil {
			return err
		}
		for _, se := range s.Segments {
			if err := w.Segment(k3, se.Tag, fmt.Sprint(se.Position), se.Loop, ackCodeValue(se.Code, kind)); err != nil {
				return err
			}
			if kind == Ack999 && se.Context[0] != "" && safeValue(w, se.Context[1]) {
				if err := w.SegmentElements("CTX", se.Context[:]); err != nil {
					return err
				}
			}
			for _, el := range se.Elements {
				pos := []string{fmt.Sprint(el.Position)}
				if el.Component > 0 || el.Repetition > 0 && v5 {
					pos = append(pos, "")
					if el.Component > 0 {
						pos[1] = fmt.Sprint(el.Component)
					}
				}
				if v5 && el.Repetition > 0 {
					pos = append(pos, fmt.Sprint(el.Repetition))
				}
				ref := ""
				if el.Ref > 0 {
					ref = fmt.Sprint(el.Ref)
				}
				value := el.Value
				if len([]rune(value)) > 99 {
					value = string([]rune(value)[:99])
				}
				if !safeValue(w, value) {
					value = ""
				}
				if err := w.SegmentElements(k4, pos, []string{ref}, []string{ackCodeValue(el.Code, kind)}, []string{value}); err != nil {
					return err
				}
			}
		}
		ak5 := append([]string{s.Status.String()}, codeValues(s.Codes, 5, kind)...)
		if err := w.Segment(k5, ak5...); err != nil {
			return err
		}
	}
	ak9 := append([]string{g.Status.String(), fmt.Sprint(g.Declared), fmt.Sprint(g.Received), fmt.Sprint(g.Accepted)},
		codeValues(g.Codes, 5, kind)...)
	if err := w.Segment("AK9", ak9...); err != nil {
		return err
	}
	return w.EndSet()
}

// safeValue reports whether v can be written with w's delimiters.
func safeValue(w *Writer, v string) bool {
	d := w.Delimiters()
	if strings.ContainsAny(v, "\r\n") || strings.Contains(v, d.Segment) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == d.Element || c == d.Component || d.Repetition != 0 && c == d.Repetition || c < 0x20 {
			return false
		}
	}
	return true
}
