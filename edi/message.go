package edi

// Envelope is what the interchange, group and message headers say about a
// message: who sent it to whom, its control numbers, version and test flag.
type Envelope struct {
	SenderID          string // ISA06 / UNB S002 0004 (padding trimmed)
	SenderQualifier   string // ISA05 / UNB S002 0007
	ReceiverID        string // ISA08 / UNB S003 0010
	ReceiverQualifier string // ISA07 / UNB S003 0007
	// GroupSender and GroupReceiver are the application codes of the
	// functional group (GS02/GS03, UNG S006/S007); empty without a group.
	GroupSender   string
	GroupReceiver string
	// InterchangeDate and InterchangeTime are as sent (ISA09/ISA10,
	// UNB S004).
	InterchangeDate    string
	InterchangeTime    string
	InterchangeControl string // ISA13 / UNB 0020
	GroupControl       string // GS06 / UNG 0048
	MessageControl     string // ST02 / UNH 0062
	// FunctionalID is the group's functional identifier (GS01, e.g. "PO";
	// UNG 0038).
	FunctionalID string
	// Version is the message version: GS08 for X12 (e.g. "004010"), the
	// UNH S009 version and release for EDIFACT (e.g. "D96A").
	Version string
	// Association is the EDIFACT association assigned code (UNH S009 0057,
	// e.g. "EAN008"); empty for X12.
	Association string
	// Syntax is the interchange's syntax: ISA12 for X12 (e.g. "00401"), the
	// syntax identifier and version for EDIFACT (e.g. "UNOC:3").
	Syntax string
	// AckRequested is true when the sender asked for an interchange
	// acknowledgement (ISA14 = 1, UNB 0031 = 1).
	AckRequested bool
	// Test is true for test interchanges (ISA15 = T, UNB 0035 = 1).
	Test bool
}

// Message is one transaction set (X12 ST..SE) or message (EDIFACT
// UNH..UNT) with the envelope it came in. Segments run from the header to
// the trailer inclusive, each with its position in the file.
type Message struct {
	Standard Standard
	// Type is the transaction set identifier (ST01, e.g. "850") or the
	// message type (UNH S009 0065, e.g. "ORDERS").
	Type     string
	Envelope Envelope
	// DecimalMark is the character the sender uses as decimal mark in
	// numeric values ('.' for X12; UNA's or ',' / '.' for EDIFACT).
	DecimalMark byte
	Segments    []Segment
}
