package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ApprovalStatus is where a held order's approvals stand.
type ApprovalStatus string

// The approval statuses.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved" // every level of every hold approved: the order goes on
	ApprovalRejected ApprovalStatus = "rejected" // rejected at some level: the order is rejected
)

// Errors of Approve and Reject.
var (
	ErrDecided   = errors.New("the approvals are already decided")
	ErrWrongRole = errors.New("no hold waits for this role")
	ErrSameUser  = errors.New("the same user cannot approve two levels of one hold")
	ErrNoUser    = errors.New("no user given")
)

// ApprovalState is the approval of one held order: every hold of the
// decision is a chain of roles that must approve in order, and the audit
// trail of who did what. A credit, price, item, duplicate or customer hold
// is a chain of one level whose role is Config.HoldRoles[rule] (default
// "approver"); a notes hold's role defaults to "sales-rep"; an approval
// hold's chain is its levels. One Approve by a role advances every hold
// whose next level is that role, so a sales manager clears a credit hold
// and the first level of an approval at once when both wait for
// "sales-manager". The order goes on when every chain is complete; one
// Reject by any awaited role ends it. The state is plain data: store it as
// JSON and pass it back.
type ApprovalState struct {
	Status ApprovalStatus  `json:"status"`
	Holds  []HoldApproval  `json:"holds"`
	Trail  []ApprovalEntry `json:"trail,omitempty"`
}

// HoldApproval is one hold's chain of levels and who approved which.
type HoldApproval struct {
	Hold       string   `json:"hold"` // Hold.Label()
	Rule       string   `json:"rule"`
	Reason     string   `json:"reason"`
	Levels     []string `json:"levels"`
	ApprovedBy []string `json:"approved_by,omitempty"` // the user of each approved level, in order
}

// Next returns the role the hold waits for, or "" when it is approved.
func (h HoldApproval) Next() string {
	if len(h.ApprovedBy) >= len(h.Levels) {
		return ""
	}
	return h.Levels[len(h.ApprovedBy)]
}

// Approval actions in the audit trail.
const (
	ActionApprove = "approve"
	ActionReject  = "reject"
)

// ApprovalEntry is one human action on the order's approvals.
type ApprovalEntry struct {
	Action  string    `json:"action"`
	Role    string    `json:"role"`
	User    string    `json:"user"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
	// Holds are the holds the action applied to, each with its level:
	// "approval:large-order level 1 of 2".
	Holds []string `json:"holds"`
	// Override: an administrator decided in place of the roles the holds
	// wait for (Override); Role is then RoleOverride.
	Override bool `json:"override,omitempty"`
}

// RoleOverride is the role of an administrator's override in the trail.
const RoleOverride = "admin"

// NewApprovalState returns the pending approval of holds (approved at once
// when there are none). Holds from Decide carry their levels.
func NewApprovalState(holds []Hold) ApprovalState {
	s := ApprovalState{Status: ApprovalPending}
	for _, h := range holds {
		levels := h.Levels
		if len(levels) == 0 {
			levels = []string{DefaultHoldRole}
		}
		s.Holds = append(s.Holds, HoldApproval{Hold: h.Label(), Rule: h.Rule, Reason: h.Reason, Levels: slices.Clone(levels)})
	}
	if len(s.Holds) == 0 {
		s.Status = ApprovalApproved
	}
	return s
}

// PendingRoles returns the roles some hold waits for now, without
// repeats, in the order of the holds.
func (s ApprovalState) PendingRoles() []string {
	if s.Status != ApprovalPending {
		return nil
	}
	var roles []string
	for _, h := range s.Holds {
		if r := h.Next(); r != "" && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles
}

// clone returns a deep copy, so that Approve and Reject leave their
// argument alone.
func (s ApprovalState) clone() ApprovalState {
	c := ApprovalState{Status: s.Status, Holds: make([]HoldApproval, len(s.Holds)), Trail: slices.Clone(s.Trail)}
	for i, h := range s.Holds {
		h.Levels = slices.Clone(h.Levels)
		h.ApprovedBy = slices.Clone(h.ApprovedBy)
		c.Holds[i] = h
	}
	return c
}

// awaiting returns the indices of the holds whose next level is role.
func (s ApprovalState) awaiting(role string) []int {
	var idx []int
	for i, h := range s.Holds {
		if h.Next() == role {
			idx = append(idx, i)
		}
	}
	return idx
}

func (s ApprovalState) check(role, user string) ([]int, error) {
	if s.Status != ApprovalPending {
		return nil, fmt.Errorf("%w: %s", ErrDecided, s.Status)
	}
	if strings.TrimSpace(user) == "" {
		return nil, ErrNoUser
	}
	idx := s.awaiting(role)
	if role == "" || len(idx) == 0 {
		return nil, fmt.Errorf("%w: %q; waiting for %s", ErrWrongRole, role, strings.Join(s.PendingRoles(), ", "))
	}
	return idx, nil
}

func levelLabel(h HoldApproval) string {
	return fmt.Sprintf("%s level %d of %d", h.Hold, len(h.ApprovedBy)+1, len(h.Levels))
}

// Approve records user's approval in role: every hold whose next level is
// role advances one level. It fails with ErrWrongRole when no hold waits
// for role (a later level approving first, or a role not involved), with
// ErrSameUser when user already approved an earlier level of one of those
// holds, and with ErrDecided once the state is approved or rejected. The
// state passed in is not changed.
func Approve(s ApprovalState, role, user, comment string, now time.Time) (ApprovalState, error) {
	idx, err := s.check(role, user)
	if err != nil {
		return s, fmt.Errorf("approving as %s: %w", role, err)
	}
	for _, i := range idx {
		if slices.Contains(s.Holds[i].ApprovedBy, user) {
			return s, fmt.Errorf("approving %s as %s: %w: %s", s.Holds[i].Hold, role, ErrSameUser, user)
		}
	}
	c := s.clone()
	e := ApprovalEntry{Action: ActionApprove, Role: role, User: user, Comment: comment, At: now}
	for _, i := range idx {
		e.Holds = append(e.Holds, levelLabel(c.Holds[i]))
		c.Holds[i].ApprovedBy = append(c.Holds[i].ApprovedBy, user)
	}
	c.Trail = append(c.Trail, e)
	done := true
	for _, h := range c.Holds {
		done = done && h.Next() == ""
	}
	if done {
		c.Status = ApprovalApproved
	}
	return c, nil
}

// Reject records user's rejection in role, which ends the approval: the
// order is rejected. Only a role some hold waits for may reject. The state
// passed in is not changed.
func Reject(s ApprovalState, role, user, comment string, now time.Time) (ApprovalState, error) {
	idx, err := s.check(role, user)
	if err != nil {
		return s, fmt.Errorf("rejecting as %s: %w", role, err)
	}
	c := s.clone()
	e := ApprovalEntry{Action: ActionReject, Role: role, User: user, Comment: comment, At: now}
	for _, i := range idx {
		e.Holds = append(e.Holds, levelLabel(c.Holds[i]))
	}
	c.Trail = append(c.Trail, e)
	c.Status = ApprovalRejected
	return c, nil
}

// Override records an administrator's decision in place of the roles the
// holds wait for: approve clears every remaining level of every hold (the
// order goes on), reject rejects the order. The trail marks it as an
// override. It fails with ErrDecided once the state is decided and with
// ErrNoUser without a user. The state passed in is not changed.
func Override(s ApprovalState, approve bool, user, comment string, now time.Time) (ApprovalState, error) {
	if s.Status != ApprovalPending {
		return s, fmt.Errorf("overriding: %w: %s", ErrDecided, s.Status)
	}
	if strings.TrimSpace(user) == "" {
		return s, fmt.Errorf("overriding: %w", ErrNoUser)
	}
	c := s.clone()
	e := ApprovalEntry{Action: ActionReject, Role: RoleOverride, User: user, Comment: comment, At: now, Override: true}
	for i, h := range c.Holds {
		if h.Next() == "" {
			continue
		}
		e.Holds = append(e.Holds, levelLabel(h))
		if approve {
			for c.Holds[i].Next() != "" {
				c.Holds[i].ApprovedBy = append(c.Holds[i].ApprovedBy, user)
			}
		}
	}
	c.Status = ApprovalRejected
	if approve {
		e.Action, c.Status = ActionApprove, ApprovalApproved
	}
	c.Trail = append(c.Trail, e)
	return c, nil
}
