package ediproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize"
	"github.com/ordergate/ordergate/normalize/order"
)

// ErrNoResponse is returned when an order cannot be answered in the
// partner's format: the order did not come as EDI of that standard, so
// the envelope's parties are unknown.
var ErrNoResponse = errors.New("no order response possible")

// ResponseOptions are what an order response needs besides the order and
// the decision.
type ResponseOptions struct {
	Partner Partner
	// ControlNumber hands out control numbers per partner and kind (the
	// store's counters).
	ControlNumber func(partnerID, kind string) (int64, error)
	Now           time.Time
	// Pending answers an order that waits for a decision: "received,
	// not decided yet". Only the 855 has a code for it (BAK02 AK,
	// acknowledge without detail); an ORDRSP is not pending-capable and
	// gives ErrNoResponse.
	Pending bool
}

// OrderResponse writes the answer to an order in the partner's format:
// kind "855" (an X12 855 in its own interchange) or "ordrsp" (an EDIFACT
// ORDRSP), addressed back to the order's sender from us (the partner's
// configured id, else the receiver of the order's interchange).
func OrderResponse(ctx context.Context, kind string, o *order.Order, r *order.Response, opts ResponseOptions) ([]byte, error) {
	if o == nil || r == nil {
		return nil, fmt.Errorf("%w: no order or no response", ErrNoResponse)
	}
	if r.Date.IsZero() {
		d, err := order.NewDate(opts.Now.Year(), opts.Now.Month(), opts.Now.Day())
		if err != nil {
			return nil, err
		}
		rc := *r
		rc.Date, r = d, &rc
	}
	p := opts.Partner
	c := &controls{opts: Options{ControlNumber: opts.ControlNumber}, partner: p.ID}
	var buf bytes.Buffer
	switch kind {
	case "855":
		if o.Source.Standard != "X12" || o.Source.SenderID == "" {
			return nil, fmt.Errorf("%w: an 855 answers X12 orders; order %s came as %s", ErrNoResponse, o.ID, o.Source.Standard)
		}
		d := x12.DefaultDelimiters
		if pd, ok := partnerDelimiters(p); ok {
			d = pd
		}
		ourQ, ourID := p.X12OurQualifier, p.X12OurID
		if ourID == "" {
			ourQ, ourID = o.Source.ReceiverQualifier, o.Source.ReceiverID
		}
		w := x12.NewWriter(&buf, d, x12.WithControlNumbers(x12Controls{c: c}))
		ack := normalize.X12POAck(o, r)
		if opts.Pending {
			ack.Type, ack.Lines = "AK", nil
		}
		version := o.Source.Version
		if len(version) < 6 {
			version = "004010"
		}
		err := errors.Join(
			w.BeginInterchange(ctx, x12.InterchangeHeader{SenderQualifier: ourQ, SenderID: ourID,
				ReceiverQualifier: o.Source.SenderQualifier, ReceiverID: o.Source.SenderID, Time: opts.Now, Test: o.Source.Test}),
			w.BeginGroup(ctx, x12.GroupHeader{FunctionalID: "PR", SenderCode: ourID, ReceiverCode: o.Source.SenderID, Time: opts.Now, Version: version}),
			w.WritePOAck(ctx, &ack), w.EndGroup(), w.EndInterchange(), w.Flush())
		if err != nil {
			return nil, fmt.Errorf("writing the 855 for order %s: %w", o.ID, err)
		}
	case "ordrsp":
		if o.Source.Standard != "EDIFACT" || o.Source.SenderID == "" {
			return nil, fmt.Errorf("%w: an ORDRSP answers EDIFACT orders; order %s came as %s", ErrNoResponse, o.ID, o.Source.Standard)
		}
		seps := edifact.Separators{Component: ':', Element: '+', Decimal: '.', Release: '?', Terminator: '\''}
		if p.EDIFACTUNA != "" {
			if s, err := edifact.ParseUNA([]byte("UNA" + p.EDIFACTUNA)); err == nil {
				seps = s
			}
		}
		ourQ, ourID := p.EDIFACTOurQualifier, p.EDIFACTOurID
		if ourID == "" {
			ourQ, ourID = o.Source.ReceiverQualifier, o.Source.ReceiverID
		}
		syntax, version := "UNOC", "3"
		if p.EDIFACTSyntax != "" {
			if s, v, ok := cutSyntax(p.EDIFACTSyntax); ok {
				syntax, version = s, v
			}
		}
		w := edifact.NewWriter(&buf, seps, edifact.WithControlNumbers(edifactControls{c: c}))
		resp := normalize.EDIFACTOrderResponse(o, r)
		if opts.Pending {
			// "Received, pending": BGM 1225 29 (the order acknowledged
			// without amendment, the 855's BAK02 AK), no lines, and the
			// response's note saying the decision follows in a second
			// ORDRSP.
			resp.Function, resp.Lines = edifact.ResponseAccepted, nil
		}
		err := errors.Join(
			w.BeginInterchange(ctx, edifact.InterchangeHeader{SyntaxID: syntax, SyntaxVersion: version, SenderID: ourID, SenderQual: ourQ,
				RecipientID: o.Source.SenderID, RecipQual: o.Source.SenderQualifier, Time: opts.Now, Test: o.Source.Test}),
			w.WriteOrderResponse(ctx, &resp), w.EndInterchange(), w.Flush())
		if err != nil {
			return nil, fmt.Errorf("writing the ORDRSP for order %s: %w", o.ID, err)
		}
	default:
		return nil, fmt.Errorf("%w: order response kind %q", ErrNoResponse, kind)
	}
	return buf.Bytes(), nil
}

// cutSyntax splits "UNOC:3" into its identifier and version.
func cutSyntax(s string) (id, version string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], i > 0 && i < len(s)-1
		}
	}
	return s, "3", s != ""
}
