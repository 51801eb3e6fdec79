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

// RouteInfo describes one route of the UI: its method and pattern, the
// roles allowed (nil: public, no session needed) and whether it changes
// state (and so runs behind the cross-origin protection's check).
type RouteInfo struct {
	Method        string
	Path          string
	Roles         []string
	StateChanging bool
}

// Routes lists every route of the UI from the table the mux is built from,
// for tests and documentation.
func (u *UI) Routes() []RouteInfo {
	out := make([]RouteInfo, 0, len(u.routes))
	for _, rt := range u.routes {
		ri := RouteInfo{Method: rt.method, Path: rt.path, StateChanging: rt.stateChanging()}
		if rt.area != areaPublic {
			ri.Roles = slices.Clone(policy[rt.area])
		}
		out = append(out, ri)
	}
	return out
}
