package web

import "slices"

// The roles of UI users.
const (
	RoleAdmin    = "admin"
	RoleApprover = "approver"
	RoleDesk     = "desk"
)

// Roles lists every role, for validation and forms.
var Roles = []string{RoleAdmin, RoleApprover, RoleDesk}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

// area is what a route belongs to; the policy says which roles may use
// each area.
type area string

// The areas of the UI.
const (
	areaPublic    area = "public"    // no session needed (login, static files)
	areaSignedIn  area = "signed-in" // any signed-in user (dashboard, logout)
	areaDesk      area = "desk"      // the order desk
	areaReview    area = "review"    // the review queue of drafts
	areaApprovals area = "approvals" // deciding on held orders
	areaOrders    area = "orders"    // reading orders
	areaAdmin     area = "admin"     // users and the audit log
)

// policy is the one place that says which role may do what: admin
// everything; approver approvals and reading orders; desk the desk, the
// review queue and reading orders.
var policy = map[area][]string{
	areaSignedIn:  {RoleAdmin, RoleApprover, RoleDesk},
	areaDesk:      {RoleAdmin, RoleDesk},
	areaReview:    {RoleAdmin, RoleDesk},
	areaApprovals: {RoleAdmin, RoleApprover},
	areaOrders:    {RoleAdmin, RoleApprover, RoleDesk},
	areaAdmin:     {RoleAdmin},
}

// allowed reports whether role may use routes of area a.
func allowed(a area, role string) bool {
	if a == areaPublic {
		return true
	}
	return slices.Contains(policy[a], role)
}
