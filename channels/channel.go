package channels

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the contract.
var (
	// ErrNotConnected: the source is not connected (before Connect, after
	// Close, or the connection was lost). The caller may Connect again.
	ErrNotConnected = errors.New("channel not connected")
	// ErrEndOfInput: the source has a logical end and reached it; no more
	// documents will come.
	ErrEndOfInput = errors.New("end of input")
	// ErrTooLarge: a document is larger than the configured limit.
	ErrTooLarge = errors.New("document too large")
	// ErrInvalidName: a name is not one safe path element.
	ErrInvalidName = errors.New("invalid name")
)

// Document is one inbound document as a channel hands it to intake.
type Document struct {
	// Channel is the name of the channel that read the document.
	Channel string
	// SourceKey identifies the document at its source, stably: reading the
	// same document again (after a crash before the ack) gives the same
	// key; a different document (a file re-dropped under the same name
	// with new content) gives a different key. Unique within Channel.
	SourceKey string
	// Name is the file or attachment name as sent, sanitised with
	// SanitizeName: one path element, valid UTF-8, no control characters.
	Name string
	// Body holds the bytes. The receiver owns it and must Close it.
	Body *Body
	// SHA256 is the hash of Body, computed while reading it.
	SHA256 [32]byte
	// Meta carries channel-specific facts (remote path, mtime, sender,
	// subject). Keys are lower_snake_case.
	Meta map[string]string
	// Received is when the channel read the document.
	Received time.Time
	// Err is non-nil when the channel could not take the document's bytes
	// (an error wrapping ErrTooLarge). Body is then empty and SHA256 zero;
	// the receiver records a rejection and acks with Rejected.
	Err error
}

// Size returns the length of the document's body.
func (d Document) Size() int64 { return d.Body.Size() }

// Outcome is what the receiver did with a document.
type Outcome uint8

// The outcomes an AckFunc reports.
const (
	// OutcomeCommitted: the document is durably stored; dispose of it.
	OutcomeCommitted Outcome = iota + 1
	// OutcomeRejected: a rejection is durably recorded; move the document
	// aside with the reason.
	OutcomeRejected
	// OutcomeRetry: nothing was stored; offer the document again.
	OutcomeRetry
)

// String returns the outcome's lower-case name.
func (o Outcome) String() string {
	switch o {
	case OutcomeCommitted:
		return "committed"
	case OutcomeRejected:
		return "rejected"
	case OutcomeRetry:
		return "retry"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Result is the argument of an AckFunc: an outcome and, for a rejection,
// its reason.
type Result struct {
	Outcome Outcome
	Reason  string
}

// Committed is the Result for a document intake has stored.
func Committed() Result { return Result{Outcome: OutcomeCommitted} }

// Rejected is the Result for a document whose rejection intake has recorded.
func Rejected(reason string) Result { return Result{Outcome: OutcomeRejected, Reason: reason} }

// Retry is the Result for a document intake did not store.
func Retry() Result { return Result{Outcome: OutcomeRetry} }

// Validate reports whether r is one of the three results.
func (r Result) Validate() error {
	switch r.Outcome {
	case OutcomeCommitted, OutcomeRejected, OutcomeRetry:
		return nil
	}
	return fmt.Errorf("invalid ack result %v", r.Outcome)
}

// AckFunc tells the source what became of a document. It is called only
// after intake's commit. Calling it again after a call that returned nil
// does nothing and returns nil; after a call that returned an error it
// tries again. It returns an error wrapping ErrNotConnected when the source
// was closed or reconnected since the document was read (the document is
// then read again, and dedupe absorbs it).
type AckFunc func(ctx context.Context, r Result) error

// Source is an inbound channel.
type Source interface {
	// Connect opens the source. Calling it on a connected source does
	// nothing. After Close it connects again; documents read and not
	// acked before are offered again.
	Connect(ctx context.Context) error
	// Read blocks until a document is ready, ctx ends (ctx.Err() is
	// returned), or the source is closed (ErrNotConnected). Documents not
	// acked yet are not returned again until they are acked with Retry or
	// the source reconnects.
	Read(ctx context.Context) (Document, AckFunc, error)
	// Close disconnects the source, unblocking Read. It is idempotent.
	Close(ctx context.Context) error
}

// Outbound is where files for a partner go: acknowledgements, order
// responses.
type Outbound interface {
	// Send delivers body under name. It is idempotent by name: sending the
	// same name again does not create a second file. name must be one safe
	// path element (else an error wrapping ErrInvalidName).
	Send(ctx context.Context, name string, body []byte) error
}
