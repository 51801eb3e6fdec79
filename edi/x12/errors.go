package x12

import (
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/edi"
)

// Level is the envelope level an acknowledgement code belongs to.
type Level uint8

// The levels of X12 acknowledgement codes.
const (
	LevelNone        Level = iota
	LevelInterchange       // TA1 note code (TA105)
	LevelGroup             // AK9 functional group syntax error code (AK905..)
	LevelSet               // AK5/IK5 transaction set syntax error code (AK502..)
	LevelSegment           // AK3/IK3 segment syntax error code (AK304)
	LevelElement           // AK4/IK4 data element syntax error code (AK403)
)

// Code is an acknowledgement code: the level it is reported at and its
// number in that level's code list. The zero Code means "no code".
type Code struct {
	Level Level
	N     int
}

// String renders the code as it appears in an acknowledgement, with the
// segment that carries it: "TA1 023", "AK9 4", "AK5 2", "AK3 8", "AK4 7".
func (c Code) String() string {
	switch c.Level {
	case LevelInterchange:
		return fmt.Sprintf("TA1 %03d", c.N)
	case LevelGroup:
		return fmt.Sprintf("AK9 %d", c.N)
	case LevelSet:
		return fmt.Sprintf("AK5 %d", c.N)
	case LevelSegment:
		return fmt.Sprintf("AK3 %d", c.N)
	case LevelElement:
		return fmt.Sprintf("AK4 %d", c.N)
	}
	return "none"
}

// Value is the code as written in the acknowledgement element: three
// digits for TA105, the plain number otherwise.
func (c Code) Value() string {
	if c.Level == LevelInterchange {
		return fmt.Sprintf("%03d", c.N)
	}
	return fmt.Sprint(c.N)
}

// TA1 interchange note codes (TA105).
var (
	TA1NoError                  = Code{LevelInterchange, 0}
	TA1ControlNumberMismatch    = Code{LevelInterchange, 1}
	TA1StandardNotSupported     = Code{LevelInterchange, 2}
	TA1VersionNotSupported      = Code{LevelInterchange, 3}
	TA1InvalidSegmentTerminator = Code{LevelInterchange, 4}
	TA1InvalidSenderQualifier   = Code{LevelInterchange, 5}
	TA1InvalidSenderID          = Code{LevelInterchange, 6}
	TA1InvalidReceiverQualifier = Code{LevelInterchange, 7}
	TA1InvalidReceiverID        = Code{LevelInterchange, 8}
	TA1InvalidAuthQualifier     = Code{LevelInterchange, 10}
	TA1InvalidAuthInfo          = Code{LevelInterchange, 11}
	TA1InvalidSecurityQualifier = Code{LevelInterchange, 12}
	TA1InvalidSecurityInfo      = Code{LevelInterchange, 13}
	TA1InvalidDate              = Code{LevelInterchange, 14}
	TA1InvalidTime              = Code{LevelInterchange, 15}
	TA1InvalidStandardsID       = Code{LevelInterchange, 16}
	TA1InvalidVersionID         = Code{LevelInterchange, 17}
	TA1InvalidControlNumber     = Code{LevelInterchange, 18}
	TA1InvalidAckRequested      = Code{LevelInterchange, 19}
	TA1InvalidTestIndicator     = Code{LevelInterchange, 20}
	TA1InvalidGroupCount        = Code{LevelInterchange, 21}
	TA1InvalidControlStructure  = Code{LevelInterchange, 22}
	TA1PrematureEnd             = Code{LevelInterchange, 23}
	TA1InvalidContent           = Code{LevelInterchange, 24}
	TA1DuplicateControlNumber   = Code{LevelInterchange, 25}
	TA1InvalidElementSeparator  = Code{LevelInterchange, 26}
	TA1InvalidComponentSep      = Code{LevelInterchange, 27}
)

// AK9 functional group syntax error codes (AK905..AK909).
var (
	AK9GroupNotSupported      = Code{LevelGroup, 1}
	AK9VersionNotSupported    = Code{LevelGroup, 2}
	AK9TrailerMissing         = Code{LevelGroup, 3}
	AK9ControlNumberMismatch  = Code{LevelGroup, 4}
	AK9SetCountMismatch       = Code{LevelGroup, 5}
	AK9InvalidControlNumber   = Code{LevelGroup, 6}
	AK9DuplicateControlNumber = Code{LevelGroup, 19} // 5010 code; used only with RejectDuplicates
)

// AK5/IK5 transaction set syntax error codes (AK502..AK506).
var (
	AK5SetNotSupported        = Code{LevelSet, 1}
	AK5TrailerMissing         = Code{LevelSet, 2}
	AK5ControlNumberMismatch  = Code{LevelSet, 3}
	AK5SegmentCountMismatch   = Code{LevelSet, 4}
	AK5SegmentErrors          = Code{LevelSet, 5}
	AK5InvalidSetID           = Code{LevelSet, 6}
	AK5InvalidControlNumber   = Code{LevelSet, 7}
	AK5DuplicateControlNumber = Code{LevelSet, 23} // 5010 code; used only with RejectDuplicates
)

// AK3/IK3 segment syntax error codes (AK304).
var (
	AK3Unrecognized     = Code{LevelSegment, 1}
	AK3Unexpected       = Code{LevelSegment, 2}
	AK3MandatoryMissing = Code{LevelSegment, 3}
	AK3LoopOverMax      = Code{LevelSegment, 4}
	AK3ExceedsMaxUse    = Code{LevelSegment, 5}
	AK3NotInSet         = Code{LevelSegment, 6}
	AK3OutOfSequence    = Code{LevelSegment, 7}
	AK3HasElementErrors = Code{LevelSegment, 8}
)

// AK4/IK4 data element syntax error codes (AK403). TooManyRepetitions and
// TooManyComponents are 5010 codes: a 999 carries them as they are, a 997
// (whose 4010 code list ends at 10) reports them as 6, an invalid character
// (the separator) in the element.
var (
	AK4MandatoryMissing   = Code{LevelElement, 1}
	AK4ConditionalMissing = Code{LevelElement, 2}
	AK4TooManyElements    = Code{LevelElement, 3}
	AK4TooShort           = Code{LevelElement, 4}
	AK4TooLong            = Code{LevelElement, 5}
	AK4InvalidCharacter   = Code{LevelElement, 6}
	AK4InvalidCode        = Code{LevelElement, 7}
	AK4InvalidDate        = Code{LevelElement, 8}
	AK4InvalidTime        = Code{LevelElement, 9}
	AK4Exclusion          = Code{LevelElement, 10}
	AK4TooManyRepetitions = Code{LevelElement, 12}
	AK4TooManyComponents  = Code{LevelElement, 13}
)

// Sentinel errors for the classes of problems. Every *SyntaxError wraps
// exactly one of them, so errors.Is(err, x12.ErrEnvelope) sorts errors
// without parsing messages.
var (
	// ErrNoInterchange: the input does not start with an ISA segment, so
	// there is nothing to read (and nothing to acknowledge).
	ErrNoInterchange = errors.New("no X12 interchange")
	// ErrSeparators: the ISA segment does not yield usable separators.
	ErrSeparators = errors.New("invalid separators")
	// ErrInterchangeHeader: an ISA field is invalid; the interchange is
	// rejected with a TA1.
	ErrInterchangeHeader = errors.New("invalid interchange header")
	// ErrEnvelope: control numbers, counts, missing trailers and segments
	// outside their envelope (TA1 001/021-025, AK9, AK5 2-4, 6, 7).
	ErrEnvelope = errors.New("envelope error")
	// ErrStructure: a segment is unknown, out of place, missing or repeated
	// too often in its transaction set (AK3).
	ErrStructure = errors.New("segment structure error")
	// ErrElement: a data element is missing, too short or long, of the
	// wrong type or code (AK4).
	ErrElement = errors.New("data element error")
	// ErrLimit: a segment, element or set is larger than the configured
	// limit; reading stops there.
	ErrLimit = errors.New("size limit exceeded")
	// ErrUnsupported: a transaction set or version the decoder was told not
	// to accept (AK5 1, AK9 1/2).
	ErrUnsupported = errors.New("not supported")
	// ErrDuplicate: a control number repeats (only an error with
	// RejectDuplicates).
	ErrDuplicate = errors.New("duplicate control number")
	// ErrInterchangeRejected is in the Errors of every transaction set of
	// an interchange whose header was rejected.
	ErrInterchangeRejected = errors.New("interchange rejected")
	// ErrNothingToAcknowledge: the input has no interchange header that
	// could be read, so not even a TA1 can be written.
	ErrNothingToAcknowledge = errors.New("nothing to acknowledge")
)

// SyntaxError is one problem found in an X12 file, with where it is and
// the acknowledgement code it is reported with. Its message is
// "segment N (TAG) element M component C: message", the element and
// component parts present only when the problem is theirs.
type SyntaxError struct {
	Offset    int64  // byte offset of the segment in the file
	Segment   int    // ordinal of the segment in the file (ISA = 1)
	Tag       string // the segment's tag
	Element   int    // 1-based data element; 0 for the segment as a whole
	Component int    // 1-based component; 0 for the element as a whole
	Code      Code   // the acknowledgement code this problem is reported with
	Err       error  // the message; wraps one of the sentinel errors
}

func (e *SyntaxError) Error() string {
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return edi.Where(e.Segment, e.Tag, e.Element, e.Component) + ": " + msg
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// classed is a message that belongs to a class (a sentinel error): its
// text is the message alone, errors.Is finds the class.
type classed struct {
	class error
	msg   string
}

func (c *classed) Error() string { return c.msg }
func (c *classed) Unwrap() error { return c.class }

func errorf(class error, format string, args ...any) error {
	return &classed{class: class, msg: fmt.Sprintf(format, args...)}
}
