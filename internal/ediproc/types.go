package ediproc

import (
	"github.com/ordergate/ordergate/edi"
	"github.com/ordergate/ordergate/normalize/order"
)

// Partner is what processing needs to know of a trading partner.
type Partner struct {
	ID         string
	CustomerID string
	// Functional is the X12 functional ack: "997" (default), "999" or
	// "none".
	Functional string
	// TA1 is when an X12 TA1 is sent: "requested", "errors" (default:
	// when the interchange is bad or ISA14 = 1), "always" or "never".
	TA1 string
	// CONTRL is when an EDIFACT CONTRL is sent: "requested" (default:
	// UNB 0031 = 1), "always" or "never".
	CONTRL string
	// Duplicates is the policy for a repeated interchange: "reject"
	// (default), "ack-and-drop" or "hold".
	Duplicates string
	// X12 separators for what we send ("" = the engine default) and our
	// interchange id.
	X12Element, X12Component, X12Segment, X12Repetition string
	X12OurQualifier, X12OurID                           string
	// EDIFACT service string advice and syntax for what we send.
	EDIFACTUNA, EDIFACTSyntax         string
	EDIFACTOurQualifier, EDIFACTOurID string
}

// Resolver finds the partner of an interchange by its envelope; ok is
// false for an unknown sender.
type Resolver func(std edi.Standard, env edi.Envelope) (p Partner, ok bool)

// Interchange is what processing found about one interchange.
type Interchange struct {
	Standard edi.Standard
	Envelope edi.Envelope // interchange-level fields only
	// Partner is the matched partner; PartnerKnown is false for an
	// unknown sender (the interchange is rejected).
	Partner      Partner
	PartnerKnown bool
	// Duplicate is set when the Duplicate callback said the interchange
	// was seen before.
	Duplicate bool
	// Claimable is true when the interchange takes part in duplicate
	// detection (a known partner, a readable header): the Duplicate
	// callback is asked about it, or, without a callback, the caller
	// should check its envelope itself.
	Claimable bool
	// Errors are the interchange-level problems (those a TA1 or UCI
	// reports), each positioned.
	Errors []error
	// Rejected is true when the interchange as a whole is rejected.
	Rejected bool
}

// Message is one transaction set or message as processing emits it.
type Message struct {
	// Index is the message's ordinal in the document, from 0.
	Index int
	// Interchange is the index into the Summary's interchanges.
	Interchange int
	Standard    edi.Standard
	Type        string // 850, ORDERS, 810, ...
	Envelope    edi.Envelope
	Partner     Partner
	// Order is the mapped purchase order; nil when the message is not a
	// purchase order, was rejected, or its interchange was.
	Order *order.Order
	// Errors are the message's positioned syntax and mapping errors.
	Errors []error
	// Accepted is true when the message passed syntax checks and, for a
	// purchase order, mapping.
	Accepted bool
	// Duplicate is true when the message belongs to a duplicate
	// interchange.
	Duplicate bool
}

// Ack is one acknowledgement interchange to send.
type Ack struct {
	Kind      string // TA1, 997, 999, CONTRL
	PartnerID string // "" when the sender is unknown
	Body      []byte
}

// Summary is the outcome of processing a document.
type Summary struct {
	Standard     edi.Standard
	Interchanges []Interchange
	Messages     int
	Accepted     int
	Orders       int
	Acks         []Ack
	// Errors are document-level problems: not EDI at all, unreadable.
	Errors []error
}

// MissingHeader returns the interchange header ("UNB" or "ISA") a
// document recognised as EDIFACT or X12 lacked a readable one of, or ""
// when it had one or is neither: without it there is no sender to answer.
func (s *Summary) MissingHeader() string {
	if len(s.Interchanges) > 0 {
		return ""
	}
	switch s.Standard {
	case edi.EDIFACT:
		return "UNB"
	case edi.X12:
		return "ISA"
	}
	return ""
}

// Unasked reports whether the document was EDIFACT, read without errors,
// and no acknowledgement was written: no interchange asked for a CONTRL
// and the partner's setting did not call for one.
func (s *Summary) Unasked() bool {
	return s.Standard == edi.EDIFACT && len(s.Interchanges) > 0 && len(s.Errors) == 0 && len(s.Acks) == 0
}

// Rejected reports whether nothing of the document was accepted: every
// interchange rejected or no message accepted.
func (s *Summary) Rejected() bool {
	return len(s.Errors) > 0 || s.Accepted == 0
}
