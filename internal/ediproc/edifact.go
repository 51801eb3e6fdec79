package ediproc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/edi/edifact"
	"github.com/ordergate/ordergate/normalize"
)

func edifactEnvelope(ic *edifact.InterchangeReport) edi.Envelope {
	return edi.Envelope{
		SenderID: ic.SenderID, SenderQualifier: ic.SenderQual, ReceiverID: ic.RecipientID, ReceiverQualifier: ic.RecipQual,
		InterchangeControl: ic.Control, Syntax: ic.SyntaxID + ":" + ic.SyntaxVersion,
		AckRequested: ic.AckRequested, Test: ic.Test,
	}
}

func processEDIFACT(ctx context.Context, r io.Reader, file string, size int64, opts Options, emit func(*Message) error) (*Summary, error) {
	// observe runs on the decoding goroutine right after the decoder
	// returned a message: it copies the headers of the interchanges the
	// report gained since the message before, as the report then has them,
	// for open below (the report itself is only read once decoding ended).
	var f *normalize.EDIFACTFile
	copied := 0
	observe := func(*edifact.Message) any {
		rep := f.Report()
		if copied == len(rep.Interchanges) {
			return nil
		}
		ics := make([]edifact.InterchangeReport, 0, len(rep.Interchanges)-copied)
		for ; copied < len(rep.Interchanges); copied++ {
			ric := *rep.Interchanges[copied]
			ric.Errors, ric.Groups, ric.Messages = nil, nil, nil
			ics = append(ics, ric)
		}
		return ics
	}
	var decOpts []edifact.Option
	if size > 0 {
		decOpts = append(decOpts, edifact.SizeHint(size))
	}
	f = normalize.NewEDIFACTFile(r, normalize.FileOptions{File: file, Workers: opts.Workers}, observe, decOpts...)
	sum := &Summary{Standard: edi.EDIFACT}
	// open adds the interchange ric to sum.Interchanges, resolving its
	// partner and asking about duplicates once.
	open := func(ric *edifact.InterchangeReport) error {
		env := edifactEnvelope(ric)
		ic := Interchange{Standard: edi.EDIFACT, Envelope: env}
		ic.Partner, ic.PartnerKnown = partnerOf(opts, edi.EDIFACT, env)
		if !ic.PartnerKnown {
			ic.Rejected = true
			ic.Errors = append(ic.Errors, &edifact.SyntaxError{Offset: ric.Pos.Offset, Segment: ric.Pos.Index, Tag: "UNB",
				Element: 2, Code: edifact.CodeUnknownSender, Err: fmt.Errorf("%w %s:%s", ErrUnknownSender, env.SenderID, env.SenderQualifier)})
		} else if ic.Claimable = !ric.Rejected; opts.Duplicate != nil && ic.Claimable {
			dup, err := opts.Duplicate(edi.EDIFACT, env, ic.Partner)
			if err != nil {
				return err
			}
			ic.Duplicate = dup
		}
		sum.Interchanges = append(sum.Interchanges, ic)
		return nil
	}
	index := 0
	for set, err := range f.Sets(ctx) {
		var se *edifact.SyntaxError
		if errors.As(err, &se) {
			continue // an interchange-level problem: the Report has it too
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			sum.Errors = append(sum.Errors, fmt.Errorf("reading: %w", err))
			break
		}
		msg := set.Message
		ics, _ := set.Note.([]edifact.InterchangeReport)
		for i := range ics {
			if err := open(&ics[i]); err != nil {
				return nil, err
			}
		}
		icIndex := len(sum.Interchanges) - 1
		var icp *Interchange
		if icIndex >= 0 {
			icp = &sum.Interchanges[icIndex]
		} else {
			icp = &Interchange{Standard: edi.EDIFACT}
		}
		m := &Message{Index: index, Interchange: icIndex, Standard: edi.EDIFACT, Type: msg.Type,
			Envelope: msg.Envelope, Partner: icp.Partner, Errors: msg.Errors,
			Accepted: msg.Accepted && !icp.Rejected && icIndex >= 0, Duplicate: icp.Duplicate}
		if m.Accepted && msg.Type == "ORDERS" && (!icp.Duplicate || icp.Partner.Duplicates == "hold") {
			o, err := set.Order()
			if err != nil {
				m.Accepted = false
				m.Errors = append(m.Errors, err)
			} else {
				o.CustomerID = icp.Partner.CustomerID
				m.Order = o
				sum.Orders++
			}
		}
		if m.Accepted {
			sum.Accepted++
		}
		sum.Messages++
		index++
		if err := emit(m); err != nil {
			return nil, err
		}
	}
	rep := f.Report()
	for j := len(sum.Interchanges); j < len(rep.Interchanges); j++ {
		if err := open(rep.Interchanges[j]); err != nil {
			return nil, err
		}
	}
	for _, e := range rep.Errors { // problems outside any interchange
		sum.Errors = append(sum.Errors, e)
	}
	for i, ric := range rep.Interchanges {
		ic := &sum.Interchanges[i]
		for _, e := range ric.Errors {
			ic.Errors = append(ic.Errors, e)
		}
		ic.Rejected = ic.Rejected || ric.Rejected
		if opts.NoAcks {
			continue
		}
		if err := ackEDIFACT(ctx, sum, ic, *ric, opts); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// ackEDIFACT builds the CONTRL of one interchange per the partner's
// settings: rejected with 23 for an unknown sender and with 26 for an
// interchange received before (unless the partner's policy keeps it).
func ackEDIFACT(ctx context.Context, sum *Summary, ic *Interchange, ric edifact.InterchangeReport, opts Options) error {
	p := ic.Partner
	switch {
	case !ic.PartnerKnown:
		ric.Rejected = true
		ric.Errors = append([]*edifact.SyntaxError{ic.Errors[0].(*edifact.SyntaxError)}, ric.Errors...)
	case ic.Duplicate && p.Duplicates != "ack-and-drop" && p.Duplicates != "hold":
		ric.Rejected = true
		ric.Errors = append([]*edifact.SyntaxError{{Offset: ric.Pos.Offset, Segment: ric.Pos.Index, Tag: "UNB", Element: 5,
			Code: edifact.CodeDuplicate, Err: errors.New("interchange received before")}}, ric.Errors...)
	}
	if p.CONTRL == "never" {
		return nil
	}
	ao := edifact.AckOptions{Always: p.CONTRL == "always" || !ic.PartnerKnown, Now: opts.Now, Context: ctx, LineBreaks: true,
		Controls: edifactControls{c: &controls{opts: opts, partner: p.ID}}}
	if p.EDIFACTUNA != "" {
		if s, err := edifact.ParseUNA([]byte("UNA" + p.EDIFACTUNA)); err == nil {
			ao.Separators = &s
		}
	}
	body, err := edifact.Acknowledge(&edifact.Report{Interchanges: []*edifact.InterchangeReport{&ric}}, ao)
	if errors.Is(err, edifact.ErrNothingToAcknowledge) {
		return nil
	}
	if err != nil {
		return err
	}
	sum.addAck("CONTRL", p.ID, body)
	return nil
}

type edifactControls struct{ c *controls }

func (x edifactControls) NextControl(ctx context.Context, kind edifact.ControlKind) (int64, error) {
	names := map[edifact.ControlKind]string{edifact.ControlInterchange: "edifact-interchange", edifact.ControlGroup: "edifact-group", edifact.ControlMessage: "edifact-message"}
	return x.c.next(names[kind])
}
