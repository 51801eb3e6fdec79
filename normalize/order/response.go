package order

import "github.com/govalues/decimal"

// ResponseStatus is the supplier's answer to a whole order or one line.
type ResponseStatus string

// The answers an order response (X12 855, EDIFACT ORDRSP, e-mail) gives.
const (
	// ResponseAccepted: accepted as ordered.
	ResponseAccepted ResponseStatus = "accepted"
	// ResponseChanged: accepted with changes to quantity, price or date.
	ResponseChanged ResponseStatus = "changed"
	// ResponseBackordered: accepted, delivered later.
	ResponseBackordered ResponseStatus = "backordered"
	// ResponseRejected: not accepted.
	ResponseRejected ResponseStatus = "rejected"
)

// Response is the decision on an order as the sender is told it: the
// order's status and, per line, what is accepted, changed or rejected. The
// 855 and ORDRSP writers build their messages from an Order and its
// Response.
type Response struct {
	Status ResponseStatus `json:"status"`
	Date   Date           `json:"date,omitzero"`
	Lines  []LineResponse `json:"lines,omitempty"`
	Notes  []string       `json:"notes,omitempty"`
}

// LineResponse is the decision on one line, matched to the order's line by
// LineNo. Quantity, UnitPrice and Delivery carry the confirmed values where
// they differ from the order (nil or zero when unchanged).
//
// Delivery is zero in every response the gateway makes today: no rule
// changes a line's date (they check credit, prices, items, duplicates and
// notes, with no lead times or delivery calendars to confirm a date
// against), and an approver approves or rejects a held order as a whole,
// without editing its lines. The 855 and ORDRSP writers
// carry it (855 ACK04 068/ACK05, ORDRSP DTM+2 per line) for the day a rule
// or a person confirms another date.
type LineResponse struct {
	LineNo    string           `json:"line_no"`
	Status    ResponseStatus   `json:"status"`
	Quantity  *decimal.Decimal `json:"quantity,omitempty"`
	Unit      string           `json:"unit,omitempty"`
	UnitPrice *decimal.Decimal `json:"unit_price,omitempty"`
	Delivery  Date             `json:"delivery,omitzero"`
	Reason    string           `json:"reason,omitempty"`
}
