package x12

import "github.com/ordergate/ordergate/edi"

// AckStatus is an acknowledgement status: AK501/IK501, AK901 and TA104.
type AckStatus byte

// The statuses the decoder assigns.
const (
	StatusAccepted  AckStatus = 'A'
	StatusPartial   AckStatus = 'P' // AK9 only: some sets accepted
	StatusRejected  AckStatus = 'R'
	StatusWithError AckStatus = 'E' // TA1 only: interchange accepted with errors
)

func (s AckStatus) String() string { return string(rune(s)) }

// Report is everything an acknowledgement needs about one input, filled
// by the Decoder as it reads. It keeps no segments: per interchange the
// ISA header and TA1 note, per group its header and AK9 figures, per set
// its identifiers, status and AK3/AK4 findings, so it stays small however
// large the input (see CompactReport for inputs with millions of sets).
type Report struct {
	Interchanges []InterchangeReport
	// Err is the error that stopped decoding before the end of the input
	// (a separator, size limit or read error); nil when the input was read
	// to its end.
	Err error
}

// ISAHeader is the interchange control header as sent (fields padded as
// in the ISA).
type ISAHeader struct {
	AuthQualifier     string // ISA01
	AuthInfo          string // ISA02
	SecurityQualifier string // ISA03
	SecurityInfo      string // ISA04
	SenderQualifier   string // ISA05
	SenderID          string // ISA06 (padded to 15)
	ReceiverQualifier string // ISA07
	ReceiverID        string // ISA08 (padded to 15)
	Date              string // ISA09 YYMMDD
	Time              string // ISA10 HHMM
	StandardsID       string // ISA11: "U" before 00402, the repetition separator from 00402
	Version           string // ISA12
	Control           string // ISA13
	AckRequested      bool   // ISA14 = 1
	Usage             string // ISA15: P production, T test
}

// InterchangeReport is one interchange (ISA..IEA).
type InterchangeReport struct {
	Header     ISAHeader
	Delimiters Delimiters
	Pos        edi.Position // of the ISA
	// Note is the TA1 note code (TA105): TA1NoError, or the code of the
	// first interchange-level error.
	Note Code
	// Rejected is true when the ISA itself is invalid: the interchange is
	// answered with a TA1 only and none of its sets is accepted.
	Rejected bool
	// Errors are the interchange-level errors, each a *SyntaxError whose
	// Code is a TA1 note code.
	Errors []error
	Groups []GroupReport
	// Declared is IEA01, the number of groups the sender counted (-1
	// without a readable IEA).
	Declared  int
	Complete  bool // the IEA was read
	Duplicate bool // ISA13 was seen before in the input
}

// TA1Status is the TA104 code for the interchange: A without errors, R
// otherwise.
func (ic *InterchangeReport) TA1Status() AckStatus {
	if ic.Note == TA1NoError {
		return StatusAccepted
	}
	return StatusRejected
}

// NeedsTA1 reports whether the interchange is answered with a TA1: the
// sender asked for one (ISA14 = 1) or the interchange has errors.
func (ic *InterchangeReport) NeedsTA1() bool {
	return ic.Header.AckRequested || ic.Note != TA1NoError
}

// GroupReport is one functional group (GS..GE) and its AK9.
type GroupReport struct {
	FunctionalID string // GS01
	SenderCode   string // GS02
	ReceiverCode string // GS03
	Date         string // GS04
	Time         string // GS05
	Control      string // GS06
	Agency       string // GS07
	Version      string // GS08
	Pos          edi.Position
	// Declared is GE01, the number of sets the sender counted (0 without
	// a readable GE).
	Declared int
	// Received counts the sets read to their SE trailer; a set cut off
	// before its SE is reported (AK5 R 2) but not counted.
	Received int
	Accepted int
	Status   AckStatus // AK901
	Codes    []Code    // AK905..: group-level errors
	// Errors are the group-level errors, each a *SyntaxError whose Code
	// is an AK9 code (or a TA1 code for a bad GS field).
	Errors    []error
	Sets      []SetReport
	Complete  bool // the GE was read
	Duplicate bool // GS06 repeats in the interchange
}

// SetReport is one transaction set (ST..SE) and its AK2..AK5.
type SetReport struct {
	ID         string // ST01
	Control    string // ST02
	Convention string // ST03 (5010 implementation convention reference)
	Pos        edi.Position
	Status     AckStatus    // AK501: A or R
	Codes      []Code       // AK502..: set-level errors, in ascending order
	Segments   []SegmentErr // AK3/AK4 details
	Dropped    int          // segment errors beyond MaxErrorsPerSet
	Complete   bool         // the SE was read
	Duplicate  bool         // ST02 repeats in the group
}

// SegmentErr is one AK3 (IK3) with its AK4s (IK4s).
type SegmentErr struct {
	Tag      string // AK301
	Position int    // AK302: position in the set, ST = 1
	Loop     string // AK303: the loop the segment is in
	Code     Code   // AK304
	// Context is the business unit the segment belongs to, for a 999 CTX
	// (e.g. "PO101" and the line number); empty outside such a unit.
	Context  [2]string
	Elements []ElementErr
}

// ElementErr is one AK4 (IK4).
type ElementErr struct {
	Position   int    // AK401-1: element position in the segment
	Component  int    // AK401-2: component position, 0 for a simple element
	Repetition int    // IK401-3 (5010): repetition, 0 when not repeated
	Ref        int    // AK402: data element reference number
	Code       Code   // AK403
	Value      string // AK404: the bad value, "" when missing
}
