package ediproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ordergate/ordergate/edi"
)

// ErrNotEDI is the document-level error for bytes that are neither an X12
// nor an EDIFACT interchange.
var ErrNotEDI = errors.New("not an X12 or EDIFACT interchange")

// Processor processes documents; its zero value is ready to use.
type Processor struct{}

// Process reads r (the document named file) to its end. emit is called
// for every message in file order; an error from emit stops processing
// and is returned. The Summary holds the interchanges, counts and the
// acks to send. Problems of the document itself (not EDI, unreadable
// envelope) are in Summary.Errors, not in the returned error, which is
// reserved for I/O failures, ctx and emit.
func (Processor) Process(ctx context.Context, r io.Reader, file string, opts Options, emit func(*Message) error) (*Summary, error) {
	// A document of known size (the gateway's are in memory or spooled)
	// gets buffers of its size, up to 64 KiB (the bufio reader's, and the
	// X12 and EDIFACT readers'): most are a few KB.
	bufSize, size := 64<<10, int64(0)
	if sz, ok := r.(interface{ Size() int64 }); ok && sz.Size() > 0 {
		size = sz.Size()
		bufSize = int(min(max(size+1, edi.SniffLen), 64<<10))
	}
	br := bufio.NewReaderSize(r, bufSize)
	head, err := br.Peek(edi.SniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if opts.Now == nil {
		opts.Now = timeNow
	}
	if opts.ControlNumber == nil {
		opts.ControlNumber = memoryControls()
	}
	switch edi.Sniff(head) {
	case edi.X12:
		return processX12(ctx, br, file, size, opts, emit)
	case edi.EDIFACT:
		return processEDIFACT(ctx, br, file, size, opts, emit)
	}
	start := head
	if len(start) > 16 {
		start = start[:16]
	}
	return &Summary{Errors: []error{fmt.Errorf("segment 1: %w (it starts with %q)", ErrNotEDI, start)}}, nil
}

// partnerOf resolves the partner of an interchange; without a resolver
// every sender is a partner with default settings.
func partnerOf(opts Options, std edi.Standard, env edi.Envelope) (Partner, bool) {
	if opts.Partner == nil {
		return opts.Default, true
	}
	return opts.Partner(std, env)
}

// controls adapts Options.ControlNumber for the acknowledgement of one
// interchange: only the interchange control number is drawn from the
// partner's sequence (one store round trip per ack); the group numbers
// reuse it and the set or message numbers count from 1 within the ack,
// which is its own interchange.
type controls struct {
	opts        Options
	partner     string
	interchange int64
	local       map[string]int64
}

func (c *controls) next(kind string) (int64, error) {
	switch kind {
	case "x12-interchange", "edifact-interchange":
		var err error
		c.interchange, err = c.opts.ControlNumber(c.partner, kind)
		return c.interchange, err
	case "x12-group", "edifact-group":
		if c.interchange > 0 {
			return c.interchange, nil
		}
	}
	if c.local == nil {
		c.local = map[string]int64{}
	}
	c.local[kind]++
	return c.local[kind], nil
}

// memoryControls counts control numbers from 1 per partner and kind for
// one document, so the acks of its interchanges never share a number.
func memoryControls() func(partnerID, kind string) (int64, error) {
	mem := map[[2]string]int64{}
	return func(partnerID, kind string) (int64, error) {
		k := [2]string{partnerID, kind}
		mem[k]++
		return mem[k], nil
	}
}

// addAck appends body to the summary's ack of that kind (one ack per kind
// per document; interchanges of one file are answered in one file).
func (s *Summary) addAck(kind, partnerID string, body []byte) {
	for i := range s.Acks {
		if s.Acks[i].Kind == kind {
			s.Acks[i].Body = append(s.Acks[i].Body, body...)
			return
		}
	}
	s.Acks = append(s.Acks, Ack{Kind: kind, PartnerID: partnerID, Body: append([]byte(nil), body...)})
}
