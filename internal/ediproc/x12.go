package ediproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/edi/x12"
	"github.com/ordergate/ordergate/normalize"
)

var timeNow = time.Now

// ErrUnknownSender rejects an interchange from a sender no partner
// matches.
var ErrUnknownSender = errors.New("unknown sender")

func x12Envelope(h x12.ISAHeader) edi.Envelope {
	return edi.Envelope{
		SenderID: strings.TrimSpace(h.SenderID), SenderQualifier: strings.TrimSpace(h.SenderQualifier),
		ReceiverID: strings.TrimSpace(h.ReceiverID), ReceiverQualifier: strings.TrimSpace(h.ReceiverQualifier),
		InterchangeDate: h.Date, InterchangeTime: h.Time, InterchangeControl: h.Control,
		Syntax: h.Version, AckRequested: h.AckRequested, Test: h.Usage == "T",
	}
}

func processX12(ctx context.Context, r io.Reader, file string, size int64, opts Options, emit func(*Message) error) (*Summary, error) {
	var decOpts []x12.Option
	if size > 0 {
		decOpts = append(decOpts, x12.SizeHint(size))
	}
	if opts.NoAcks {
		decOpts = append(decOpts, x12.CompactReport())
	}
	// observe runs on the decoding goroutine right after the decoder
	// returned a set: it copies the headers of the interchanges up to the
	// set's own that were not copied before, as the report then has them,
	// for open below (the report itself is only read once decoding ended).
	var f *normalize.X12File
	copied := 0
	observe := func(tx *x12.Transaction) any {
		if tx.Interchange < copied {
			return nil
		}
		rep := f.Report()
		ics := make([]x12.InterchangeReport, 0, tx.Interchange+1-copied)
		for ; copied <= tx.Interchange; copied++ {
			ric := &rep.Interchanges[copied]
			ics = append(ics, x12.InterchangeReport{Header: ric.Header, Pos: ric.Pos, Rejected: ric.Rejected})
		}
		return ics
	}
	f = normalize.NewX12File(r, normalize.FileOptions{File: file, Workers: opts.Workers}, observe, decOpts...)
	sum := &Summary{Standard: edi.X12}
	// open adds the interchange ric to sum.Interchanges, resolving its
	// partner and asking about duplicates once.
	open := func(ric *x12.InterchangeReport) error {
		env := x12Envelope(ric.Header)
		ic := Interchange{Standard: edi.X12, Envelope: env}
		ic.Partner, ic.PartnerKnown = partnerOf(opts, edi.X12, env)
		if !ic.PartnerKnown {
			ic.Rejected = true
			ic.Errors = append(ic.Errors, fmt.Errorf("segment %d (ISA) element 6: %w %s:%s", ric.Pos.Index, ErrUnknownSender, env.SenderQualifier, env.SenderID))
		} else if ic.Claimable = !ric.Rejected; opts.Duplicate != nil && ic.Claimable {
			dup, err := opts.Duplicate(edi.X12, env, ic.Partner)
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
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if len(f.Report().Interchanges) == 0 {
				sum.Errors = append(sum.Errors, err)
			}
			break // the report holds the rest; a TA1 can still be written
		}
		tx := set.Transaction
		ics, _ := set.Note.([]x12.InterchangeReport)
		for i := range ics {
			if err := open(&ics[i]); err != nil {
				return nil, err
			}
		}
		ic := &sum.Interchanges[tx.Interchange]
		m := &Message{Index: index, Interchange: tx.Interchange, Standard: edi.X12, Type: tx.Type,
			Envelope: tx.Envelope, Partner: ic.Partner, Errors: tx.Errors, Accepted: tx.Accepted && !ic.Rejected,
			Duplicate: ic.Duplicate}
		if m.Accepted && tx.Type == "850" && !ic.Duplicate || m.Accepted && tx.Type == "850" && ic.Duplicate && ic.Partner.Duplicates == "hold" {
			o, err := set.Order()
			if err != nil {
				m.Accepted = false
				m.Errors = append(m.Errors, err)
			} else {
				o.CustomerID = ic.Partner.CustomerID
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
		if err := open(&rep.Interchanges[j]); err != nil {
			return nil, err
		}
	}
	for i := range rep.Interchanges {
		ic := &sum.Interchanges[i]
		ric := &rep.Interchanges[i]
		ic.Errors = append(ic.Errors, ric.Errors...)
		ic.Rejected = ic.Rejected || ric.Rejected
		if opts.NoAcks {
			continue
		}
		if err := ackX12(ctx, sum, ic, *ric, opts); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// ackX12 builds the acknowledgement of one interchange per the partner's
// settings: 997 or 999 per group, TA1 when the interchange is bad, was
// sent before (025), comes from an unknown sender (006) or asks for one.
func ackX12(ctx context.Context, sum *Summary, ic *Interchange, ric x12.InterchangeReport, opts Options) error {
	p := ic.Partner
	switch {
	case !ic.PartnerKnown:
		ric.Note, ric.Rejected = x12.TA1InvalidSenderID, true
	case ic.Duplicate && p.Duplicates != "ack-and-drop" && p.Duplicates != "hold":
		ric.Note, ric.Rejected = x12.TA1DuplicateControlNumber, true
	}
	switch p.TA1 {
	case "always":
		ric.Header.AckRequested = true
	case "never":
		if ric.Rejected {
			return nil
		}
		ric.Header.AckRequested = false
		ric.Note = x12.TA1NoError
	case "requested":
		// A TA1 only when ISA14 asks; an interchange rejected whole then
		// gets no answer at all, as the partner chose.
		if !ric.Header.AckRequested {
			if ric.Rejected {
				return nil
			}
			ric.Note = x12.TA1NoError
		}
	}
	kind, name := x12.Ack997, "997"
	if p.Functional == "999" {
		kind, name = x12.Ack999, "999"
	}
	if p.Functional == "none" {
		ric.Groups = nil
	}
	if ric.Rejected || len(ric.Groups) == 0 {
		name = "TA1"
	}
	ao := x12.AckOptions{Kind: kind, Now: opts.Now, Context: ctx,
		Controls: x12Controls{c: &controls{opts: opts, partner: p.ID}}}
	if d, ok := partnerDelimiters(p); ok {
		ao.Delimiters = &d
	}
	body, err := x12.Acknowledge(&x12.Report{Interchanges: []x12.InterchangeReport{ric}}, ao)
	if errors.Is(err, x12.ErrNothingToAcknowledge) {
		return nil
	}
	if err != nil {
		return err
	}
	sum.addAck(name, p.ID, body)
	return nil
}

// partnerDelimiters are the separators configured for what we send a
// partner; ok is false when none are (the inbound's are used).
func partnerDelimiters(p Partner) (x12.Delimiters, bool) {
	if p.X12Element == "" && p.X12Segment == "" && p.X12Component == "" {
		return x12.Delimiters{}, false
	}
	d := x12.DefaultDelimiters
	if p.X12Element != "" {
		d.Element = p.X12Element[0]
	}
	if p.X12Component != "" {
		d.Component = p.X12Component[0]
	}
	if p.X12Repetition != "" {
		d.Repetition = p.X12Repetition[0]
	}
	if p.X12Segment != "" {
		d.Segment = p.X12Segment
	}
	return d, true
}

type x12Controls struct{ c *controls }

func (x x12Controls) NextControl(ctx context.Context, kind x12.ControlKind) (int64, error) {
	names := map[x12.ControlKind]string{x12.ControlInterchange: "x12-interchange", x12.ControlGroup: "x12-group", x12.ControlSet: "x12-set"}
	return x.c.next(names[kind])
}
