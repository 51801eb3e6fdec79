package rules

import (
	"github.com/govalues/decimal"
)

// PricePolicy says what happens to a line whose price is outside the
// tolerance.
type PricePolicy string

// The price policies.
const (
	PriceHold    PricePolicy = "hold"    // hold the order (the default)
	PriceNote    PricePolicy = "note"    // accept the sender's price, with a note
	PriceCorrect PricePolicy = "correct" // correct to the contract or list price
)

// ItemPolicy says what happens to a line with an unknown item or a
// quantity below the minimum order quantity or not a multiple of the pack
// size.
type ItemPolicy string

// The item policies.
const (
	ItemHold   ItemPolicy = "hold"   // hold the order (the default)
	ItemAdjust ItemPolicy = "adjust" // raise the quantity to the MOQ and the next pack multiple; unknown items hold
	ItemReject ItemPolicy = "reject" // reject the line, accept the rest
)

// DuplicatePolicy says what happens to an order whose customer and PO
// number match an earlier order.
type DuplicatePolicy string

// The duplicate policies.
const (
	DuplicateHold   DuplicatePolicy = "hold"         // hold as a duplicate (the default)
	DuplicateReject DuplicatePolicy = "reject"       // reject, and tell the sender
	DuplicateDrop   DuplicatePolicy = "ack-and-drop" // acknowledge, do nothing further
	DuplicateChange DuplicatePolicy = "change"       // different content replaces the earlier order; same content is dropped
)

// Config is the rules' configuration with every per-partner policy already
// resolved for the order's partner. The zero Config checks items and
// duplicates (both hold) and nothing else.
type Config struct {
	// CreditLimit turns the credit limit rule on.
	CreditLimit bool `json:"credit_limit"`
	// PriceTolerance is the allowed deviation from the contract or list
	// price in percent (0.5 for 0.5%); nil: no price check (missing
	// prices are still filled from the price facts).
	PriceTolerance  *decimal.Decimal `json:"price_tolerance,omitempty"`
	PricePolicy     PricePolicy      `json:"price_policy,omitempty"`
	ItemPolicy      ItemPolicy       `json:"item_policy,omitempty"`
	DuplicatePolicy DuplicatePolicy  `json:"duplicate_policy,omitempty"`
	Notes           NotesConfig      `json:"notes"`
	Approvals       []Approval       `json:"approvals,omitempty"`
	// HoldRoles names the role that clears holds of a rule other than
	// approval, by rule name (e.g. "credit_limit": "credit-control").
	// Unlisted rules: DefaultHoldRole, and "sales-rep" for notes.
	HoldRoles map[string]string `json:"hold_roles,omitempty"`
	// NoCustomerCheck turns the customer rule off: an order whose
	// customer is not in master data is not held for that (a gateway
	// without customer master data). A blocked known customer is still
	// held.
	NoCustomerCheck bool `json:"no_customer_check,omitempty"`
	// NoItemCheck turns the item rule off (no product master data):
	// items, units, MOQ and pack sizes are not checked.
	NoItemCheck bool `json:"no_item_check,omitempty"`
}

// NotesConfig is the notes rule: free text on the order becomes a task for
// the customer's sales rep; with Wait the order is held until the rep
// releases it.
type NotesConfig struct {
	Enabled bool `json:"enabled"`
	Wait    bool `json:"wait"`
}

// Approval holds orders for which When is true until Role approves, or each
// role of Levels in turn. Exactly one of Role and Levels is given.
type Approval struct {
	Name   string   `json:"name"`
	When   string   `json:"when"`
	Role   string   `json:"role,omitempty"`
	Levels []string `json:"levels,omitempty"`
}

// DefaultHoldRole clears holds of rules not named in Config.HoldRoles.
const DefaultHoldRole = "approver"

// DefaultNotesRole clears a notes hold (the order waits for the sales rep)
// unless Config.HoldRoles names another.
const DefaultNotesRole = "sales-rep"

// levels returns the approval's roles in order.
func (a Approval) levels() []string {
	if len(a.Levels) > 0 {
		return a.Levels
	}
	return []string{a.Role}
}

// holdRole returns the role that clears a hold of rule.
func (c *Config) holdRole(rule string) string {
	if r := c.HoldRoles[rule]; r != "" {
		return r
	}
	if rule == RuleNotes {
		return DefaultNotesRole
	}
	return DefaultHoldRole
}
