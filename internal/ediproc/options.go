package ediproc

import (
	"time"

	"github.com/ordergate/ordergate/edi"
)

// Options steer processing.
type Options struct {
	// Partner finds the partner of an interchange. Nil treats every sender
	// as a partner with the settings of Default (the command line's view).
	Partner Resolver
	// Default is the partner every sender is when Partner is nil.
	Default Partner
	// Duplicate is asked once per interchange whether it was seen before
	// (the envelope layer of duplicate detection); nil means never.
	Duplicate func(std edi.Standard, env edi.Envelope, p Partner) (bool, error)
	// ControlNumber returns the next control number for what we send a
	// partner (kind "x12-interchange", "x12-group", "edifact-interchange");
	// nil counts from 1 in memory.
	ControlNumber func(partnerID, kind string) (int64, error)
	// Now is the clock for the acks' dates; nil is time.Now.
	Now func() time.Time
	// NoAcks skips building acknowledgements (Summary.Acks stays empty):
	// the decoders then keep only what is wrong, so memory stays flat
	// however many messages a file holds (`ordergate parse`).
	NoAcks bool
	// Workers, when above 0, decodes the document on a goroutine of its
	// own and maps its purchase orders on that many others, ahead of emit
	// (normalize.FileOptions.Workers); messages are still emitted in file
	// order, and Partner, Duplicate and emit are still called on the
	// caller's goroutine, in the same order. 0 does everything on the
	// caller's goroutine (`ordergate parse` uses 1).
	Workers int
}

// WithCONTRL returns a Resolver that finds partners as r does, with every
// partner's CONTRL setting replaced by when ("always", "requested",
// "never"): a command-line choice that wins over the configuration.
func WithCONTRL(r Resolver, when string) Resolver {
	return func(std edi.Standard, env edi.Envelope) (Partner, bool) {
		p, ok := r(std, env)
		p.CONTRL = when
		return p, ok
	}
}
