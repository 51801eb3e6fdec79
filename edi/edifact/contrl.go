package edifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// ErrNothingToAcknowledge is returned by Acknowledge when no interchange
// of the report gets a CONTRL: none asked for one (and AckOptions.Always
// is off), or no interchange header could be read at all.
var ErrNothingToAcknowledge = errors.New("nothing to acknowledge")

// AckOptions configure the CONTRL messages.
type AckOptions struct {
	// Always sends a CONTRL for every interchange, not only those whose
	// UNB 0031 asks for one.
	Always bool
	// Separators of the CONTRL; nil uses each inbound interchange's own
	// (its UNA, or the defaults), so the partner reads what it sent.
	Separators *Separators
	// SyntaxID and SyntaxVersion of the CONTRL's UNB; "" uses the inbound
	// interchange's; an unsupported one falls back to UNOC, version 3.
	SyntaxID, SyntaxVersion string
	// Controls hands out the CONTRL's references; nil uses a Counter
	// starting at 1.
	Controls ControlNumbers
	// Now is the time written in the UNB; nil uses time.Now.
	Now func() time.Time
	// LineBreaks writes a line break after each segment.
	LineBreaks bool
	// Context bounds the calls to Controls; nil is context.Background.
	Context context.Context
}

// The actions (0083) a CONTRL reports.
const (
	ActionRejected     = "4" // this level and all lower levels rejected
	ActionAcknowledged = "7" // this level acknowledged, lower levels too unless rejected
)

// Acknowledge writes one CONTRL interchange per inbound interchange that
// asks for it (UNB 0031 = 1) or, with Always, for every interchange:
// sender and recipient swapped, UCI with action 7 (acknowledged) or 4
// (rejected: the UNA or UNB is in error) and the first interchange-level
// error code (a missing UNZ is reported as 13 with action 7: the messages
// that were complete stand); per group a UCF; per message listed in the
// report a UCM with action 7 or 4 and, for a rejected message, the
// message-level error code (UNH/UNT problems) or UCS/UCD entries for its
// segment and element errors. Interchanges without a readable sender
// cannot be answered and are skipped.
func Acknowledge(rep *Report, opts AckOptions) ([]byte, error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ctrl := opts.Controls
	if ctrl == nil {
		ctrl = NewCounter(1)
	}
	var out bytes.Buffer
	n := 0
	for _, ic := range rep.Interchanges {
		if !opts.Always && !ic.AckRequested {
			continue
		}
		if ic.SenderID == "" {
			continue
		}
		if err := writeCONTRL(ctx, &out, ic, opts, ctrl, now()); err != nil {
			return nil, fmt.Errorf("acknowledging interchange %s: %w", ic.Control, err)
		}
		n++
	}
	if n == 0 {
		return nil, ErrNothingToAcknowledge
	}
	return out.Bytes(), nil
}

// AcknowledgeReader decodes r and acknowledges it; it returns the CONTRL
// interchanges and the report.
func AcknowledgeReader(r io.Reader, opts AckOptions, decOpts ...Option) ([]byte, *Report, error) {
	d := NewDecoder(r, decOpts...)
	for {
		_, err := d.Next()
		if err == io.EOF {
			break
		}
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			return nil, d.Report(), fmt.Errorf("decoding: %w", err)
		}
	}
	b, err := Acknowledge(d.Report(), opts)
	return b, d.Report(), err
}

func writeCONTRL(ctx context.Context, out io.Writer, ic *InterchangeReport, opts AckOptions, ctrl ControlNumbers, now time.Time) error {
	seps := ic.Separators
	if opts.Separators != nil {
		seps = *opts.Separators
	}
	syntax, version := ic.SyntaxID, ic.SyntaxVersion
	if opts.SyntaxID != "" {
		syntax = opts.SyntaxID
	}
	if opts.SyntaxVersion != "" {
		version = opts.SyntaxVersion
	}
	if !SupportedSyntax(syntax) {
		syntax = "UNOC"
	}
	if version < "1" || version > "4" || len(version) != 1 {
		version = "3"
	}
	if seps.Repetition != 0 && version != "4" {
		seps.Repetition = 0
	}
	wopts := []WriterOption{WithControlNumbers(ctrl)}
	if opts.LineBreaks {
		wopts = append(wopts, WithLineBreaks())
	}
	w := NewWriter(out, seps, wopts...)
	if err := w.BeginInterchange(ctx, InterchangeHeader{SyntaxID: syntax, SyntaxVersion: version,
		SenderID: ic.RecipientID, SenderQual: ic.RecipQual, RecipientID: ic.SenderID, RecipQual: ic.SenderQual,
		Time: now, Test: ic.Test}); err != nil {
		return err
	}
	if _, err := w.BeginMessage(ctx, MessageID{Type: "CONTRL", Version: "D", Release: "3", Agency: "UN"}); err != nil {
		return err
	}
	action := ActionAcknowledged
	if ic.Rejected {
		action = ActionRejected
	}
	uci := [][]string{{ic.Control}, {ic.SenderID, ic.SenderQual}, {ic.RecipientID, ic.RecipQual}, {action}}
	if len(ic.Errors) > 0 {
		e := firstCoded(ic.Errors)
		uci = append(uci, []string{code(e.Code)}, []string{serviceTag(e.Tag)}, elementPos(e))
	}
	w.SegmentElements("UCI", uci...)
	if !ic.Rejected {
		for _, mr := range ic.Messages {
			writeUCM(w, mr)
		}
		for _, g := range ic.Groups {
			gaction := ActionAcknowledged
			if g.Rejected {
				gaction = ActionRejected
			}
			ucf := [][]string{{g.Control}, {g.SenderID, g.SenderQual}, {g.RecipientID, g.RecipQual}, {gaction}}
			if len(g.Errors) > 0 {
				e := firstCoded(g.Errors)
				ucf = append(ucf, []string{code(e.Code)}, []string{serviceTag(e.Tag)}, elementPos(e))
			}
			w.SegmentElements("UCF", ucf...)
			if !g.Rejected {
				for _, mr := range g.Messages {
					writeUCM(w, mr)
				}
			}
		}
	}
	if err := w.EndMessage(); err != nil {
		return err
	}
	return w.EndInterchange()
}

func writeUCM(w *Writer, mr *MessageReport) {
	id := MessageID{Type: mr.Type, Version: mr.Version, Release: mr.Release, Agency: mr.Agency, Association: mr.Association}
	if mr.Accepted {
		w.SegmentElements("UCM", []string{mr.Reference}, id.components(), []string{ActionAcknowledged})
		return
	}
	ucm := [][]string{{mr.Reference}, id.components(), {ActionRejected}}
	// Errors of the service segments UNH and UNT are the message's own.
	var body []*SyntaxError
	for _, e := range mr.Errors {
		if e.Code == CodeNone {
			continue
		}
		service := (e.Tag == "UNH" || e.Tag == "UNT") && !(e.Element == 0 && errors.Is(e, ErrDictionary))
		switch {
		case !service:
			body = append(body, e)
		case len(ucm) == 3:
			ucm = append(ucm, []string{code(e.Code)}, []string{e.Tag}, elementPos(e))
		}
	}
	if len(ucm) == 3 && len(body) == 0 {
		ucm = append(ucm, []string{code(CodeUnspecified)})
	}
	w.SegmentElements("UCM", ucm...)
	// One UCS per segment, its element errors as UCD.
	for i := 0; i < len(body); {
		e := body[i]
		j := i
		for j < len(body) && body[j].Segment == e.Segment {
			j++
		}
		var segCode *SyntaxError
		var elems []*SyntaxError
		for _, x := range body[i:j] {
			if x.Element > 0 {
				elems = append(elems, x)
			} else if segCode == nil {
				segCode = x
			}
		}
		ucs := [][]string{{strconv.Itoa(max(e.InMessage, 1))}}
		if segCode != nil {
			ucs = append(ucs, []string{code(segCode.Code)})
		} else if len(elems) == 0 {
			ucs = append(ucs, []string{code(e.Code)})
		}
		w.SegmentElements("UCS", ucs...)
		for k, x := range elems {
			if k == 99 {
				break
			}
			w.SegmentElements("UCD", []string{code(x.Code)}, elementPos(x))
		}
		i = j
	}
}

func firstCoded(errs []*SyntaxError) *SyntaxError {
	for _, e := range errs {
		if e.Code != CodeNone {
			return e
		}
	}
	return errs[0]
}

func code(c ErrorCode) string {
	if c == CodeNone {
		c = CodeUnspecified
	}
	return strconv.Itoa(int(c))
}

func serviceTag(t string) string {
	if validTag([]byte(t)) {
		return t
	}
	return ""
}

func elementPos(e *SyntaxError) []string {
	if e.Element == 0 {
		return nil
	}
	if e.Component == 0 {
		return []string{strconv.Itoa(e.Element)}
	}
	return []string{strconv.Itoa(e.Element), strconv.Itoa(e.Component)}
}
