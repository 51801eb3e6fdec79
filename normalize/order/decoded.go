package order

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Decoded returns the order json.Unmarshal gives for data, data being the
// JSON of o (json.Marshal(o)), mostly without decoding data: a copy of o
// with its provenance as its JSON brings it back (sorted by path, one
// entry per path). Only when o holds what its JSON does not bring back as
// it is (an empty list or map that JSON omits, which decodes as nil; a
// string that is not valid UTF-8, whose bad bytes JSON writes as U+FFFD)
// is data decoded.
//
// It is the cheap path for a stage that stored o and goes on with the
// order as stored. The copy shares o's lines, parties and other lists,
// maps and pointers: change neither in place afterwards.
func Decoded(o *Order, data []byte) (*Order, error) {
	if o.omitsEmpty() || bytes.Contains(data, []byte(`\ufffd`)) {
		// encoding/json (and Provenance) write \ufffd only for bytes that
		// are not UTF-8; a string with the six characters \ufffd has them
		// as \\ufffd, which needlessly lands here too.
		var d Order
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decoding order %s: %w", o.ID, err)
		}
		return &d, nil
	}
	c := *o
	c.Provenance = nil
	if len(o.Provenance) > 0 {
		c.Provenance = o.Provenance.sorted()
	}
	return &c, nil
}

// omitsEmpty reports whether o has an empty but non-nil list or map that
// its JSON omits (omitempty), so that decoding gives nil instead.
func (o *Order) omitsEmpty() bool {
	if emptyNotNil(o.Notes) || emptyNotNil(o.References) || emptyNotNil(o.Parties) || emptyNotNil(o.Holds) ||
		emptyNotNil(o.Unresolved) || emptyNotNil(o.Provenance) ||
		(o.Confidence != nil && len(o.Confidence) == 0) || (o.Boxes != nil && len(o.Boxes) == 0) {
		return true
	}
	for i := range o.Parties {
		if a := o.Parties[i].Address; a != nil && emptyNotNil(a.Lines) {
			return true
		}
	}
	for i := range o.Lines {
		if emptyNotNil(o.Lines[i].Notes) || emptyNotNil(o.Lines[i].References) {
			return true
		}
	}
	return false
}

func emptyNotNil[S ~[]E, E any](s S) bool { return s != nil && len(s) == 0 }
