package rules

import "github.com/ordergate/ordergate/normalize/order"

// Outcome is what happens to the order.
type Outcome string

// The outcomes.
const (
	OutcomeAccept Outcome = "accept" // goes on to routing
	OutcomeHold   Outcome = "hold"   // waits for people: see Holds and NewApprovalState
	OutcomeReject Outcome = "reject" // the sender is told no: see Rejections
	OutcomeDrop   Outcome = "drop"   // an identical duplicate: acknowledged, nothing else
)

// Rule names, as they appear in Hold.Rule and on the order's holds.
const (
	RuleCustomer    = "customer"     // unknown or blocked customer
	RuleCreditLimit = "credit_limit" // exposure over the credit limit
	RuleApproval    = "approval"     // an approval's when matched
	RulePrice       = "price"        // price outside tolerance, missing or not comparable
	RuleItem        = "item"         // unknown item, unit, MOQ, pack size, quantity
	RuleDuplicate   = "duplicate"    // same customer and PO number as an earlier order
	RuleNotes       = "notes"        // free text the sales rep reads before the order goes on
)

// Hold is one rule's finding that stops the order (or, in
// Decision.Rejections, rejects it): the rule, a sentence for people, the
// numbers behind it as exact decimal strings, the line it is about and the
// roles that must approve, in order.
type Hold struct {
	Rule     string            `json:"rule"`
	Approval string            `json:"approval,omitempty"` // the approval's name for RuleApproval
	Reason   string            `json:"reason"`
	Numbers  map[string]string `json:"numbers,omitempty"`
	Line     int               `json:"line"` // index into the input order's Lines; -1: the whole order
	LineNo   string            `json:"line_no,omitempty"`
	Levels   []string          `json:"levels,omitempty"`
}

// Label names the hold for people and audit entries: the rule, and the
// approval's name or the line number.
func (h Hold) Label() string {
	switch {
	case h.Approval != "":
		return h.Rule + ":" + h.Approval
	case h.Line >= 0:
		return h.Rule + ":line " + h.LineNo
	}
	return h.Rule
}

// LineChange is a change the rules made to the order: a line's field
// (unit_price, quantity), a line removed (field "line", To "rejected"), or
// with Line -1 the order's purpose.
type LineChange struct {
	Line   int    `json:"line"` // index into the input order's Lines; -1: the order
	LineNo string `json:"line_no,omitempty"`
	Field  string `json:"field"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Task is work for the customer's sales rep: an e-mail and an entry in the
// UI. With Wait the order is held (RuleNotes) until the rep releases it.
type Task struct {
	SalesRep string `json:"sales_rep"`
	Email    string `json:"email"`
	Text     string `json:"text"`
	Wait     bool   `json:"wait"`
}

// Decision is the rules' verdict on an order.
type Decision struct {
	Outcome Outcome `json:"outcome"`
	// Holds stop the order until every one is cleared (NewApprovalState).
	Holds []Hold `json:"holds,omitempty"`
	// Rejections say why the order is rejected (Outcome reject) or
	// dropped (Outcome drop).
	Rejections []Hold `json:"rejections,omitempty"`
	// Changes were applied to Order.
	Changes []LineChange `json:"changes,omitempty"`
	// Notes are findings accepted with a note (price policy note), for
	// the order's timeline.
	Notes []string `json:"notes,omitempty"`
	Tasks []Task   `json:"tasks,omitempty"`
	// Replaces is the earlier order this one replaces (duplicate policy
	// change).
	Replaces string `json:"replaces,omitempty"`
	// Order is a copy of the input with Changes applied, rejected lines
	// removed, Status and Holds set. Its Lines, Notes and Holds slices
	// are its own; other reference fields share memory with the input.
	Order *order.Order `json:"order"`
	// Response is the answer for the sender: for accept and reject as it
	// is, for hold the answer once every hold is cleared (use
	// RejectedResponse if an approver rejects); nil for drop.
	Response *order.Response `json:"response,omitempty"`
}

// OrderHolds returns holds in the order JSON's form: the rule and the
// reason (which names the approval and the line).
func OrderHolds(holds []Hold) []order.Hold {
	if len(holds) == 0 {
		return nil
	}
	out := make([]order.Hold, len(holds))
	for i, h := range holds {
		out[i] = order.Hold{Rule: h.Rule, Reason: h.Reason}
	}
	return out
}

// RejectedResponse returns the answer for an order rejected as a whole,
// e.g. by an approver: every line rejected with the reason.
func RejectedResponse(o *order.Order, reason string, date order.Date) *order.Response {
	r := &order.Response{Status: order.ResponseRejected, Date: date}
	for _, l := range o.Lines {
		r.Lines = append(r.Lines, order.LineResponse{LineNo: l.LineNo, Status: order.ResponseRejected, Reason: reason})
	}
	if reason != "" {
		r.Notes = []string{reason}
	}
	return r
}
