package edifact

import (
	"errors"
	"fmt"
	"github.com/ordergate/ordergate/edi"
)

// ErrorCode is a UN/EDIFACT syntax error code (data element 0085), the
// code a CONTRL reports for an interchange, group, message, segment or
// element in error.
type ErrorCode int

// The 0085 codes this package reports.
const (
	CodeNone                    ErrorCode = 0
	CodeSyntaxLevel             ErrorCode = 2  // syntax version or level not supported
	CodeInvalidValue            ErrorCode = 12 // invalid value
	CodeMissing                 ErrorCode = 13 // missing
	CodeValueNotSupported       ErrorCode = 14 // value not supported in this position
	CodeNotSupported            ErrorCode = 15 // not supported in this position
	CodeTooManyConstituents     ErrorCode = 16 // too many constituents
	CodeUnspecified             ErrorCode = 18 // unspecified error
	CodeInvalidDecimal          ErrorCode = 19 // invalid decimal notation
	CodeInvalidCharacter        ErrorCode = 21 // invalid character(s)
	CodeInvalidServiceCharacter ErrorCode = 22 // invalid service character(s)
	CodeUnknownSender           ErrorCode = 23 // unknown interchange sender
	CodeDuplicate               ErrorCode = 26 // duplicate detected
	CodeReferencesMismatch      ErrorCode = 28 // references do not match
	CodeCountMismatch           ErrorCode = 29 // control count does not match number of instances received
	CodeLowerLevelEmpty         ErrorCode = 32 // lower level empty
	CodeTooManyRepetitions      ErrorCode = 35 // too many repetitions
	CodeTooManyGroupRepetitions ErrorCode = 36 // too many segment group repetitions
	CodeInvalidCharType         ErrorCode = 37 // invalid type of character(s)
	CodeTooLong                 ErrorCode = 39 // data element too long
	CodeTooShort                ErrorCode = 40 // data element too short
)

var codeNames = map[ErrorCode]string{
	CodeSyntaxLevel:             "syntax version or level not supported",
	CodeInvalidValue:            "invalid value",
	CodeMissing:                 "missing",
	CodeValueNotSupported:       "value not supported in this position",
	CodeNotSupported:            "not supported in this position",
	CodeTooManyConstituents:     "too many constituents",
	CodeUnspecified:             "unspecified error",
	CodeInvalidDecimal:          "invalid decimal notation",
	CodeInvalidCharacter:        "invalid character",
	CodeInvalidServiceCharacter: "invalid service character",
	CodeUnknownSender:           "unknown interchange sender",
	CodeDuplicate:               "duplicate detected",
	CodeReferencesMismatch:      "references do not match",
	CodeCountMismatch:           "control count does not match",
	CodeLowerLevelEmpty:         "lower level empty",
	CodeTooManyRepetitions:      "too many repetitions",
	CodeTooManyGroupRepetitions: "too many segment group repetitions",
	CodeInvalidCharType:         "invalid type of characters",
	CodeTooLong:                 "data element too long",
	CodeTooShort:                "data element too short",
}

// String returns the code's meaning, such as "references do not match".
func (c ErrorCode) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("code %d", int(c))
}

// Sentinel errors for the classes of problems; a SyntaxError's Err wraps
// one of them where it applies, so callers can test with errors.Is.
var (
	// ErrEnvelope marks problems of the service segments UNA, UNB/UNZ,
	// UNG/UNE and UNH/UNT.
	ErrEnvelope = errors.New("envelope error")
	// ErrCharset marks a character the interchange's syntax level cannot
	// carry, or bytes that are not valid in its character encoding.
	ErrCharset = errors.New("character set error")
	// ErrDictionary marks a violation of the message's directory: an
	// unexpected or missing segment, a bad element value.
	ErrDictionary = errors.New("dictionary error")
	// ErrLimit marks input beyond the reader's configured limits.
	ErrLimit = errors.New("limit exceeded")
	// ErrInterchangeRejected marks a message rejected because its
	// interchange or group header was rejected.
	ErrInterchangeRejected = errors.New("interchange rejected")
	// ErrUnrepresentable is returned by the Writer for a value the
	// interchange's syntax level cannot carry.
	ErrUnrepresentable = errors.New("character not representable in the syntax level")
)

// SyntaxError is a positioned problem found in an EDIFACT interchange.
// Its message has the form "segment N (TAG) element M component C:
// message", element and component omitted where the problem is not
// theirs. Segment is the 1-based ordinal of the segment in the file (UNA
// counts), InMessage its position in its message (UNH = 1; 0 outside a
// message), which is what a CONTRL's UCS reports.
type SyntaxError struct {
	Offset    int64     // byte offset of the segment's tag in the file
	Segment   int       // ordinal of the segment in the file, from 1
	InMessage int       // position in the message, UNH = 1; 0 outside
	Tag       string    // segment tag
	Element   int       // 1-based data element; 0 for the segment as a whole
	Component int       // 1-based component; 0 for the element as a whole
	Code      ErrorCode // 0085 code for the CONTRL
	Err       error
}

func (e *SyntaxError) Error() string {
	msg := e.Code.String()
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return edi.Where(e.Segment, e.Tag, e.Element, e.Component) + ": " + msg
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// classed wraps msg with a sentinel class so errors.Is works while the
// message stays readable ("missing UNZ" rather than "envelope error:
// missing UNZ").
type classed struct {
	class error
	msg   string
}

func (c *classed) Error() string { return c.msg }
func (c *classed) Unwrap() error { return c.class }

func classErr(class error, format string, args ...any) error {
	return &classed{class: class, msg: fmt.Sprintf(format, args...)}
}
